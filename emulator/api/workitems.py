"""The public work-item API: `/api/v1/public/workItem/...` and its sub-resources."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..kernel.binding import Fields
from ..kernel.errors import invalid, not_found
from .common import body, bool_arg, caller, emulator, int_arg

bp = Blueprint("workitems", __name__)
V1 = "/api/v1/public/workItem"


@bp.post(V1)
def create():
    em = emulator()
    item = em.workitems.create(body(), caller())
    return jsonify(em.workitems.to_json(item)), 201


@bp.get(f"{V1}/<id:item_id>")
def get(item_id: str):
    caller("core.sharedo.read")
    em = emulator()
    return jsonify(em.workitems.to_json(em.workitems.get(item_id)))


@bp.put(f"{V1}/<id:item_id>")
def update(item_id: str):
    em = emulator()
    return jsonify(em.workitems.to_json(em.workitems.update(item_id, body(), caller())))


@bp.post(f"{V1}/findByQuery")
def find_by_query():
    principal = caller("core.sharedo.read")
    user_id = principal.user.get("id") if principal.user else None  # "my" scope without ownerIds
    return jsonify(emulator().queries.find_by_query(body(), user_id))


@bp.get(f"{V1}/<item_id>/phase")
def get_phase(item_id: str):
    caller("core.sharedo.read")
    em = emulator()
    return jsonify(em.workitems.phase_info(em.workitems.get(item_id)))


@bp.put(f"{V1}/<item_id>/phase")
def change_phase(item_id: str):
    return jsonify(emulator().workitems.change_phase(item_id, body(), caller()))


@bp.get(f"{V1}/<item_id>/attributes")
def attributes(item_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().workitems.attributes(item_id))


@bp.route(f"{V1}/<item_id>/attributes", methods=["POST", "PUT"])
def set_attributes(item_id: str):
    """A map of name → string (or null to clear), as third-party workflows send it."""
    data = body()
    if not isinstance(data, dict):  # `null` too: Fields would read it as an empty object
        raise invalid("(body)", "expected an object of attribute name → string value (or null to clear)")
    return jsonify(emulator().workitems.set_attributes(item_id, data, caller()))


@bp.get(f"{V1}/<item_id>/attributes/<name>")
def attribute(item_id: str, name: str):
    caller("core.sharedo.read")
    return jsonify({"name": name, "value": emulator().workitems.attribute(item_id, name)})


@bp.post(f"{V1}/<item_id>/attributes/<name>")
def set_attribute(item_id: str, name: str):
    """`{value: "<string>"}`; `{value: null}` clears it."""
    f = Fields(body())
    if not f.has("value"):
        f.error("value", "required (a string, or null to clear)")
    f.raise_if_errors()
    attrs = emulator().workitems.set_attributes(item_id, {name: f.raw("value")}, caller())
    return jsonify({"name": name, "value": attrs.get(name)})


@bp.get(f"{V1}/<item_id>/comments")
def comments(item_id: str):
    caller("core.sharedo.read")
    return jsonify(
        emulator().workitems.comments(item_id, int_arg("startPage", 1), int_arg("rowsPerPage", 20, maximum=1000))
    )


@bp.post(f"{V1}/<item_id>/comments")
def add_comment(item_id: str):
    return jsonify(emulator().workitems.add_comment(item_id, body(), caller())), 201


@bp.get(f"{V1}/<item_id>/chronology")
def chronology(item_id: str):
    caller("core.sharedo.read")
    int_arg("endPage", 1)
    bool_arg("includeCaseOnlyParticipant")
    return jsonify(
        emulator().workitems.chronology(
            item_id, int_arg("startPage", 1), int_arg("rowsPerPage", 50, maximum=1000), bool_arg("includeChildren")
        )
    )


@bp.get("/api/v2/public/workItem/<item_id>/participants")
@bp.get("/api/v1/public/workItem/<item_id>/participants")
def participants(item_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().workitems.participants(item_id))


@bp.post("/api/v2/public/workItem/<item_id>/participants")
def add_participant(item_id: str):
    return jsonify(emulator().workitems.add_participant(item_id, body(), caller())), 201


@bp.delete("/api/v2/public/workItem/<item_id>/participants/<participant_id>")
def remove_participant(item_id: str, participant_id: str):
    emulator().workitems.remove_participant(item_id, participant_id, caller())
    return "", 204


@bp.get("/api/v2/public/types/tree")
def types_tree():
    caller("core.sharedo.read")
    return jsonify(emulator().workitems.types_tree())


# -- internal routes the official mobile app calls (sharedo-sample-mobile-app `tasksAgent.js`,
# `workItemsAgent.js`); their shapes beyond the keys the app reads are [inferred].
@bp.get("/api/tasks/<item_id>")
def task(item_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().workitems.task(item_id))


@bp.post("/api/tasks/<item_id>/takeownership")
def take_ownership(item_id: str):
    return jsonify(emulator().workitems.take_ownership(item_id, caller()))


@bp.get("/api/sharedo/<item_id>/mySharedoPermissions")
def my_permissions(item_id: str):
    """The caller's permissions on one work item as `[name]`; the app checks `core.sharedo.update` and
    `core.sharedo.progress.milestone` in it. The emulator grants per caller, not per item [inferred]."""
    principal = caller("core.sharedo.read")
    em = emulator()
    em.workitems.get(item_id)
    return jsonify(em.identity.user_info(principal)["globalPermissions"])


@bp.post("/api/sharedo/<item_id>/phase/jumpTo")
def jump_to_phase(item_id: str):
    """An administrator's jump past the transition rules, as workflow actions call it (body [inferred])."""
    return jsonify(emulator().workitems.jump_to(item_id, body(), caller()))


@bp.get("/api/featureframework/flags/<feature>/<type_name>/enabledPhases")
def enabled_phases(feature: str, type_name: str):
    """The phases of a work type where a feature is on: `[phase system name]` from the type's `Features`
    (docs/solution-format.md) [inferred shape]."""
    caller("core.sharedo.read")
    types = emulator().solution.worktypes
    if type_name not in types:
        raise not_found("work type", type_name, field="type")
    return jsonify(types.enabled_phases(type_name, feature))


@bp.post("/api/aspects/sharedos/<item_id>")
def save_aspects(item_id: str):
    em = emulator()
    return jsonify(em.workitems.to_json(em.workitems.save_aspects(item_id, body(), caller())))
