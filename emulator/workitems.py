"""Work items and their sub-resources (phase, attributes, participants, comments): state and rules.
Creating one is in workitem_create.py, comments and chronology in workitem_history.py: bases of WorkItems.

HTTP lives in `emulator/api/`; this module knows nothing of Flask. Every mutation runs in one
store transaction and appends its business events to the stream inside that same transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .envelopes import (
    READ_ONLY_WORKITEM_MEMBERS,
    UPDATE_MEMBERS,
    UPDATE_WORKITEM_MEMBERS,
    refuse_changed_read_only,
    refuse_unknown,
)
from .identity import Principal, require
from .kernel.binding import Fields, canonical_guid
from .kernel.clock import Clock, iso
from .kernel.errors import ApiError, invalid, not_found
from .kernel.events import EventStream
from .kernel.jsonfile import get_ci
from .kernel.store import Store, dumps
from .ods import Ods, display_name
from .solution.loading import Solution
from .workitem_create import REFERENCE_MAX, TITLE_MAX, WorkItemCreation
from .workitem_history import WorkItemHistory

ATTRIBUTE_MAX = 100_000


@dataclass
class WorkItem:
    id: str
    type: str
    title: str
    reference: str | None
    description: str | None
    phase: str
    parent_id: str | None
    created: str
    updated: str
    body: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> WorkItem:
        return cls(
            row["id"],
            row["type"],
            row["title"],
            row["reference"],
            row["description"],
            row["phase"],
            row["parent_id"],
            row["created"],
            row["updated"],
            json.loads(row["body"]),
        )


class WorkItems(WorkItemCreation, WorkItemHistory):
    """Work items and their sub-resources. Making one (the create body, references, the seed) lives in
    workitem_create.py, its comments and chronology in workitem_history.py: one class to callers."""

    def __init__(self, store: Store, clock: Clock, stream: EventStream, solution: Solution, ods: Ods) -> None:
        self.store = store
        self.clock = clock
        self.stream = stream
        self.solution = solution
        self.types = solution.worktypes
        self.ods = ods
        # Called in the writing transaction after attributes change, by any route: (tx, item, {name: (old,
        # new)}). A watcher may refuse the change (raise ApiError: all of it rolls back) or act on it.
        self.attribute_watchers: list[Callable[[sqlite3.Connection, WorkItem, dict[str, tuple[Any, Any]]], None]] = []

    # -- reading --------------------------------------------------------------------------------
    def find(self, item_id: str, conn: sqlite3.Connection | None = None) -> WorkItem | None:
        guid = canonical_guid(item_id)
        row = self.store.row("SELECT * FROM work_items WHERE id=?", (guid,), conn) if guid else None
        return WorkItem.from_row(row) if row else None

    def get(self, item_id: str, conn: sqlite3.Connection | None = None) -> WorkItem:
        item = self.find(item_id, conn)
        if item is None:
            raise not_found("work item", item_id)
        return item

    def to_json(self, item: WorkItem) -> dict[str, Any]:
        phase = self.types.phase(item.type, item.phase)
        return {
            "workItem": {
                "id": item.id,
                "sharedoTypeSystemName": item.type,
                "title": item.title,
                "titleIsUserProvided": item.body.get("titleIsUserProvided", True),
                "reference": item.reference,
                "referenceIsUserProvided": item.body.get("referenceIsUserProvided", True),
                "description": item.description,
                "parentSharedoId": item.parent_id,
                "phaseSystemName": item.phase,
                "phaseName": phase.name if phase else item.phase,
                "phaseIsOpen": phase.is_open if phase else True,
                "createdDate": item.created,
                "updatedDate": item.updated,
                **({"externalReference": item.body["externalReference"]} if item.body.get("externalReference") else {}),
            },
            "aspectData": item.body.get("aspectData", {}),
            "keyDates": item.body.get("keyDates", {}),
        }

    # -- update ---------------------------------------------------------------------------------
    def update(self, item_id: str, body: Any, principal: Principal | None) -> WorkItem:
        """`PUT /api/v1/public/workItem/{id}`: given fields change, aspect data merges per aspect."""
        require(principal, "core.sharedo.update")
        f = Fields(body)
        wi = f.obj("workItem")
        refuse_unknown(f, UPDATE_MEMBERS, "PUT /api/v1/public/workItem/{id}")
        if wi is not None:
            refuse_unknown(
                wi, UPDATE_WORKITEM_MEMBERS + READ_ONLY_WORKITEM_MEMBERS, "workItem on PUT /api/v1/public/workItem/{id}"
            )
        changes: dict[str, Any] = {}
        given_type: str | None = None
        if wi is not None:
            if wi.has("title"):
                changes["title"] = wi.string("title", required=True, allow_empty=False, max_length=TITLE_MAX)
            if wi.has("reference"):
                changes["reference"] = wi.string("reference", max_length=REFERENCE_MAX)
            if wi.has("description"):
                changes["description"] = wi.string("description", max_length=100_000)
            # a client that sends back what it read (the mobile app's `saveTask`) repeats the type: fine
            given_type = wi.string("sharedoTypeSystemName", max_length=200)
        aspect = f.obj("aspectData")
        aspect_data = self._aspect_data(aspect) if aspect is not None else {}
        f.raise_if_errors()
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            if wi is not None and given_type is not None and given_type != item.type:
                raise invalid("workItem.sharedoTypeSystemName", f"is {item.type!r}; a work item's type cannot change")
            key_dates = self._key_dates(f, item.type)
            if wi is not None:
                refuse_changed_read_only(wi, self.to_json(item)["workItem"], "PUT /api/v1/public/workItem/{id}")
            f.raise_if_errors()
            changed = [k for k, v in changes.items() if getattr(item, k) != v]
            doc = item.body
            for name, data in aspect_data.items():
                merged = {**doc.setdefault("aspectData", {}).get(name, {}), **data}
                if doc["aspectData"].get(name) != merged:
                    doc["aspectData"][name] = merged
                    changed.append(f"aspectData.{name}")
            for name, value in key_dates.items():
                if doc.setdefault("keyDates", {}).get(name) != value:
                    doc["keyDates"][name] = value
                    changed.append(f"keyDates.{name}")
            if not changed:
                return item
            values = {"title": item.title, "reference": item.reference, "description": item.description, **changes}
            tx.execute(
                "UPDATE work_items SET title=?, reference=?, description=?, updated=?, body=? WHERE id=?",
                (
                    values["title"],
                    values["reference"],
                    values["description"],
                    iso(self.clock.now()),
                    dumps(doc),
                    item.id,
                ),
            )
            self.stream.append(
                tx,
                "sharedo-updated",
                {"sharedoId": item.id, "sharedoTypeSystemName": item.type, "changedFields": changed},
            )
            return self.get(item.id, tx)

    # -- phase ----------------------------------------------------------------------------------
    def phase_info(self, item: WorkItem) -> dict[str, Any]:
        phase = self.types.phase(item.type, item.phase)
        transitions = []
        for t in self.types.transitions_from(item.type, item.phase):
            to = self.types.phase(item.type, t.to_phase)
            transitions.append(
                {
                    "toPhaseSystemName": t.to_phase,
                    "name": t.name or (to.name if to else t.to_phase),
                    "isOptimumPath": t.is_optimum_path,
                    "isUserDriven": t.is_user_driven,
                    "toPhaseIconClass": to.icon_class if to else "",
                    "reasonIsMandatory": t.reason_is_mandatory,
                }
            )
        info = phase.to_json() if phase else {"systemName": item.phase, "name": item.phase}
        return {**info, "availableTransitions": transitions}

    def change_phase(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        """`PUT .../phase`: only a transition the phase plan has; a 400 names the legal ones."""
        require(principal, "core.sharedo.update")
        f = Fields(body)
        to = f.string("toPhaseSystemName", required=True, allow_empty=False, max_length=200)
        description = f.string("description", max_length=4000)
        reason = f.string("reasonText", max_length=4000)
        f.raise_if_errors()
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            legal = self.types.transitions_from(item.type, item.phase)
            transition = next((t for t in legal if t.to_phase == to), None)
            if transition is None:
                names = [t.to_phase for t in legal]
                where = "an unknown phase" if self.types.phase(item.type, to) is None else "not reachable"
                raise ApiError(
                    400,
                    f"cannot move {item.reference or item.id} from {item.phase!r} to {to!r} "
                    f"({where}); legal transitions: {names or 'none (no way out of this phase)'}",
                    [{"field": "toPhaseSystemName", "message": f"legal values: {names}"}],
                )
            if not transition.is_user_driven and principal is not None and principal.user is not None:
                # The phase plan's own rule: the solution keeps this move for integrations and workflows
                # (a client without a user, such as the PMS's or the workflow engine's).
                raise ApiError(
                    403,
                    f"{principal.user_name} cannot move {item.reference or item.id} to {to!r}: the transition "
                    f"{transition.name or transition.system_name!r} ({transition.system_name}) is not user-driven "
                    "(IsUserDriven: false); the solution reserves it for its integrations and workflows",
                    [{"field": "toPhaseSystemName", "message": f"{to} is not user-driven"}],
                )
            if transition.reason_is_mandatory and not (reason or "").strip():
                raise invalid("reasonText", f"the transition to {to!r} needs a reason")
            self._move(tx, item, to, reason or description)
            phase = self.types.phase(item.type, to)
            return {"systemName": to, "name": phase.name if phase else to}

    # The names a jump's body may give the phase and the reason in [inferred: the route is seen called by
    # public workflow actions, its body is not; toPhaseSystemName as PUT .../phase has it comes first].
    JUMP_PHASE_KEYS = ("toPhaseSystemName", "phaseSystemName", "toPhase", "phase")
    JUMP_REASON_KEYS = ("reason", "reasonText", "description")

    def jump_to(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        """`POST /api/sharedo/{id}/phase/jumpTo`: an administrator's jump, past the transition rules; needs
        core.admin.jumptophase (which ee-app lacks, as on a tenant). Raises `sharedo-phase-changed`."""
        require(principal, "core.admin.jumptophase")
        f = Fields(body)
        phases = [f.string(k, allow_empty=False, max_length=200) for k in self.JUMP_PHASE_KEYS]
        reasons = [f.string(k, max_length=4000) for k in self.JUMP_REASON_KEYS]
        to = next((name for name in phases if name), None)
        if to is None and not f.errors:
            keys = list(self.JUMP_PHASE_KEYS)
            f.error("toPhaseSystemName", f"the phase to jump to is required (any of {keys})")
        f.raise_if_errors()
        assert to is not None
        with self.store.transaction() as tx:
            moved = self.jump_to_phase(tx, item_id, to, next((r for r in reasons if r), None))
            item = self.get(item_id, tx)
            phase = self.types.phase(item.type, to)
            return {"systemName": to, "name": phase.name if phase else to, "moved": moved}

    def jump_to_phase(self, tx: sqlite3.Connection, item_id: str, to: str, reason: str | None) -> bool:
        """Move past the transition rules (an integration mastering the status elsewhere, as
        core.admin.jumptophase allows a person); raises `sharedo-phase-changed`. False if already there."""
        item = self.get(item_id, tx)
        if self.types.phase(item.type, to) is None:
            raise invalid("toPhaseSystemName", f"work type {item.type!r} has no phase {to!r}")
        if item.phase == to:
            return False
        self._move(tx, item, to, reason)
        return True

    def _move(self, tx: sqlite3.Connection, item: WorkItem, to: str, reason: str | None) -> None:
        tx.execute("UPDATE work_items SET phase=?, updated=? WHERE id=?", (to, iso(self.clock.now()), item.id))
        self.stream.append(
            tx,
            "sharedo-phase-changed",
            {
                "sharedoId": item.id,
                "sharedoTypeSystemName": item.type,
                "fromPhase": item.phase,
                "toPhase": to,
                "reason": reason,
            },
        )

    # -- attributes -----------------------------------------------------------------------------
    def attributes(self, item_id: str) -> dict[str, str | None]:
        with self.store.read() as conn:
            self.get(item_id, conn)
            rows = conn.execute(
                "SELECT name, value FROM attributes WHERE work_item_id=? ORDER BY name", (str(uuid.UUID(item_id)),)
            ).fetchall()
        return {r["name"]: r["value"] for r in rows}

    def attribute(self, item_id: str, name: str) -> str | None:
        attrs = self.attributes(item_id)
        if name not in attrs:
            raise not_found("attribute", name, field="name")
        return attrs[name]

    def set_attributes(self, item_id: str, values: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
        """Attribute values are strings; `null` clears one. Values that are not strings are refused."""
        require(principal, "core.sharedo.update")
        for name, value in values.items():
            if not name or len(name) > 200 or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
                raise invalid("name", f"attribute names are letters, digits, '.', '_' and '-' (got {name[:60]!r})")
            if value is not None and not isinstance(value, str):
                raise invalid(
                    f"{name}.value" if len(values) > 1 else "value",
                    f"attribute values are strings or null, got {type(value).__name__}",
                )
            if isinstance(value, str) and len(value) > ATTRIBUTE_MAX:
                raise invalid("value", f"longer than {ATTRIBUTE_MAX} characters")
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            changed: dict[str, tuple[Any, Any]] = {}
            for name, value in values.items():
                row = tx.execute(
                    "SELECT value FROM attributes WHERE work_item_id=? AND name=?", (item.id, name)
                ).fetchone()
                old = row["value"] if row else None
                if row is not None and old == value:
                    continue
                if row is None and value is None:
                    continue
                if value is None:
                    tx.execute("DELETE FROM attributes WHERE work_item_id=? AND name=?", (item.id, name))
                else:
                    tx.execute(
                        "INSERT INTO attributes VALUES (?,?,?) ON CONFLICT(work_item_id, name) "
                        "DO UPDATE SET value=excluded.value",
                        (item.id, name, value),
                    )
                self.stream.append(
                    tx,
                    "attribute-changed",
                    {
                        "sharedoId": item.id,
                        "sharedoTypeSystemName": item.type,
                        "attributeName": name,
                        "oldValue": old,
                        "newValue": value,
                    },
                )
                changed[name] = (old, value)
            tx.execute("UPDATE work_items SET updated=? WHERE id=?", (iso(self.clock.now()), item.id))
            if changed:
                for watch in self.attribute_watchers:
                    watch(tx, item, changed)
        return self.attributes(item_id)

    # -- participants ---------------------------------------------------------------------------
    def _insert_participant(self, tx: sqlite3.Connection, item_id: str, role: str, ods_id: str, now: str) -> str:
        pid = str(uuid.uuid4())
        tx.execute("INSERT INTO participants VALUES (?,?,?,?,?)", (pid, item_id, role, ods_id, now))
        return pid

    def _participant_event(
        self, tx: sqlite3.Connection, event_type: str, item: WorkItem, participant_id: str, role: str, ods_id: str
    ) -> None:
        """participant-added or participant-removed: the same five members whichever route adds or removes one."""
        self.stream.append(
            tx,
            event_type,
            {
                "sharedoId": item.id,
                "sharedoTypeSystemName": item.type,
                "participantId": participant_id,
                "roleSystemName": role,
                "odsId": ods_id,
            },
        )

    def participants(self, item_id: str, conn: sqlite3.Connection | None = None) -> list[dict[str, Any]]:
        if conn is None:
            with self.store.read() as c:
                return self.participants(item_id, c)
        item = self.get(item_id, conn)
        rows = conn.execute(
            "SELECT * FROM participants WHERE work_item_id=? ORDER BY created, id", (item.id,)
        ).fetchall()
        out = []
        for r in rows:
            kind, doc = self.ods.find(r["ods_id"], conn) or ("unknown", {})
            role = self.solution.roles.get(r["role"], {})
            out.append(
                {
                    "id": r["id"],
                    "odsId": r["ods_id"],
                    "odsName": display_name(kind, doc),
                    "odsType": kind,
                    "participantType": kind,
                    "participantRoleType": r["role"],
                    "participantRoleTypeName": get_ci(role, "Name") or r["role"],
                    "participantRoleCategorySystemName": get_ci(role, "ParticipantRoleCategorySystemName")
                    or "case-participants",
                }
            )
        return out

    def add_participant(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        """[inferred] `POST .../participants {roleSystemName, odsId}`, mirroring create's envelope."""
        require(principal, "core.sharedo.update")
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            f = Fields(body)
            wrapper = {"participants": [body]} if isinstance(body, dict) else {"participants": body}
            parts = self._participant_list(Fields(wrapper, "", f.errors), item.type)
            f.raise_if_errors()
            if not parts:
                raise invalid("(body)", "expected {roleSystemName, odsId}")
            role, ods_id = parts[0]
            if self.ods.find(ods_id, tx) is None:
                raise invalid("odsId", f"no person or organisation {ods_id!r} in the ODS")
            existing = tx.execute(
                "SELECT ods_id FROM participants WHERE work_item_id=? AND role=?", (item.id, role)
            ).fetchall()
            if any(r["ods_id"] == ods_id for r in existing):
                raise ApiError(409, f"{ods_id} already holds role {role!r} on this work item")
            roles = self.types.roles(item.type)
            if existing and roles and not get_ci(roles.get(role, {}), "CanHaveMultiple"):
                raise ApiError(409, f"role {role!r} can hold only one participant on {item.type!r}")
            pid = self._insert_participant(tx, item.id, role, ods_id, iso(self.clock.now()))
            self._participant_event(tx, "participant-added", item, pid, role, ods_id)
            return next(p for p in self.participants(item.id, tx) if p["id"] == pid)

    def remove_participant(self, item_id: str, participant_id: str, principal: Principal | None) -> None:
        require(principal, "core.sharedo.update")
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            row = tx.execute(
                "SELECT * FROM participants WHERE id=? AND work_item_id=?", (participant_id, item.id)
            ).fetchone()
            if row is None:
                raise not_found("participant", participant_id)
            tx.execute("DELETE FROM participants WHERE id=?", (participant_id,))
            self._participant_event(tx, "participant-removed", item, participant_id, row["role"], row["ods_id"])

    def commonest_top_level_types(self, newest: int) -> list[str]:
        """The types of the `newest` top-level work items, commonest first: what this firm mostly opens (the
        web pages' create form offers it first)."""
        rows = self.store.rows(
            "SELECT type, COUNT(*) AS n FROM (SELECT type FROM work_items WHERE parent_id IS NULL "
            "ORDER BY rowid DESC LIMIT ?) GROUP BY type ORDER BY n DESC",
            (newest,),
        )
        return [r["type"] for r in rows]

    # -- what the official mobile app reaches through internal routes ----------------------------
    def types_tree(self) -> list[dict[str, Any]]:
        """`GET /api/v2/public/types/tree`: nested `[{systemName, children[]}]` [confirmed: sharedo-mobile-core
        `typesTree.js` walks `systemName` and `children`]; `name`, `iconClass`, `isAbstract` are [inferred]."""

        def node(t: Any) -> dict[str, Any]:
            kids = [node(c) for c in self.types if c.parent == t.system_name]
            return {
                "systemName": t.system_name,
                "name": t.name,
                "iconClass": t.icon_class,
                "isAbstract": t.is_abstract,
                "children": kids,
            }

        return [node(t) for t in self.types if t.parent is None]

    def task(self, item_id: str) -> dict[str, Any]:
        """`GET /api/tasks/{id}` (internal): the mobile app reads only `participantActions` [confirmed:
        `tasksAgent.js`]. The emulator models no participant actions, so the list is empty [inferred]."""
        item = self.get(item_id)
        if not self.types.is_derived_from(item.type, "task"):
            raise not_found("task", item_id)
        return {"id": item.id, "title": item.title, "reference": item.reference, "participantActions": []}

    def take_ownership(self, item_id: str, principal: Principal | None) -> dict[str, Any]:
        """`POST /api/tasks/{id}/takeownership` (internal): the calling user becomes the primary owner."""
        require(principal, "core.sharedo.update")
        user = principal.user if principal else None
        if not user or not user.get("id"):
            raise ApiError(400, "only a signed-in user can take ownership; this token has no user")
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            roles = self.types.roles(item.type)
            if roles and "primary-owner" not in roles:
                raise ApiError(400, f"work type {item.type!r} has no primary-owner role to take")
            now = iso(self.clock.now())
            held = tx.execute(
                "SELECT * FROM participants WHERE work_item_id=? AND role='primary-owner'", (item.id,)
            ).fetchall()
            if any(r["ods_id"] == user["id"] for r in held):
                return {"sharedoId": item.id, "odsId": user["id"]}
            for r in held:
                tx.execute("DELETE FROM participants WHERE id=?", (r["id"],))
                self._participant_event(tx, "participant-removed", item, r["id"], "primary-owner", r["ods_id"])
            pid = self._insert_participant(tx, item.id, "primary-owner", user["id"], now)
            self._participant_event(tx, "participant-added", item, pid, "primary-owner", user["id"])
            return {"sharedoId": item.id, "odsId": user["id"]}

    def save_aspects(self, item_id: str, body: Any, principal: Principal | None) -> WorkItem:
        """`POST /api/aspects/sharedos/{id}` (internal): the work item's own fields at the top level and
        each aspect's data as a JSON *string* [confirmed: mobile app `workItemsAgent.js`, used "as the public
        API is broken"]. The read-only keys the app echoes back (ids, phase, dates) are ignored."""
        if not isinstance(body, dict):  # `null` too: Fields would read it as an empty object
            raise invalid("(body)", "expected the work item's fields and aspectData as an object")
        f = Fields(body)
        given_type = f.string("sharedoTypeSystemName", max_length=200)
        fields = {k: f.raw(k) for k in ("title", "reference", "description") if f.raw(k) is not None}
        aspects: dict[str, Any] = {}
        aspect = f.obj("aspectData")
        for name in aspect.names() if aspect is not None else []:
            text = aspect.raw(name)
            if not isinstance(text, str):
                aspect.error(name, "an aspect's data goes as a JSON string on this route")
                continue
            try:
                aspects[name] = json.loads(text)
            except ValueError as exc:
                aspect.error(name, f"is not valid JSON: {exc}")
        f.raise_if_errors()
        item = self.get(item_id)
        if given_type and given_type != item.type:
            raise invalid("sharedoTypeSystemName", f"is {item.type!r}; a work item's type cannot be changed")
        return self.update(item.id, {"workItem": fields, "aspectData": aspects}, principal)
