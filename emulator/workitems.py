"""Work items and their sub-resources (phase, attributes, participants, comments): state and rules.

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
from datetime import date, timedelta
from typing import Any

from .envelopes import (
    CREATE_MEMBERS,
    CREATE_WORKITEM_MEMBERS,
    READ_ONLY_WORKITEM_MEMBERS,
    SEED_MEMBERS,
    UPDATE_MEMBERS,
    UPDATE_WORKITEM_MEMBERS,
    refuse_changed_read_only,
    refuse_unknown,
)
from .identity import Principal, require
from .kernel.binding import Fields
from .kernel.clock import Clock, iso, parse_instant
from .kernel.errors import ApiError, invalid, not_found
from .kernel.events import EventStream
from .kernel.jsonfile import get_ci
from .kernel.schema import AreaSchema
from .kernel.store import Store, dumps
from .ods import Ods, display_name
from .solution.loading import Solution

# [inferred] Business event → chronology point of interest: (poiSystemName, title, icon, colour). The
# mobile app shows the POI system names `comment`, `milestone`, `task-milestone`, `docgen`, `document-*`
# and `emails` and hides the rest (sharedo-sample-mobile-app `chronologyMapper.js`).
CHRONOLOGY_POI: dict[str, tuple[str, str, str, str]] = {
    "comment-added": ("comment", "Comment added", "fa-comment", "#3f51b5"),
    "sharedo-phase-changed": ("milestone", "Moved to", "fa-flag", "#4caf50"),
    "sharedo-created": ("sharedo-created", "Created", "fa-plus", "#607d8b"),
    "sharedo-updated": ("sharedo-updated", "Details updated", "fa-pencil", "#607d8b"),
    "attribute-changed": ("attribute-changed", "Attribute changed", "fa-pencil", "#607d8b"),
    "participant-added": ("participant-added", "Participant added", "fa-user-plus", "#607d8b"),
    "participant-removed": ("participant-removed", "Participant removed", "fa-user-times", "#607d8b"),
    "time-entry-state-changed": ("time", "Time entry", "fa-clock-o", "#607d8b"),
    "related-document-added": ("document", "Document added", "fa-file-o", "#795548"),
    "related-document-removed": ("document", "Document removed", "fa-file-o", "#795548"),
}
CHRONOLOGY_NAMESPACE = uuid.UUID("0b5e7f3a-2c4d-4e6f-8a9b-c1d2e3f4a5b6")
TITLE_MAX = 400
REFERENCE_MAX = 100
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


class WorkItems:
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
        try:
            item_id = str(uuid.UUID(str(item_id)))
        except ValueError:
            return None
        if conn is None:
            with self.store.read() as c:
                return self.find(item_id, c)
        row = conn.execute("SELECT * FROM work_items WHERE id=?", (item_id,)).fetchone()
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

    # -- create ---------------------------------------------------------------------------------
    def create(self, body: Any, principal: Principal | None, *, seed: dict[str, Any] | None = None) -> WorkItem:
        """`POST /api/v1/public/workItem`. With `seed` (the seed-only keys id, phase, attributes,
        createdDate) the item is part of the starting state: it raises no events."""
        require(principal, "core.sharedo.create")
        f = Fields(body)
        wi = f.obj("workItem", required=True)
        refuse_unknown(f, CREATE_MEMBERS + (SEED_MEMBERS if seed is not None else ()), "POST /api/v1/public/workItem")
        if wi is not None:
            refuse_unknown(wi, CREATE_WORKITEM_MEMBERS, "workItem on POST /api/v1/public/workItem")
        parent_id = f.guid("parentSharedoId")
        type_sn = title = reference = description = external = None
        if wi is not None:
            type_sn = wi.string("sharedoTypeSystemName", required=True, allow_empty=False, max_length=200)
            title = wi.string("title", required=True, allow_empty=False, max_length=TITLE_MAX)
            reference = wi.string("reference", max_length=REFERENCE_MAX)
            description = wi.string("description", max_length=100_000)
            # The id another system knows it by (a matter opened in the PMS): findByQuery's
            # search.externalReference finds it again, so a retried delivery never makes a second one.
            external = wi.string("externalReference", max_length=400)
            wi.boolean("titleIsUserProvided")
            wi.boolean("referenceIsUserProvided")
            wi.boolean("referenecIsUserProvided")  # an official sample's typo: checked, then ignored
            if wi.has("parentSharedoId") and parent_id is None:
                parent_id = wi.guid("parentSharedoId")
        if type_sn and type_sn not in self.types:
            wi.error(
                "sharedoTypeSystemName",
                f"unknown work type {type_sn!r}; known: {sorted(t.system_name for t in self.types)}",
            )  # type: ignore[union-attr]
            type_sn = None
        elif type_sn:
            wt = self.types.get(type_sn)
            assert wt is not None
            if wt.is_abstract:
                wi.error("sharedoTypeSystemName", f"work type {type_sn!r} is abstract; create one of its derived types")  # type: ignore[union-attr]
                type_sn = None
            elif not wt.is_active:
                wi.error("sharedoTypeSystemName", f"work type {type_sn!r} is not active")  # type: ignore[union-attr]
                type_sn = None
            elif self.types.start_phase(type_sn) is None:
                wi.error("sharedoTypeSystemName", f"work type {type_sn!r} has no phase plan with a start phase")  # type: ignore[union-attr]
                type_sn = None
        aspect = f.obj("aspectData")
        aspect_data = self._aspect_data(aspect) if aspect is not None else {}
        key_dates = self._key_dates(f, type_sn)
        participants = self._participant_list(f, type_sn)
        seeding = seed is not None
        seed = seed or {}
        f.raise_if_errors()
        assert type_sn is not None and title is not None

        with self.store.transaction() as tx:
            if parent_id and self.find(parent_id, tx) is None:
                raise invalid("parentSharedoId", f"no work item {parent_id!r}")
            self._check_participants_exist(tx, participants)
            now = seed.get("createdDate") or iso(self.clock.now())
            item_id = seed.get("id") or str(uuid.uuid4())
            phase = seed.get("phase") or self.types.start_phase(type_sn).system_name  # type: ignore[union-attr]
            if self.types.phase(type_sn, phase) is None:
                raise invalid("phase", f"work type {type_sn!r} has no phase {phase!r}")
            user_ref = reference is not None and reference != ""
            if not user_ref:
                reference = self._generate_reference(tx, type_sn, now)
            doc = {
                "aspectData": aspect_data,
                "keyDates": key_dates,
                "titleIsUserProvided": True,
                "referenceIsUserProvided": user_ref,
            }
            if external:
                doc["externalReference"] = external
            tx.execute(
                "INSERT INTO work_items VALUES (?,?,?,?,?,?,?,?,?,?)",
                (item_id, type_sn, title, reference, description, phase, parent_id, now, now, dumps(doc)),
            )
            for name, value in (seed.get("attributes") or {}).items():
                tx.execute("INSERT INTO attributes VALUES (?,?,?)", (item_id, name, value))
            base = {"sharedoId": item_id, "sharedoTypeSystemName": type_sn}
            if not seeding:
                self.stream.append(
                    tx,
                    "sharedo-created",
                    {**base, "title": title, "reference": reference, "parentSharedoId": parent_id, "phase": phase},
                )
            for role, ods_id in participants:
                pid = self._insert_participant(tx, item_id, role, ods_id, now)
                if not seeding:
                    self.stream.append(
                        tx, "participant-added", {**base, "participantId": pid, "roleSystemName": role, "odsId": ods_id}
                    )
            return self.get(item_id, tx)

    def _aspect_data(self, aspect: Fields) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in aspect.names():
            value = aspect.raw(key)
            if not isinstance(value, dict):
                aspect.error(key, f"an aspect's data must be an object, got {type(value).__name__}")
            else:
                out[key] = value
        return out

    def _key_dates(self, f: Fields, type_sn: str | None) -> dict[str, str]:
        kd = f.obj("keyDates")
        if kd is None:
            return {}
        allowed: set[str] = set()
        if type_sn:
            for a in self.types.ancestors(type_sn):
                wt = self.types.get(a)
                allowed |= {get_ci(k, "KeyDateType") for k in (wt.key_dates if wt else [])}
        out = {}
        for key in kd.names():
            if allowed and key not in allowed:
                kd.error(key, f"work type {type_sn!r} has no key date {key!r}; it has {sorted(allowed)}")
                continue
            value = kd.instant(key)
            if value is not None:
                out[key] = iso(parse_instant(value))
        return out

    def _participant_list(self, f: Fields, type_sn: str | None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        roles = self.types.roles(type_sn) if type_sn else {}
        for where, value in f.items("participants"):
            p = Fields(value, where, f.errors)
            role = p.string("roleSystemName", required=True, allow_empty=False, max_length=200)
            ods_id = p.guid("odsId", required=True)
            if role and type_sn and roles and role not in roles:
                p.error("roleSystemName", f"work type {type_sn!r} has no role {role!r}; it has {sorted(roles)}")
                continue
            if role and ods_id:
                out.append((role, ods_id))
        seen: dict[str, int] = {}
        for role, _ in out:
            seen[role] = seen.get(role, 0) + 1
            if seen[role] == 2 and roles and not get_ci(roles[role], "CanHaveMultiple"):
                f.error("participants", f"role {role!r} can hold only one participant on {type_sn!r}")
        return out

    def _check_participants_exist(self, tx: sqlite3.Connection, participants: list[tuple[str, str]]) -> None:
        for i, (_, ods_id) in enumerate(participants):
            if self.ods.find(ods_id, tx) is None:
                raise invalid(f"participants[{i}].odsId", f"no person or organisation {ods_id!r} in the ODS")

    def _generate_reference(self, tx: sqlite3.Connection, type_sn: str, created: str) -> str:
        """The type's ReferenceGenerator makes it (solution/references.py); without one, PREFIX-00001 [inferred]."""
        fmt = self.types.reference_format(type_sn)
        if fmt is not None:
            wt = self.types.get(type_sn)
            assert wt is not None
            try:
                when = parse_instant(created)
            except ValueError as exc:
                raise invalid("createdDate", str(exc)) from None
            for _ in range(10_000 if fmt.uses_sequence else 1):
                n = self.store.next_counter(tx, f"reference-generator:{fmt.owner}")
                candidate = fmt.render(short_name=wt.short_name, type_name=wt.name, created=when, sequence=n)
                if not tx.execute("SELECT 1 FROM work_items WHERE reference=?", (candidate,)).fetchone():
                    return candidate
            raise ApiError(409, f"could not generate a free reference for work type {type_sn!r}")
        root = self.types.ancestors(type_sn)[-1]
        prefix = re.sub(r"[^A-Za-z]", "", root)[:3].upper() or "REF"
        for _ in range(10_000):
            n = self.store.next_counter(tx, f"reference:{prefix}")
            candidate = f"{prefix}-{n:05d}"
            if not tx.execute("SELECT 1 FROM work_items WHERE reference=?", (candidate,)).fetchone():
                return candidate
        raise ApiError(409, f"could not generate a free {prefix} reference")

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
            self.stream.append(
                tx,
                "participant-added",
                {
                    "sharedoId": item.id,
                    "sharedoTypeSystemName": item.type,
                    "participantId": pid,
                    "roleSystemName": role,
                    "odsId": ods_id,
                },
            )
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
            self.stream.append(
                tx,
                "participant-removed",
                {
                    "sharedoId": item.id,
                    "sharedoTypeSystemName": item.type,
                    "participantId": participant_id,
                    "roleSystemName": row["role"],
                    "odsId": row["ods_id"],
                },
            )

    # -- comments and chronology ----------------------------------------------------------------
    # Both lists answer `{rows, totalRows}`, newest first [confirmed: sharedo-sample-mobile-app
    # `CommentList.vue` and `ChronologyList.vue` read `rows` and `totalRows`].
    def _author(self, author: str | None, conn: sqlite3.Connection) -> tuple[str | None, str | None]:
        """(userId, userFullName) of a comment's author: a user is an ODS person; a client is its id."""
        person = self.ods.user_by_name(author, conn)
        if person is None:
            return None, author
        return person["id"], display_name("person", person)

    def _comment_row(self, r: sqlite3.Row, conn: sqlite3.Connection) -> dict[str, Any]:
        """A comment as the mobile app reads it: `id, comment (HTML), userId, userFullName, created,
        isPrivate, isPinned, isDeleted` [confirmed: `CommentList.vue`]; the emulator keeps no private,
        pinned or deleted comments, so those are false."""
        user_id, full_name = self._author(r["author"], conn)
        return {
            "id": r["id"],
            "comment": r["comment"],
            "userId": user_id,
            "userFullName": full_name,
            "created": r["created"],
            "isPrivate": False,
            "isPinned": False,
            "isDeleted": False,
        }

    def comments(self, item_id: str, start_page: int, rows_per_page: int) -> dict[str, Any]:
        with self.store.read() as conn:
            item = self.get(item_id, conn)
            total = conn.execute("SELECT COUNT(*) FROM comments WHERE work_item_id=?", (item.id,)).fetchone()[0]
            rows = conn.execute(
                "SELECT * FROM comments WHERE work_item_id=? ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                (item.id, rows_per_page, (start_page - 1) * rows_per_page),
            ).fetchall()
            return {"totalRows": total, "rows": [self._comment_row(r, conn) for r in rows]}

    def add_comment(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        require(principal, "core.sharedo.comment")
        f = Fields(body)
        text = f.string("comment", required=True, allow_empty=False, max_length=100_000)
        f.raise_if_errors()
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            cid, now = str(uuid.uuid4()), iso(self.clock.now())
            author = (principal.user_name or principal.client_id) if principal else "system"
            tx.execute("INSERT INTO comments VALUES (?,?,?,?,?)", (cid, item.id, text, author, now))
            self.stream.append(
                tx, "comment-added", {"sharedoId": item.id, "sharedoTypeSystemName": item.type, "commentId": cid}
            )
            row = tx.execute("SELECT * FROM comments WHERE id=?", (cid,)).fetchone()
            return self._comment_row(row, tx)

    def chronology(self, item_id: str, start_page: int, rows_per_page: int, include_children: bool) -> dict[str, Any]:
        """What happened to a work item, newest first, derived from the event stream: one point of
        interest per business event (CHRONOLOGY_POI says which)."""
        with self.store.read() as conn:
            item = self.get(item_id, conn)
            ids = [item.id] + (self.descendant_ids(item.id, conn) if include_children else [])
            total, rows = self.stream.of_work_items(ids, rows_per_page, (start_page - 1) * rows_per_page, conn)
            return {"totalRows": total, "rows": [self._chronology_row(r, conn) for r in rows]}

    def _chronology_row(self, r: sqlite3.Row, conn: sqlite3.Connection) -> dict[str, Any]:
        """A point of interest as the mobile app reads it: `id, poiSystemName, title, notes, poiTypeIcon,
        poiTypeColour, userFullName, created, isPrivate` [confirmed: `chronologyMapper.js`]. The values
        (system names, titles, icons) come from CHRONOLOGY_POI [inferred]."""
        data = json.loads(r["data"])
        poi, title, icon, colour = CHRONOLOGY_POI.get(r["event_type"], (r["event_type"], r["event_type"], "", ""))
        notes, user = None, None
        if r["event_type"] == "comment-added":
            comment = conn.execute("SELECT * FROM comments WHERE id=?", (data.get("commentId"),)).fetchone()
            if comment is not None:
                notes, user = comment["comment"], self._author(comment["author"], conn)[1]
        elif r["event_type"] in ("related-document-added", "related-document-removed"):
            notes = data.get("title")
        elif r["event_type"] == "sharedo-phase-changed":
            to = self.types.phase(data.get("sharedoTypeSystemName") or "", data.get("toPhase") or "")
            title = f"{title} {to.name if to else data.get('toPhase')}"
            notes = data.get("reason")
        return {
            "id": str(uuid.uuid5(CHRONOLOGY_NAMESPACE, str(r["number"]))),
            "sharedoId": r["sharedo_id"],
            "poiSystemName": poi,
            "title": title,
            "notes": notes,
            "poiTypeIcon": icon,
            "poiTypeColour": colour,
            "userFullName": user,
            "created": r["occurred_at"],
            "isPrivate": False,
        }

    def descendant_ids(self, item_id: str, conn: sqlite3.Connection) -> list[str]:
        rows = conn.execute(
            "WITH RECURSIVE d(id) AS (SELECT id FROM work_items WHERE parent_id=? "
            "UNION ALL SELECT w.id FROM work_items w JOIN d ON w.parent_id = d.id) SELECT id FROM d",
            (item_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def commonest_top_level_types(self, newest: int) -> list[str]:
        """The types of the `newest` top-level work items, commonest first: what this firm mostly opens (the
        web pages' create form offers it first)."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT type, COUNT(*) AS n FROM (SELECT type FROM work_items WHERE parent_id IS NULL "
                "ORDER BY rowid DESC LIMIT ?) GROUP BY type ORDER BY n DESC",
                (newest,),
            ).fetchall()
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
                self.stream.append(
                    tx,
                    "participant-removed",
                    {
                        "sharedoId": item.id,
                        "sharedoTypeSystemName": item.type,
                        "participantId": r["id"],
                        "roleSystemName": "primary-owner",
                        "odsId": r["ods_id"],
                    },
                )
            pid = self._insert_participant(tx, item.id, "primary-owner", user["id"], now)
            self.stream.append(
                tx,
                "participant-added",
                {
                    "sharedoId": item.id,
                    "sharedoTypeSystemName": item.type,
                    "participantId": pid,
                    "roleSystemName": "primary-owner",
                    "odsId": user["id"],
                },
            )
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

    # -- seeding --------------------------------------------------------------------------------
    def seed(self, entries: list[dict[str, Any]]) -> None:
        """Create the solution's seed work items, raising no events (they are the starting state). A date
        written `today-70T12:00:00Z` (`createdDate`, `keyDates`) is days from the clock's today, so records
        a seeded PMS also holds (dated the same way) agree with it whatever the clock says."""
        today = self.clock.now().date()
        for i, entry in enumerate(entries):
            entry = _relative_dates(entry, today)
            extra = {k: get_ci(entry, k) for k in ("id", "phase", "attributes", "createdDate") if get_ci(entry, k)}
            try:
                self.create(entry, None, seed=extra)
            except ApiError as exc:
                raise ApiError(exc.status, f"seed/workitems.json[{i}]: {exc.title}", exc.errors) from None


_RELATIVE_DAY = re.compile(r"today(?:([+-])(\d{1,5}))?(T[0-9:.]+Z)?", re.IGNORECASE)


def _relative_day(value: Any, today: date) -> Any:
    m = _RELATIVE_DAY.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        return value
    days = int(m[2] or 0) * (-1 if m[1] == "-" else 1)
    return f"{(today + timedelta(days=days)).isoformat()}{m[3] or 'T00:00:00Z'}"


def _relative_dates(entry: Any, today: date) -> Any:
    """A seed entry with its `today±N` dates (createdDate, keyDates values) made calendar dates."""
    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    for key, value in entry.items():
        if key.lower() == "createddate":
            out[key] = _relative_day(value, today)
        elif key.lower() == "keydates" and isinstance(value, dict):
            out[key] = {name: _relative_day(v, today) for name, v in value.items()}
    return out


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="work items",
    modules=("emulator.workitems", "emulator.workitem_reads", "emulator.query", "emulator.paths"),
    tables=("work_items", "attributes", "participants", "comments", "work_item_counts"),
    migrations={
        # 1: work items, their attributes, participants and comments.
        1: """
    CREATE TABLE work_items (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        reference TEXT,
        description TEXT,
        phase TEXT NOT NULL,
        parent_id TEXT REFERENCES work_items(id),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX work_items_parent ON work_items(parent_id);
    CREATE INDEX work_items_type ON work_items(type);
    CREATE TABLE attributes (
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        name TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (work_item_id, name)
    );
    CREATE TABLE participants (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        role TEXT NOT NULL,
        ods_id TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX participants_item ON participants(work_item_id);
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        comment TEXT NOT NULL,
        author TEXT,
        created TEXT NOT NULL
    );
    CREATE INDEX comments_item ON comments(work_item_id);
    """,
        # 10: a page of findByQuery costs about the same at 100 and 100,000 work items (emulator/query.py, the SQL
        # path): counted from the number of work items per (type, phase), which triggers keep (derived, so not in
        # snapshots), and cut from the sort order's index.
        10: """
    CREATE TABLE work_item_counts (
        type TEXT NOT NULL, phase TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, phase)
    ) WITHOUT ROWID;
    INSERT INTO work_item_counts SELECT type, phase, COUNT(*) FROM work_items GROUP BY type, phase;
    CREATE TRIGGER work_items_counted AFTER INSERT ON work_items BEGIN
        INSERT INTO work_item_counts VALUES (NEW.type, NEW.phase, 1)
            ON CONFLICT (type, phase) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER work_items_uncounted AFTER DELETE ON work_items BEGIN
        UPDATE work_item_counts SET n = n - 1 WHERE type = OLD.type AND phase = OLD.phase;
    END;
    CREATE TRIGGER work_items_recounted AFTER UPDATE OF type, phase ON work_items BEGIN
        UPDATE work_item_counts SET n = n - 1 WHERE type = OLD.type AND phase = OLD.phase;
        INSERT INTO work_item_counts VALUES (NEW.type, NEW.phase, 1)
            ON CONFLICT (type, phase) DO UPDATE SET n = n + 1;
    END;
    CREATE INDEX work_items_lower_id ON work_items(lower(id));
    CREATE INDEX work_items_type_phase ON work_items(type, phase);
    CREATE INDEX work_items_created ON work_items(created, id);
    CREATE INDEX work_items_updated ON work_items(updated, id);
    CREATE INDEX work_items_title ON work_items(title, id);
    CREATE INDEX work_items_reference ON work_items(COALESCE(reference, ''), id);
    """,
    },
    unsnapshotted=frozenset(("work_item_counts",)),
)
