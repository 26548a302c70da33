"""The public work-item API: `/api/v1/public/workItem/...` and its sub-resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify

from ..kernel.binding import Fields
from ..kernel.errors import invalid, not_found
from .common import READ_WORK, answers, body, bool_arg, caller, changes, int_arg, table_blueprint

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..identity import Identity
    from ..query import Queries
    from ..solution.worktypes import WorkTypes
    from ..workitems import WorkItems

V1 = "/api/v1/public/workItem"
V2 = "/api/v2/public/workItem"


def blueprint(workitems: WorkItems, queries: Queries, identity: Identity, worktypes: WorkTypes) -> Blueprint:
    """The work-item routes over `workitems`, `queries` (findByQuery), `identity` (the caller's permissions on an
    item) and `worktypes` (the solution's work types: the phases a feature is on in)."""

    def item_json(item_id: str) -> dict:
        return workitems.to_json(workitems.get(item_id))

    def phase_json(item_id: str) -> dict:
        return workitems.phase_info(workitems.get(item_id))

    # Routes that read or change one thing as the area says: the permission check, the body and the JSON are
    # the route table's (emulator/api/common.py). Internal routes are those the official mobile app calls
    # (sharedo-sample-mobile-app `tasksAgent.js`, `workItemsAgent.js`); their shapes beyond the keys the app
    # reads are [inferred]; `phase/jumpTo` is an administrator's jump past the transition rules, as workflow
    # actions call it (body [inferred]).
    bp = table_blueprint(
        "workitems",
        __name__,
        [
            (f"GET {V1}/<id:item_id>", "get", answers(READ_WORK, item_json)),
            (f"PUT {V1}/<id:item_id>", "update", changes(lambda i, b, p: workitems.to_json(workitems.update(i, b, p)))),
            (f"GET {V1}/<item_id>/phase", "get_phase", answers(READ_WORK, phase_json)),
            (f"PUT {V1}/<item_id>/phase", "change_phase", changes(workitems.change_phase)),
            (f"GET {V1}/<item_id>/attributes", "attributes", answers(READ_WORK, workitems.attributes)),
            (f"POST {V1}/<item_id>/comments", "add_comment", changes(workitems.add_comment, 201)),
            (
                (f"GET {V2}/<item_id>/participants", f"GET {V1}/<item_id>/participants"),
                "participants",
                answers(READ_WORK, workitems.participants),
            ),
            (f"POST {V2}/<item_id>/participants", "add_participant", changes(workitems.add_participant, 201)),
            ("GET /api/v2/public/types/tree", "types_tree", answers(READ_WORK, workitems.types_tree)),
            ("GET /api/tasks/<item_id>", "task", answers(READ_WORK, workitems.task)),
            ("POST /api/sharedo/<item_id>/phase/jumpTo", "jump_to_phase", changes(workitems.jump_to)),
            (
                "POST /api/aspects/sharedos/<item_id>",
                "save_aspects",
                changes(lambda i, b, p: workitems.to_json(workitems.save_aspects(i, b, p))),
            ),
        ],
    )

    @bp.post(V1)
    def create():
        item = workitems.create(body(), caller())
        return jsonify(workitems.to_json(item)), 201

    @bp.post(f"{V1}/findByQuery")
    def find_by_query():
        principal = caller(READ_WORK)
        user_id = principal.user.get("id") if principal.user else None  # "my" scope without ownerIds
        return jsonify(queries.find_by_query(body(), user_id))

    @bp.route(f"{V1}/<item_id>/attributes", methods=["POST", "PUT"])
    def set_attributes(item_id: str):
        """A map of name → string (or null to clear), as third-party workflows send it."""
        data = body()
        if not isinstance(data, dict):  # `null` too: Fields would read it as an empty object
            raise invalid("(body)", "expected an object of attribute name → string value (or null to clear)")
        return jsonify(workitems.set_attributes(item_id, data, caller()))

    @bp.get(f"{V1}/<item_id>/attributes/<name>")
    def attribute(item_id: str, name: str):
        caller(READ_WORK)
        return jsonify({"name": name, "value": workitems.attribute(item_id, name)})

    @bp.post(f"{V1}/<item_id>/attributes/<name>")
    def set_attribute(item_id: str, name: str):
        """`{value: "<string>"}`; `{value: null}` clears it."""
        f = Fields(body())
        if not f.has("value"):
            f.error("value", "required (a string, or null to clear)")
        f.raise_if_errors()
        attrs = workitems.set_attributes(item_id, {name: f.raw("value")}, caller())
        return jsonify({"name": name, "value": attrs.get(name)})

    @bp.get(f"{V1}/<item_id>/comments")
    def comments(item_id: str):
        caller(READ_WORK)
        return jsonify(workitems.comments(item_id, int_arg("startPage", 1), int_arg("rowsPerPage", 20, maximum=1000)))

    @bp.get(f"{V1}/<item_id>/chronology")
    def chronology(item_id: str):
        caller(READ_WORK)
        int_arg("endPage", 1)
        bool_arg("includeCaseOnlyParticipant")
        return jsonify(
            workitems.chronology(
                item_id, int_arg("startPage", 1), int_arg("rowsPerPage", 50, maximum=1000), bool_arg("includeChildren")
            )
        )

    @bp.delete(f"{V2}/<item_id>/participants/<participant_id>")
    def remove_participant(item_id: str, participant_id: str):
        workitems.remove_participant(item_id, participant_id, caller())
        return "", 204

    @bp.post("/api/tasks/<item_id>/takeownership")
    def take_ownership(item_id: str):
        return jsonify(workitems.take_ownership(item_id, caller()))

    @bp.get("/api/sharedo/<item_id>/mySharedoPermissions")
    def my_permissions(item_id: str):
        """The caller's permissions on one work item as `[name]`; the app checks `core.sharedo.update` and
        `core.sharedo.progress.milestone` in it. The emulator grants per caller, not per item [inferred]."""
        principal = caller(READ_WORK)
        workitems.get(item_id)
        return jsonify(identity.user_info(principal)["globalPermissions"])

    @bp.get("/api/featureframework/flags/<feature>/<type_name>/enabledPhases")
    def enabled_phases(feature: str, type_name: str):
        """The phases of a work type where a feature is on: `[phase system name]` from the type's `Features`
        (docs/solution-format.md) [inferred shape]."""
        caller(READ_WORK)
        if type_name not in worktypes:
            raise not_found("work type", type_name, field="type")
        return jsonify(worktypes.enabled_phases(type_name, feature))

    return bp
