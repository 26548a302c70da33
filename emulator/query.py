"""`findByQuery` and the execution engine's graph query, over one path resolver."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .graph_query import answer_graph_query
from .kernel.binding import Fields
from .kernel.clock import UTC, parse_instant
from .kernel.errors import ApiError
from .kernel.jsonfile import get_ci
from .paths import Resolver, check_path
from .workitems import WorkItem, WorkItems

SORTABLE = {
    "createdDate": "created",
    "updatedDate": "updated",
    "title": "title",
    "reference": "reference",
    "dueDate": None,
}

# Every member a findByQuery body takes, level by level; keys bind case-insensitively. A member that is
# in neither table is a 400 naming it and its path, so a typo never widens a search silently. The README's
# findByQuery section says what each does. [confirmed names: S1 Filing + time entry, S2 SPAs + Outlook plugin,
# S3 mobile app, S11]
MEMBERS: dict[str, tuple[str, ...]] = {
    "": ("search", "enrich"),
    "enrich[]": ("path", "includeFields"),
    "enrich[].includeFields[]": ("path",),
    "search": (
        "page",
        "sort",
        "types",
        "phase",
        "ownership",
        "workItemIds",
        "title",
        "reference",
        "externalReference",
        "freeText",
        "roles",
        "advancedRoles",
        "attributes",
        "graph",
        "dates",
    ),
    "search.page": ("page", "rowsPerPage"),
    "search.sort": ("orderBy", "direction"),
    "search.types": ("includeTypes", "includeTypesDerivedFrom"),
    "search.phase": ("includeOpen", "includeClosed", "includeRemoved"),
    "search.ownership": ("myScope",),
    "search.ownership.myScope": ("ownerIds", "primary", "secondary"),
    "search.freeText": ("input",),
    "search.roles[]": ("role", "subjectIdsHoldingRole", "search"),
    "search.advancedRoles[]": ("roles", "postCode", "contactDetails"),
    "search.advancedRoles[].contactDetails[]": ("contactType", "value"),
    "search.attributes[]": ("key", "value", "selectedValues", "search"),
    "search.graph": ("ancestorIds", "maxAncestorDistance"),
    "search.dates": ("created", "updated"),
    "search.dates.created": ("from", "to"),
    "search.dates.updated": ("from", "to"),
}
# Members a tenant takes that the emulator cannot honour: type-checked, then ignored. Each says why. [inferred]
IGNORED: dict[str, dict[str, str]] = {
    "search.freeText": {
        "wildcardStart": "free text always matches anywhere in title, reference and description",
        "wildCardEnd": "free text always matches anywhere in title, reference and description",
    },
    "search.graph": {"includeRelated": "the emulator models parent links only, not related-item links"},
}

# Ownership ("my scope"). [C: S3 participants, `participantRoleType: "primary-owner"`] The primary owner holds
# this role. [inferred] A secondary owner is one of the owner ids holding any other role on the item (a fee
# earner, a requester): the samples only ever ask for primary. Absent ownerIds mean the caller ("my" scope);
# a caller who is no user (plain client credentials) owns nothing. Absent `primary` reads as true, absent
# `secondary` as false (every sample sends primary:true, secondary:false); both false match nothing.
PRIMARY_OWNER_ROLE = "primary-owner"

Test = Callable[..., bool]


def _date(value: str, where: str, f: Fields) -> datetime | None:
    """Dates in searches come as "YYYY-MM-DD HH:mm" (seen in real tooling) or ISO 8601."""
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        return parse_instant(value)
    except ValueError:
        f.errors.append({"field": where, "message": f"expected 'YYYY-MM-DD HH:mm' or ISO 8601, got {value[:40]!r}"})
        return None


def _members(f: Fields, level: str) -> Fields:
    """Report every member `level` does not take (see MEMBERS and IGNORED); type-check the ignored ones."""
    known = {k.lower(): k for k in MEMBERS[level]} | {k.lower(): k for k in IGNORED.get(level, {})}
    for name in f.names():
        if name.lower() not in known:
            takes = ", ".join(sorted(known.values(), key=str.lower))
            f.error(name, f"findByQuery does not take {name!r} in {level or 'the body'}; it takes {takes}")
    for name in IGNORED.get(level, {}):
        f.boolean(name)
    return f


def _guids(f: Fields, key: str) -> list[str]:
    """An array of GUIDs in canonical (lower-case) form; a malformed one is an error at its index."""
    out = []
    for where, value in f.items(key):
        try:
            out.append(str(uuid.UUID(value)))
        except (ValueError, TypeError, AttributeError):
            shown = repr(value[:60]) if isinstance(value, str) else "a non-string"
            f.errors.append({"field": where, "message": f"expected a GUID, got {shown}"})
    return out


def _level(path: str) -> str:
    """`search.roles[0].contactDetails[1]` → `search.roles[].contactDetails[]`: the MEMBERS key of a path."""
    return re.sub(r"\[\d+\]", "[]", path)


def _norm_postcode(value: Any) -> str:
    return "".join(str(value or "").split()).upper()


def _has_post_code(doc: dict[str, Any], post: str) -> bool:
    """An address of the ODS record whose post code (without spaces or case) starts with `post`."""
    codes = [_norm_postcode(get_ci(loc, "postCode")) for loc in doc.get("locations") or [] if isinstance(loc, dict)]
    return any(code and code.startswith(post) for code in codes)


def _has_contacts(doc: dict[str, Any], contacts: list[tuple[str, str]]) -> bool:
    """Every (contact type, value) among the record's active contact details; an empty type is any type."""
    details = [
        d
        for d in get_ci(doc.get("aspectData") or {}, "ContactDetails") or []
        if isinstance(d, dict) and get_ci(d, "isActive", True) is not False
    ]
    return all(any(_contact_matches(d, kind, value) for d in details) for kind, value in contacts)


