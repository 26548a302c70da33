"""Making a work item: the create body read and checked (its readers of aspect data, key dates and
participants serve update and add_participant too), its reference generated, and the seed's items. A base
of `WorkItems`, which callers use."""

from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .envelopes import CREATE_MEMBERS, CREATE_WORKITEM_MEMBERS, SEED_MEMBERS, refuse_unknown
from .identity import Principal, require
from .kernel.binding import Fields
from .kernel.clock import iso, parse_instant
from .kernel.errors import ApiError, invalid
from .kernel.jsonfile import get_ci
from .kernel.store import dumps
from .workitem_part import WorkItemsPart

if TYPE_CHECKING:
    from .workitems import WorkItem

TITLE_MAX = 400
REFERENCE_MAX = 100


@dataclass
class _NewItem:
    """A create body once checked: what `WorkItems._insert_new` writes."""

    parent_id: str | None = None
    type_sn: str | None = None
    title: str | None = None
    reference: str | None = None
    description: str | None = None
    external: str | None = None
    aspect_data: dict[str, Any] = field(default_factory=dict)
    key_dates: dict[str, str] = field(default_factory=dict)
    participants: list[tuple[str, str]] = field(default_factory=list)


class WorkItemCreation(WorkItemsPart):
    """Creating work items, and reading the parts of a body that create shares with update."""

    if TYPE_CHECKING:

        def find(self, item_id: str, conn: sqlite3.Connection | None = None) -> WorkItem | None: ...

        def _insert_participant(
            self, tx: sqlite3.Connection, item_id: str, role: str, ods_id: str, now: str
        ) -> str: ...

    def create(self, body: Any, principal: Principal | None, *, seed: dict[str, Any] | None = None) -> WorkItem:
        """`POST /api/v1/public/workItem`. With `seed` (the seed-only keys id, phase, attributes,
        createdDate) the item is part of the starting state: it raises no events."""
        require(principal, "core.sharedo.create")
        new = self._new_item(body, seeding=seed is not None)
        with self.store.transaction() as tx:
            return self._insert_new(tx, new, seed)

    def _new_item(self, body: Any, *, seeding: bool) -> _NewItem:
        """The create body, checked: every problem collected (in the order of the members) before the first
        is raised; the ODS and the parent are checked later, in the writing transaction."""
        f = Fields(body)
        wi = f.obj("workItem", required=True)
        refuse_unknown(f, CREATE_MEMBERS + (SEED_MEMBERS if seeding else ()), "POST /api/v1/public/workItem")
        if wi is not None:
            refuse_unknown(wi, CREATE_WORKITEM_MEMBERS, "workItem on POST /api/v1/public/workItem")
        new = _NewItem(parent_id=f.guid("parentSharedoId"))
        if wi is not None:
            self._read_work_item_members(wi, new)
            new.type_sn = self._creatable_type(wi, new.type_sn)
        aspect = f.obj("aspectData")
        new.aspect_data = self._aspect_data(aspect) if aspect is not None else {}
        new.key_dates = self._key_dates(f, new.type_sn)
        new.participants = self._participant_list(f, new.type_sn)
        f.raise_if_errors()
        assert new.type_sn is not None and new.title is not None
        return new

    @staticmethod
    def _read_work_item_members(wi: Fields, new: _NewItem) -> None:
        """The `workItem` object of a create body, read into `new`."""
        new.type_sn = wi.string("sharedoTypeSystemName", required=True, allow_empty=False, max_length=200)
        new.title = wi.string("title", required=True, allow_empty=False, max_length=TITLE_MAX)
        new.reference = wi.string("reference", max_length=REFERENCE_MAX)
        new.description = wi.string("description", max_length=100_000)
        # The id another system knows it by (a matter opened in the PMS): findByQuery's
        # search.externalReference finds it again, so a retried delivery never makes a second one.
        new.external = wi.string("externalReference", max_length=400)
        wi.boolean("titleIsUserProvided")
        wi.boolean("referenceIsUserProvided")
        wi.boolean("referenecIsUserProvided")  # an official sample's typo: checked, then ignored
        if wi.has("parentSharedoId") and new.parent_id is None:
            new.parent_id = wi.guid("parentSharedoId")

    def _creatable_type(self, wi: Fields, type_sn: str | None) -> str | None:
        """`type_sn` when an item of it can be made; else None, with the reason recorded on `wi`."""
        if not type_sn:
            return type_sn
        if type_sn not in self.types:
            known = sorted(t.system_name for t in self.types)
            wi.error("sharedoTypeSystemName", f"unknown work type {type_sn!r}; known: {known}")
            return None
        wt = self.types.get(type_sn)
        assert wt is not None
        if wt.is_abstract:
            problem = "is abstract; create one of its derived types"
        elif not wt.is_active:
            problem = "is not active"
        elif self.types.start_phase(type_sn) is None:
            problem = "has no phase plan with a start phase"
        else:
            return type_sn
        wi.error("sharedoTypeSystemName", f"work type {type_sn!r} {problem}")
        return None

    def _insert_new(self, tx: sqlite3.Connection, new: _NewItem, seed: dict[str, Any] | None) -> WorkItem:
        """Write a checked new item, its seed attributes and participants; events unless it is seeded."""
        seeding = seed is not None
        seed = seed or {}
        type_sn, parent_id = new.type_sn, new.parent_id
        assert type_sn is not None
        if parent_id and self.find(parent_id, tx) is None:
            raise invalid("parentSharedoId", f"no work item {parent_id!r}")
        self._check_participants_exist(tx, new.participants)
        now = seed.get("createdDate") or iso(self.clock.now())
        item_id = seed.get("id") or str(uuid.uuid4())
        phase = seed.get("phase") or self.types.start_phase(type_sn).system_name  # type: ignore[union-attr]
        if self.types.phase(type_sn, phase) is None:
            raise invalid("phase", f"work type {type_sn!r} has no phase {phase!r}")
        user_ref = new.reference is not None and new.reference != ""
        reference = new.reference if user_ref else self._generate_reference(tx, type_sn, now)
        doc = {
            "aspectData": new.aspect_data,
            "keyDates": new.key_dates,
            "titleIsUserProvided": True,
            "referenceIsUserProvided": user_ref,
        }
        if new.external:
            doc["externalReference"] = new.external
        tx.execute(
            "INSERT INTO work_items VALUES (?,?,?,?,?,?,?,?,?,?)",
            (item_id, type_sn, new.title, reference, new.description, phase, parent_id, now, now, dumps(doc)),
        )
        for name, value in (seed.get("attributes") or {}).items():
            tx.execute("INSERT INTO attributes VALUES (?,?,?)", (item_id, name, value))
        base = {"sharedoId": item_id, "sharedoTypeSystemName": type_sn}
        if not seeding:
            self.stream.append(
                tx,
                "sharedo-created",
                {**base, "title": new.title, "reference": reference, "parentSharedoId": parent_id, "phase": phase},
            )
        for role, ods_id in new.participants:
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
