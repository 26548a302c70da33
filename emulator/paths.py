"""The data-composer path resolver behind findByQuery's `enrich` and the execution engine's graph
query: `phase.systemName`, `roles.client.ods.name`, `form-<form>.<field>`,
`ancestors!q?type=matter!1.reference`, and so on over the emulator's object model."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from .documents import related_documents
from .kernel.clock import UTC, iso, parse_instant
from .kernel.errors import invalid
from .ods import display_name
from .workitems import WorkItem, WorkItems

_SEGMENT = re.compile(r"([^.!]+)((?:![^.!]*)*)")

# The names a work item takes in a path, matched without case (third-party widgets write `Title`). A name
# that is none of these is a 400 naming it: a typo or a field the emulator does not model must never read
# as a silent null. `form-<form>` is any form. [confirmed names: the samples' and third-party enrich paths]
WORK_ITEM_FIELDS = (
    "id",
    "title",
    "reference",
    "createdDate",
    "updatedDate",
    "externalReference",
    "description",
    "phase",
    "type",
    "parent",
    "ancestors",
    "children",
    "descendants",
    "roles",
    "participants",
    "attributes",
    "aspectData",
    "keyDates",
    "taskDueDate",
    "urls",
    "documents",
)
_FIELD_BY_LOWER = {name.lower(): name for name in WORK_ITEM_FIELDS}
# Fields whose value is one or more work items: the next name in the path is a work item's field again.
WORK_ITEM_VALUED = frozenset({"parent", "ancestors", "children", "descendants"})
# Fields with a fixed set of members (what `Resolver._item_field` builds): another member is a 400 too.
FIXED_MEMBERS: dict[str, tuple[str, ...]] = {
    "phase": ("systemName", "name", "isOpen", "isRemoved", "iconClass"),
    "type": ("systemName", "name", "iconClass", "path"),
    "description": ("html", "text", "value"),
    "urls": ("view",),
}

# The keys a `!q?key=value&...` filter takes; any other key is a 400 naming it. [inferred meanings]
#   type    the item's work type is this type or derives from it
#   path    the item's type path (`/matter/matter-commercial/`) contains this type as one of its parts
#   phase   the item is in this phase (system name)
#   role    a participant holds this role (on `participants` and `roles`)
#   closed  `true` keeps items in closed phases, `false` drops them
FILTER_KEYS = ("type", "path", "phase", "role", "closed")
# Filters a collection applies when the path does not say. [inferred] `descendants` gives the open work
# below an item unless asked `closed=true` (third-party widgets ask exactly that to count finished tasks
# too); items in removed phases never count as descendants.
DEFAULT_FILTERS: dict[str, dict[str, str]] = {"descendants": {"closed": "false"}}
MAX_DESCENDANTS = 10_000  # a guard against a runaway tree; deeper or wider trees are cut there
# The work items one request's paths may read in all (`descendants.descendants...` reads each subtree again per
# level, so a short path on a deep tree could read millions): past it the request is a 400 naming the path.
MAX_ITEMS_READ = 1_000_000

# Simple fields of a work item, by path, with where each comes from. [confirmed names; values inferred]
_TOP = {
    "id": lambda i: i.id,
    "title": lambda i: i.title,
    "reference": lambda i: i.reference,
    "createdDate": lambda i: i.created,
    "updatedDate": lambda i: i.updated,
    "externalReference": lambda i: i.body.get("externalReference"),
}


class Node:
    """A value with members: it reads as `plain` where a path ends on it and can be stepped into. A date reads
    as its UTC instant in ISO 8601 (what `new Date(value)` and .NET parse) and has `utc.value` and
    `local.value`; a participant type reads as its system name and has `iconClass`."""

    def __init__(self, plain: Any, members: dict[str, Any]) -> None:
        self.plain = plain
        self.members = members


# [inferred] Icons of the ODS entity types, as `participantType.iconClass` reads them (S3's mobile app shows it).
PARTICIPANT_TYPE_ICONS = {"person": "fa-user", "organisation": "fa-building"}


def date_node(value: Any) -> Node | None:
    """A stored instant as the data composer gives dates: `.utc.value` (ISO 8601, `Z`) and `.local.value`.
    [inferred] The emulator has no tenant time zone, so local time is UTC, written with its `+00:00` offset.
    A value that is no instant (an empty due date) reads as null."""
    try:
        moment = parse_instant(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        return None
    utc = iso(moment)
    local = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return Node(utc, {"utc": {"value": utc}, "local": {"value": local}})


def _description(item: WorkItem) -> dict[str, Any]:
    return {"html": item.description, "text": item.description, "value": item.description}


def _key_dates(item: WorkItem) -> dict[str, Any]:
    """A key date reads like the task-like item it is on a tenant: `keyDates.<type>.date`,
    `.taskDueDate.date.utc.value` and a stable `.id`. [inferred]"""
    return {
        kd: {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{item.id}/keyDates/{kd}")),
            "keyDateType": kd,
            "date": date_node(value),
            "taskDueDate": {"date": date_node(value)},
        }
        for kd, value in item.body.get("keyDates", {}).items()
    }


def _task_due_date(item: WorkItem) -> dict[str, Any] | None:
    """`taskDueDate.date` (S2's implicit SPAs) and `taskDueDate.date.utc.value` (the later auth-code SPA, the
    Outlook plugin) both give an instant `new Date(...)` parses; `.local.value` (S3) too."""
    due = date_node(item.body.get("aspectData", {}).get("task", {}).get("dueDateTime"))
    return {"date": due} if due is not None else None


def parse_path(path: Any, field: str = "path") -> list[tuple[str, list[str]]]:
    """Split a path into (name, modifiers) segments; `a!q?type=x!1.b` → [(a, [q?type=x, 1]), (b, [])]."""
    if not isinstance(path, str) or not path.strip() or len(path) > 500:
        raise invalid(field, "a path is a non-empty string of at most 500 characters")
    segments, pos = [], 0
    text = path.strip()
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if not m:
            raise invalid(field, f"cannot read path {path!r} at character {pos + 1}")
        modifiers = [x for x in m.group(2).split("!")[1:]]
        for mod in modifiers:
            # ASCII digits only: "²".isdigit() is true, but int("²") fails.
            if not ((mod.isascii() and mod.isdigit()) or mod.startswith("q?")):
                raise invalid(field, f"path {path!r}: '!{mod}' is neither an index (!1) nor a filter (!q?type=...)")
        for mod in modifiers:
            if mod.startswith("q?"):
                _check_filter(path, mod, field)
        segments.append((m.group(1), modifiers))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ".":
                raise invalid(field, f"cannot read path {path!r} at character {pos + 1}")
            pos += 1
            if pos == len(text):
                raise invalid(field, f"path {path!r} ends with '.'")
    return segments


def _check_filter(path: str, mod: str, field: str) -> None:
    """Every key of a `!q?...` filter is one of FILTER_KEYS and has a value; `closed` is true or false."""
    pairs = parse_qsl(mod[2:], keep_blank_values=True)
    if not pairs:
        raise invalid(field, f"path {path!r}: '!{mod}' has no filter; use !q?key=value with {', '.join(FILTER_KEYS)}")
    for key, value in pairs:
        if key not in FILTER_KEYS:
            raise invalid(
                field,
                f"path {path!r}: filter key {key!r} in '!{mod}' is not understood; it takes {', '.join(FILTER_KEYS)}",
            )
        if not value:
            raise invalid(field, f"path {path!r}: filter key {key!r} in '!{mod}' has no value")
        if key == "closed" and value.lower() not in ("true", "false"):
            raise invalid(field, f"path {path!r}: closed={value[:20]!r} in '!{mod}' must be true or false")


def field_name(name: str) -> str | None:
    """The work item field a path segment names (any case), or None when it names none."""
    if name.lower().startswith("form-"):
        return "form-" + name[5:]
    return _FIELD_BY_LOWER.get(name.lower())


def check_path(path: Any, field: str = "path", on_work_item: bool = True) -> bool:
    """Parse `path` and refuse (400 naming the part) a name a work item does not have, wherever the path
    steps on a work item. Returns whether the path ends on work items (so `includeFields` read their fields)."""
    fixed: tuple[str, ...] = ()  # the members the previous name's value has, when it has a fixed set
    for name, _ in parse_path(path, field):
        if fixed:
            if name.lower() not in {m.lower() for m in fixed}:
                raise invalid(
                    field,
                    f"path {path!r}: {name!r} is not a member the emulator knows there (a typo, or not emulated:"
                    f" see /_emulator/fidelity); it knows {', '.join(fixed)}",
                )
            fixed = ()
            continue
        if not on_work_item:  # past a value that is no work item: the rest names data (aspectData keys, ...)
            continue
        canonical = field_name(name)
        if canonical is None:
            raise invalid(
                field,
                f"path {path!r}: {name!r} is not a work item field the emulator knows (a typo, or not emulated:"
                f" see /_emulator/fidelity); it knows {', '.join(WORK_ITEM_FIELDS)} and form-<form>",
            )
        on_work_item = canonical in WORK_ITEM_VALUED
        fixed = FIXED_MEMBERS.get(canonical, ())
    return on_work_item


class Resolver:
    """Resolves paths against one work item, reading related items lazily through one connection."""

    def __init__(self, items: WorkItems, conn: sqlite3.Connection) -> None:
        self.items = items
        self.conn = conn
        self.types = items.types
        self.form_fields = items.solution.form_fields()
        self.items_read = 0  # counted against MAX_ITEMS_READ
        self._field = "path"  # the request member being resolved, named by a 400
        # How each work item field that is more than one column is read (the simple ones are `_TOP`'s).
        self._readers: dict[str, Callable[[WorkItem], Any]] = {
            "description": _description,
            "phase": self._phase,
            "type": self._type,
            "parent": self._parent,
            "ancestors": self._ancestors,
            "children": self._children,
            "descendants": self._descendants,
            "roles": self._roles,
            "participants": self._participants,
            "attributes": self._attributes,
            "aspectData": lambda item: item.body.get("aspectData", {}),
            "keyDates": _key_dates,
            "taskDueDate": _task_due_date,
            "urls": lambda item: {"view": f"/sharedo/{item.id}"},
            # the related documents (`documents!1.title`: the mobile search's "has documents")
            "documents": lambda item: related_documents(self.conn, item.id),
        }

    def resolve(self, item: WorkItem, path: str, field: str = "path") -> Any:
        return self._plain(self._walk(item, path, field))

    def resolve_each(self, item: WorkItem, path: str, subpaths: list[str], field: str = "path") -> Any:
        """A collection with only the named fields of each element (the graph's `includeFields`)."""
        value = self._walk(item, path, field)
        if value is None:
            return None
        elements = value if isinstance(value, list) else [value]
        self._charge(len(elements) * len(subpaths), field)  # each element's sub-paths are read one by one
        return [{sub: self._plain(self._walk(element, sub, field)) for sub in subpaths} for element in elements]

    def _walk(self, start: Any, path: str, field: str) -> Any:
        self._field = field
        value: Any = start
        for name, modifiers in parse_path(path, field):
            on_item = isinstance(value, WorkItem) or (
                isinstance(value, list) and all(isinstance(x, WorkItem) for x in value)
            )
            value = self._step(value, name)
            default = DEFAULT_FILTERS.get(field_name(name) or "", {}) if on_item else {}
            given = {k for mod in modifiers if mod.startswith("q?") for k, _ in parse_qsl(mod[2:])}
            implied = {k: v for k, v in default.items() if k not in given}
            if implied and isinstance(value, list):
                value = self._filter(value, implied)
            for mod in modifiers:
                value = self._modify(value, mod)
            if value is None:
                return None
        return value

    # -- one step -------------------------------------------------------------------------------
    def _step(self, value: Any, name: str) -> Any:
        if isinstance(value, list):
            return [v for v in (self._step(x, name) for x in value) if v is not None]
        if isinstance(value, WorkItem):
            return self._item_field(value, name)
        if isinstance(value, Node):
            value = value.members
        if isinstance(value, dict):
            if name in value:
                return value[name]
            low = name.lower()
            return next((v for k, v in value.items() if k.lower() == low), None)
        return None

    def _item_field(self, item: WorkItem, name: str) -> Any:
        """One field of a work item (any case); None for a name it does not have."""
        name = field_name(name) or name
        if name in _TOP:
            return _TOP[name](item)
        if name.startswith("form-"):
            attrs = self._attributes(item)
            return {f: attrs.get(f) for f in self.form_fields.get(name[5:], set())} | attrs
        reader = self._readers.get(name)
        return reader(item) if reader is not None else None

    def _phase(self, item: WorkItem) -> dict[str, Any]:
        phase = self.types.phase(item.type, item.phase)
        return {
            "systemName": item.phase,
            "name": phase.name if phase else item.phase,
            "isOpen": phase.is_open if phase else True,
            "isRemoved": phase.is_removed if phase else False,
            "iconClass": phase.icon_class if phase else "",
        }

    def _type(self, item: WorkItem) -> dict[str, Any]:
        wt = self.types.get(item.type)
        return {
            "systemName": item.type,
            "name": wt.name if wt else item.type,
            "iconClass": wt.icon_class if wt else "",
            "path": self.types.path(item.type),
        }

    def _parent(self, item: WorkItem) -> WorkItem | None:
        return self.items.find(item.parent_id, self.conn) if item.parent_id else None

    def _ancestors(self, item: WorkItem) -> list[WorkItem]:
        """Parent, grandparent, ... up to 100 levels; a missing parent ends the line."""
        out, current = [], item
        for _ in range(100):
            if not current.parent_id:
                break
            parent = self.items.find(current.parent_id, self.conn)
            if parent is None:
                break
            out.append(parent)
            current = parent
        return out

    def _participants(self, item: WorkItem) -> list[dict[str, Any]]:
        return [self._participant(p) for p in self.items.participants(item.id, self.conn)]

    def _children(self, item: WorkItem) -> list[WorkItem]:
        rows = self.conn.execute("SELECT * FROM work_items WHERE parent_id=? ORDER BY created, id", (item.id,))
        children = [WorkItem.from_row(r) for r in rows]
        self._charge(len(children) + 1, self._field)
        return children

    def _charge(self, reads: int, field: str) -> None:
        """Count reads against MAX_ITEMS_READ; past it the request is a 400 naming the member being read."""
        self.items_read += reads
        if self.items_read > MAX_ITEMS_READ:
            raise invalid(
                field,
                f"the request's paths read more than {MAX_ITEMS_READ} work items or fields (each level of "
                "`descendants` or `children` after a collection reads every subtree again, and `includeFields` "
                "reads each field of each element); ask for fewer levels, items or fields",
            )

    def _descendants(self, item: WorkItem) -> list[WorkItem]:
        """Every work item below this one, level by level (children first, then theirs), each level in the
        order children are. [inferred order] Removed items and what is below them are left out."""
        out: list[WorkItem] = []
        seen = {item.id}
        level = [item]
        while level and len(out) < MAX_DESCENDANTS:
            below = []
            for parent in level:
                for child in self._children(parent):
                    if child.id in seen:
                        continue
                    seen.add(child.id)
                    phase = self.types.phase(child.type, child.phase)
                    if phase is not None and phase.is_removed:
                        continue
                    below.append(child)
            out += below
            level = below
        return out[:MAX_DESCENDANTS]

    def _attributes(self, item: WorkItem) -> dict[str, Any]:
        rows = self.conn.execute("SELECT name, value FROM attributes WHERE work_item_id=?", (item.id,))
        return {r["name"]: r["value"] for r in rows}

    def _participant(self, p: dict[str, Any]) -> dict[str, Any]:
        found = self.items.ods.find(p["odsId"], self.conn)
        kind, doc = found if found else ("unknown", {})
        ods = {**doc, "id": p["odsId"], "name": display_name(kind, doc), "odsEntityType": kind}
        participant_type = Node(
            p["participantType"],
            {
                "systemName": p["participantType"],
                "name": p["participantType"].capitalize(),
                "iconClass": PARTICIPANT_TYPE_ICONS.get(p["participantType"], "fa-question"),
            },
        )
        return {**p, "participantType": participant_type, "ods": ods}

    def _roles(self, item: WorkItem) -> dict[str, Any]:
        out: dict[str, list[dict[str, Any]]] = {}
        for p in self.items.participants(item.id, self.conn):
            out.setdefault(p["participantRoleType"], []).append(self._participant(p))
        # A role with one holder reads as that holder (`roles.client.ods.name`); `!1` also works.
        return {role: holders[0] if len(holders) == 1 else holders for role, holders in out.items()}

    # -- modifiers ------------------------------------------------------------------------------
    def _modify(self, value: Any, mod: str) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        if mod.isdigit():
            index = int(mod)
            return items[index - 1] if 1 <= index <= len(items) else None
        return self._filter(items, {k: v[0] for k, v in parse_qs(mod[2:]).items()})

    def _filter(self, items: list[Any], query: dict[str, str]) -> list[Any]:
        """Keep what passes every key of a `!q?` filter (FILTER_KEYS says what each means). A collection of
        collections (`children.descendants`: each child's descendants) is filtered inside each one."""
        out = [self._filter(x, query) if isinstance(x, list) else x for x in items]

        def keep(kind: type, test: Any) -> list[Any]:
            return [x for x in out if isinstance(x, list) or (isinstance(x, kind) and test(x))]

        if "type" in query:
            out = keep(WorkItem, lambda x: self.types.is_derived_from(x.type, query["type"]))
        if "path" in query:
            want = query["path"].strip("/")
            out = keep(WorkItem, lambda x: want in self.types.path(x.type).strip("/").split("/"))
        if "phase" in query:
            out = keep(WorkItem, lambda x: x.phase == query["phase"])
        if "role" in query:
            out = keep(dict, lambda x: x.get("participantRoleType") == query["role"])
        if query.get("closed", "").lower() == "false":
            out = keep(WorkItem, self._is_open)
        return out

    def _is_open(self, item: WorkItem) -> bool:
        phase = self.types.phase(item.type, item.phase)
        return phase is None or (phase.is_open and not phase.is_removed)

    def _plain(self, value: Any) -> Any:
        """A work item at the end of a path reads as its id, a Node as its plain value; lists and objects read
        member by member."""
        if isinstance(value, WorkItem):
            return value.id
        if isinstance(value, Node):
            return value.plain
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        return value