def _contact_matches(detail: dict[str, Any], kind: str, value: str) -> bool:
    detail_kind = str(get_ci(detail, "contactTypeSystemName") or "").lower()
    detail_value = str(get_ci(detail, "contactValue") or "").strip().lower()
    return (not kind or detail_kind == kind) and detail_value == value


# The search members the SQL path takes (with page and sort): each reads only an item's id, type or phase.
SQL_MEMBERS = {"page", "sort", "types", "phase", "workitemids"}
# What each sort orders by in SQL: the same as _sort_key (a missing reference sorts as ""), on an index each.
SORT_SQL = {
    "createdDate": "created",
    "updatedDate": "updated",
    "title": "title",
    "reference": "COALESCE(reference, '')",
}
SORT_BY_INDEX_ABOVE = 2_000  # matches: above it the page is found by walking the sort index, below by sorting


class _Probe:
    """Stands for every item of one (type, phase) pair when the filters that read only those are decided."""

    id = ""

    def __init__(self, type_: str, phase: str) -> None:
        self.type, self.phase = type_, phase


class Queries:
    def __init__(self, items: WorkItems) -> None:
        self.items = items
        self.types = items.types

    def find_by_query(self, body: Any, user_id: str | None = None) -> dict[str, Any]:
        """`user_id` is the caller's ODS id: what `ownership.myScope` means without `ownerIds`."""
        f = _members(Fields(body), "")
        search = _members(f.obj("search") or Fields({}, "search", f.errors), "search")
        enrich = self._enrich_paths(f)
        page_no, rows = self._page(search)
        order_by, direction = self._sort(search)
        filters = self._filters(search, user_id)
        f.raise_if_errors()

        light = order_by != "dueDate" and all(n.lower() in SQL_MEMBERS for n in search.names())
        with self.items.store.read() as conn:
            if light:  # the common page of results: filtered, counted, sorted and cut in SQLite
                return self._find_in_sql(conn, search, filters, order_by, direction, page_no, rows, enrich)
            resolver = Resolver(self.items, conn)
            matched = self._matching(conn, resolver, filters)
            matched.sort(key=lambda i: self._sort_key(i, order_by), reverse=direction.lower().startswith("desc"))
            window = matched[(page_no - 1) * rows : page_no * rows]
            results = self._results(resolver, window, enrich)
        return {"totalCount": len(matched), "results": results}

    def _enrich_paths(self, f: Fields) -> list[tuple[str, list[str]]]:
        """`enrich[]` as (path, includeFields: the sub-paths read on each element)."""
        enrich: list[tuple[str, list[str]]] = []
        for where, e in f.items("enrich", max_items=200):
            ef = _members(Fields(e, where, f.errors), "enrich[]")
            path = ef.string("path", required=True, allow_empty=False, max_length=500)
            subpaths = self._include_fields(ef, path)
            if path:
                enrich.append((path, subpaths))
        return enrich

    def _page(self, search: Fields) -> tuple[int, int]:
        """`search.page{page, rowsPerPage}`: the page number (from 1) and its size."""
        page = self._obj(search, "page")
        if page is None:
            return 1, 20
        page_no = page.integer("page", default=1, minimum=1, maximum=1_000_000) or 1
        rows = page.integer("rowsPerPage", default=20, minimum=1, maximum=1000) or 20
        return page_no, rows

    def _sort(self, search: Fields) -> tuple[str, str]:
        """`search.sort{orderBy, direction}`, each checked against what can be sorted on."""
        sort = self._obj(search, "sort")
        order_by = (sort.string("orderBy", max_length=50) if sort else None) or "createdDate"
        direction = (sort.string("direction", max_length=20) if sort else None) or "descending"
        if order_by not in SORTABLE:
            (sort or search).error("orderBy", f"cannot sort by {order_by!r}; use one of {sorted(SORTABLE)}")
        if direction.lower() not in ("ascending", "descending", "asc", "desc"):
            (sort or search).error("direction", "use 'ascending' or 'descending'")
        return order_by, direction

    def _matching(self, conn: Any, resolver: Resolver, filters: list[Test]) -> list[WorkItem]:
        """Every work item that passes every test: the general path, for searches SQL cannot answer alone.
        An item's participants are read once, however many tests ask for them."""
        seen: dict[str, list[dict[str, Any]]] = {}

        def parts(item: WorkItem) -> list[dict[str, Any]]:
            if item.id not in seen:
                seen[item.id] = self.items.participants(item.id, conn)
            return seen[item.id]

        candidates = [WorkItem.from_row(r) for r in conn.execute("SELECT * FROM work_items")]
        return [i for i in candidates if all(test(i, conn, resolver, parts) for test in filters)]

    def _results(
        self, resolver: Resolver, window: list[WorkItem], enrich: list[tuple[str, list[str]]]
    ) -> list[dict[str, Any]]:
        """The page's rows with their enriched paths: the general path and the SQL path both end here."""
        return [
            {"id": i.id, "data": {p: self._enrich(resolver, i, p, subs, n) for n, (p, subs) in enumerate(enrich)}}
            for i in window
        ]

    def _find_in_sql(
        self,
        conn: Any,
        search: Fields,
        filters: list[Test],
        order_by: str,
        direction: str,
        page_no: int,
        rows: int,
        enrich: list[tuple[str, list[str]]],
    ) -> dict[str, Any]:
        """A search of ids, types and phases only: the same answer as the general path, at the cost of one
        page, not of the whole store. Which (type, phase) pairs pass is decided once per distinct pair (by
        the same tests the general path runs on each item); SQLite then counts, sorts and cuts the page on
        indexes, and only the page's rows are read whole."""
        ids = search.strings("workItemIds")
        pair_tests = filters[1:] if ids else filters  # _filters puts the ids test first; the rest read type, phase
        counts = conn.execute("SELECT type, phase, n FROM work_item_counts WHERE n > 0").fetchall()
        passing = [
            (t, ph, n)
            for t, ph, n in counts
            if all(test(_Probe(t, ph), conn, None, None) for test in pair_tests)  # type: ignore[arg-type]
        ]
        if not passing:
            return {"totalCount": 0, "results": []}
        where: list[str] = []
        args: list[Any] = []
        if ids:
            wanted = sorted({i.lower() for i in ids})
            where.append(f"lower(id) IN ({','.join('?' * len(wanted))})")
            args += wanted
        if len(passing) < len(counts):
            where.append(f"(type, phase) IN (VALUES {','.join(['(?,?)'] * len(passing))})")
            args += [x for t, ph, _ in passing for x in (t, ph)]
        clause = " AND ".join(where) or "1=1"
        if ids:  # a few rows, found on the lower(id) index
            total = conn.execute(f"SELECT COUNT(*) FROM work_items WHERE {clause}", args).fetchone()[0]
        else:
            total = sum(n for _, _, n in passing)
        if total > SORT_BY_INDEX_ABOVE and not ids:
            # Many matches: walk the sort order's index and stop at the page (`+` keeps SQLite off the type
            # index, which would sort every match first). Few: find them by type and phase, then sort those.
            clause = clause.replace("(type, phase) IN", "(+type, +phase) IN")
        way = "DESC" if direction.lower().startswith("desc") else "ASC"
        window = conn.execute(
            f"SELECT * FROM work_items WHERE {clause} ORDER BY {SORT_SQL[order_by]} {way}, id {way} LIMIT ? OFFSET ?",
            [*args, rows, (page_no - 1) * rows],
        ).fetchall()
        resolver = Resolver(self.items, conn)
        items = [WorkItem.from_row(r) for r in window]
        return {"totalCount": total, "results": self._results(resolver, items, enrich)}

    @staticmethod
    def _include_fields(ef: Fields, path: str | None) -> list[str]:
        """`enrich[].includeFields[{path}]`: what to read on each element the path ends on, as third-party
        widgets send it for `descendants!q?...` (the answer is then a list of `{<sub-path>: value}`, like the
        graph query's). [inferred] A path that ends on one value gives a list of one; sub-paths are read on the
        path's elements, so they name a work item's fields where the path ends on work items."""
        on_items = True
        if path:
            try:
                on_items = check_path(path, f"{ef.path}.path")
            except ApiError as exc:  # keep collecting, as every other member does
                ef.errors.extend(exc.errors)
                return []
        subpaths = []
        for where, sub in ef.items("includeFields", max_items=100):
            sf = _members(Fields(sub, where, ef.errors), "enrich[].includeFields[]")
            sub_path = sf.string("path", required=True, allow_empty=False, max_length=500)
            if not sub_path:
                continue
            try:
                check_path(sub_path, f"{where}.path", on_work_item=on_items)
            except ApiError as exc:
                ef.errors.extend(exc.errors)
                continue
            subpaths.append(sub_path)
        return subpaths

    @staticmethod
    def _enrich(resolver: Resolver, item: WorkItem, path: str, subpaths: list[str], index: int) -> Any:
        if subpaths:
            return resolver.resolve_each(item, path, subpaths, f"enrich[{index}].path")
        return resolver.resolve(item, path, f"enrich[{index}].path")

    @staticmethod
    def _obj(f: Fields, key: str) -> Fields | None:
        found = f.obj(key)
        return _members(found, f"{_level(f.path)}.{key}".lstrip(".")) if found is not None else None

    @staticmethod
    def _each(f: Fields, key: str, max_items: int = 50) -> list[Fields]:
        level = f"{_level(f.path)}.{key}[]".lstrip(".")
        return [_members(Fields(v, where, f.errors), level) for where, v in f.items(key, max_items=max_items)]

    @staticmethod
    def _sort_key(item: WorkItem, order_by: str) -> tuple:
        if order_by == "dueDate":
            due = item.body.get("aspectData", {}).get("task", {}).get("dueDateTime") or ""
            return (due, item.id)
        return (getattr(item, SORTABLE[order_by]) or "", item.id)

    def _filters(self, s: Fields, user_id: str | None) -> list[Test]:
        """One test per search member, read in this order (so errors come in it too). The ids test, when
        there is one, comes first: `_find_in_sql` skips it, as every later test reads only type and phase."""
        return [
            *self._ids_test(s),
            *self._types_test(s),
            self._phase_test(s),
            *self._text_tests(s),
            *self._free_text_test(s),
            *self._ownership(s, user_id),
            *self._roles(s),
            *self._advanced_roles(s),
            *self._attribute_tests(s),
            *self._graph_test(s),
            *self._date_tests(s),
        ]

    @staticmethod
    def _ids_test(s: Fields) -> list[Test]:
        """`workItemIds`: only these items (ids compare without case)."""
        ids = s.strings("workItemIds")
        if not ids:
            return []
        wanted = {i.lower() for i in ids}
        return [lambda i, c, r, p: i.id.lower() in wanted]

    def _types_test(self, s: Fields) -> list[Test]:
        """`types{includeTypes, includeTypesDerivedFrom}`: a type the solution does not have matches nothing:
        clients send fixed lists (the mobile app names a dozen task types) to every tenant. [inferred]"""
        types = self._obj(s, "types")
        if not types:
            return []
        inc = set(types.strings("includeTypes"))
        named = types.strings("includeTypesDerivedFrom")
        derived = [t for t in named if t in self.types]
        if not (inc or named):
            return []
        return [lambda i, c, r, p: i.type in inc or any(self.types.is_derived_from(i.type, d) for d in derived)]

    def _phase_test(self, s: Fields) -> Test:
        """`phase{includeOpen, includeClosed, includeRemoved}`: always a test, as removed items are left out
        unless asked for. A phase the type does not know passes."""
        phase = self._obj(s, "phase")
        inc_open = phase.boolean("includeOpen", True) if phase else True
        inc_closed = phase.boolean("includeClosed", True) if phase else True
        inc_removed = phase.boolean("includeRemoved", False) if phase else False

        def phase_ok(i: WorkItem, c, r, p) -> bool:
            ph = self.types.phase(i.type, i.phase)
            if ph is None:
                return True
            if ph.is_removed:
                return bool(inc_removed)
            return bool(inc_open) if ph.is_open else bool(inc_closed)

        return phase_ok

    @staticmethod
    def _text_tests(s: Fields) -> list[Test]:
        """`title` and `reference` contain the text (without case); `externalReference` is it exactly."""
        tests: list[Test] = []
        for key, attr in (("title", "title"), ("reference", "reference")):
            value = s.string(key, max_length=400)
            if value:
                needle = value.lower()
                tests.append(lambda i, c, r, p, v=needle, a=attr: v in (getattr(i, a) or "").lower())
        ext = s.string("externalReference", max_length=400)
        if ext:
            tests.append(lambda i, c, r, p: (i.body.get("externalReference") or "") == ext)
        return tests

    def _free_text_test(self, s: Fields) -> list[Test]:
        """`freeText{input}`: anywhere in title, reference or description, without case; `*` ends are dropped."""
        free = self._obj(s, "freeText")
        text = free.string("input", max_length=400) if free else None
        if not text:
            return []
        needle = text.lower().strip("*")
        return [lambda i, c, r, p: needle in " ".join(x or "" for x in (i.title, i.reference, i.description)).lower()]

    def _attribute_tests(self, s: Fields) -> list[Test]:
        """`attributes[{key, value | selectedValues | search}]`: see `_attribute_ok`. Entries must all hold."""
        tests: list[Test] = []
        for af in self._each(s, "attributes"):
            key = af.string("key", required=True, max_length=200)
            exact = af.string("value", max_length=4000)
            selected = af.strings("selectedValues")
            contains = af.string("search", max_length=4000)
            if key:
                tests.append(
                    lambda i, c, r, p, k=key, e=exact, sel=selected, con=contains: self._attribute_ok(
                        c, i, k, e, sel, con
                    )
                )
        return tests

    def _graph_test(self, s: Fields) -> list[Test]:
        """`graph{ancestorIds, maxAncestorDistance}`: one of the ids among the item's nearest ancestors."""
        graph = self._obj(s, "graph")
        if not graph:
            return []
        ancestors = {a.lower() for a in graph.strings("ancestorIds")}
        distance = graph.integer("maxAncestorDistance", default=None, minimum=1, maximum=100)
        if not ancestors:
            return []
        return [
            lambda i, c, r, p: any(a.lower() in ancestors for a in (r.resolve(i, "ancestors") or [])[: distance or 100])
        ]

    def _date_tests(self, s: Fields) -> list[Test]:
        """`dates{created, updated}{from, to}`: both ends inclusive; see `_date` for the forms taken."""
        dates = self._obj(s, "dates")
        if not dates:
            return []
        tests: list[Test] = []
        for key, column in (("created", "created"), ("updated", "updated")):
            rng = self._obj(dates, key)
            if not rng:
                continue
            lo = rng.string("from", max_length=40)
            hi = rng.string("to", max_length=40)
            lo_d = _date(lo, f"{rng.path}.from", s) if lo else None
            hi_d = _date(hi, f"{rng.path}.to", s) if hi else None
            tests.append(
                lambda i, c, r, p, col=column, lo=lo_d, hi=hi_d: (
                    (lo is None or parse_instant(getattr(i, col)) >= lo)
                    and (hi is None or parse_instant(getattr(i, col)) <= hi)
                )
            )
        return tests

    def _ownership(self, s: Fields, user_id: str | None) -> list[Test]:
        """`ownership.myScope{ownerIds, primary, secondary}`: see PRIMARY_OWNER_ROLE for the rules."""
        ownership = self._obj(s, "ownership")
        scope = self._obj(ownership, "myScope") if ownership else None
        if scope is None:
            return []
        owners = set(_guids(scope, "ownerIds"))
        if not owners and user_id:
            owners = {user_id.lower()}
        primary = scope.boolean("primary", True)
        secondary = scope.boolean("secondary", False)

        def owned(i: WorkItem, c, r, parts) -> bool:
            return any(
                x["odsId"].lower() in owners
                and (
                    (primary and x["participantRoleType"] == PRIMARY_OWNER_ROLE)
                    or (secondary and x["participantRoleType"] != PRIMARY_OWNER_ROLE)
                )
                for x in parts(i)
            )

        return [owned]

    def _roles(self, s: Fields) -> list[Test]:
        """`roles[{role, subjectIdsHoldingRole | search}]`: one participant in the role, held by one of the ids
        and (with `search`) whose name contains the text. Entries must all hold."""
        tests: list[Test] = []
        for rf in self._each(s, "roles"):
            role = rf.string("role", required=True, max_length=200)
            holders = {h.lower() for h in rf.strings("subjectIdsHoldingRole")}
            text = (rf.string("search", max_length=400) or "").strip().strip("*").lower()
            if role:
                tests.append(
                    lambda i, c, r, parts, role=role, holders=holders, text=text: any(
                        x["participantRoleType"] == role
                        and (not holders or x["odsId"].lower() in holders)
                        and text in (x["odsName"] or "").lower()
                        for x in parts(i)
                    )
                )
        return tests

    def _advanced_roles(self, s: Fields) -> list[Test]:
        """`advancedRoles[{roles, postCode, contactDetails[{contactType, value}]}]`: one participant (in one of
        `roles`, or any role without it) whose ODS record has an address with that post code and every contact
        detail asked for. [inferred] Post codes compare without spaces or case, and a partial one ("HG2")
        matches its prefix; contact values compare without case, over the record's active details."""
        tests: list[Test] = []
        for af in self._each(s, "advancedRoles"):
            roles = set(af.strings("roles"))
            post = _norm_postcode(af.string("postCode", max_length=20))
            contacts = []
            for cf in self._each(af, "contactDetails", max_items=20):
                kind = (cf.string("contactType", max_length=100) or "").lower()
                value = cf.string("value", required=True, allow_empty=False, max_length=400)
                if value:
                    contacts.append((kind, value.strip().lower()))
            if not (roles or post or contacts):
                af.error("", "an advancedRoles entry needs roles, postCode or contactDetails")
                continue
            tests.append(
                lambda i, c, r, parts, roles=roles, post=post, contacts=contacts: any(
                    (not roles or x["participantRoleType"] in roles) and self._ods_ok(c, x["odsId"], post, contacts)
                    for x in parts(i)
                )
            )
        return tests

    def _ods_ok(self, conn, ods_id: str, post: str, contacts: list[tuple[str, str]]) -> bool:
        """Whether the ODS record has an address with the post code (a prefix) and every contact detail."""
        if not post and not contacts:
            return True
        found = self.items.ods.find(ods_id, conn)
        if found is None:
            return False
        doc = found[1]
        return (not post or _has_post_code(doc, post)) and _has_contacts(doc, contacts)

    @staticmethod
    def _attribute_ok(
        conn, item: WorkItem, key: str, exact: str | None, selected: list[str], contains: str | None
    ) -> bool:
        row = conn.execute("SELECT value FROM attributes WHERE work_item_id=? AND name=?", (item.id, key)).fetchone()
        value = row["value"] if row else None
        if exact is not None:
            return value == exact
        if selected:
            return value in selected
        if contains:
            return value is not None and contains.lower() in value.lower()
        return value is not None

    def graph_query(self, body: Any) -> dict[str, Any]:
        """`POST /api/executionengine/graph/sharedo/query` → `{data: {<path>: value}}` (graph_query.py)."""
        return answer_graph_query(self.items, body)
