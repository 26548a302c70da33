"""`findByQuery` and the execution engine's graph query, over one path resolver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .kernel.binding import Fields
from .kernel.clock import UTC, parse_instant
from .kernel.errors import not_found
from .paths import Resolver, parse_path
from .workitems import WorkItem, WorkItems

SORTABLE = {
    "createdDate": "created",
    "updatedDate": "updated",
    "title": "title",
    "reference": "reference",
    "dueDate": None,
}


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


class Queries:
    def __init__(self, items: WorkItems) -> None:
        self.items = items
        self.types = items.types

    def find_by_query(self, body: Any) -> dict[str, Any]:
        f = Fields(body)
        search = f.obj("search") or Fields({}, "search", f.errors)
        enrich = []
        for where, e in f.items("enrich", max_items=200):
            ef = Fields(e, where, f.errors)
            path = ef.string("path", required=True, allow_empty=False, max_length=500)
            if path:
                enrich.append(path)
        page = search.obj("page")
        page_no = (page.integer("page", default=1, minimum=1, maximum=1_000_000) if page else 1) or 1
        rows = (page.integer("rowsPerPage", default=20, minimum=1, maximum=1000) if page else 20) or 20
        sort = search.obj("sort")
        order_by = (sort.string("orderBy", max_length=50) if sort else None) or "createdDate"
        direction = (sort.string("direction", max_length=20) if sort else None) or "descending"
        if order_by not in SORTABLE:
            (sort or search).error("orderBy", f"cannot sort by {order_by!r}; use one of {sorted(SORTABLE)}")
        if direction.lower() not in ("ascending", "descending", "asc", "desc"):
            (sort or search).error("direction", "use 'ascending' or 'descending'")
        filters = self._filters(search)
        for i, p in enumerate(enrich):
            try:
                parse_path(p, f"enrich[{i}].path")
            except Exception as exc:  # ApiError from the parser: keep collecting
                f.errors.extend(getattr(exc, "errors", []))
        f.raise_if_errors()

        with self.items.store.read() as conn:
            candidates = [WorkItem.from_row(r) for r in conn.execute("SELECT * FROM work_items")]
            resolver = Resolver(self.items, conn)
            matched = [i for i in candidates if all(test(i, conn, resolver) for test in filters)]
            matched.sort(key=lambda i: self._sort_key(i, order_by), reverse=direction.lower().startswith("desc"))
            window = matched[(page_no - 1) * rows : page_no * rows]
            results = [{"id": i.id, "data": {p: resolver.resolve(i, p) for p in enrich}} for i in window]
        return {"totalCount": len(matched), "results": results}

    @staticmethod
    def _sort_key(item: WorkItem, order_by: str) -> tuple:
        if order_by == "dueDate":
            due = item.body.get("aspectData", {}).get("task", {}).get("dueDateTime") or ""
            return (due, item.id)
        return (getattr(item, SORTABLE[order_by]) or "", item.id)

    def _filters(self, s: Fields) -> list:
        tests: list = []
        ids = s.strings("workItemIds")
        if ids:
            wanted = {i.lower() for i in ids}
            tests.append(lambda i, c, r: i.id.lower() in wanted)
        types = s.obj("types")
        if types:
            inc = types.strings("includeTypes")
            derived = types.strings("includeTypesDerivedFrom")
            for t in inc + derived:
                if t not in self.types:
                    types.error("includeTypes" if t in inc else "includeTypesDerivedFrom", f"unknown work type {t!r}")
            if inc or derived:
                tests.append(
                    lambda i, c, r: i.type in inc or any(self.types.is_derived_from(i.type, d) for d in derived)
                )
        phase = s.obj("phase")
        inc_open = phase.boolean("includeOpen", True) if phase else True
        inc_closed = phase.boolean("includeClosed", True) if phase else True
        inc_removed = phase.boolean("includeRemoved", False) if phase else False

        def phase_ok(i: WorkItem, c, r) -> bool:
            p = self.types.phase(i.type, i.phase)
            if p is None:
                return True
            if p.is_removed:
                return bool(inc_removed)
            return bool(inc_open) if p.is_open else bool(inc_closed)

        tests.append(phase_ok)
        for key, attr in (("title", "title"), ("reference", "reference")):
            value = s.string(key, max_length=400)
            if value:
                needle = value.lower()
                tests.append(lambda i, c, r, v=needle, a=attr: v in (getattr(i, a) or "").lower())
        ext = s.string("externalReference", max_length=400)
        if ext:
            tests.append(lambda i, c, r: (i.body.get("externalReference") or "") == ext)
        free = s.obj("freeText")
        text = free.string("input", max_length=400) if free else None
        if text:
            needle = text.lower().strip("*")
            tests.append(
                lambda i, c, r: needle in " ".join(x or "" for x in (i.title, i.reference, i.description)).lower()
            )
        for where, value in s.items("roles", max_items=50):
            rf = Fields(value, where, s.errors)
            role = rf.string("role", required=True, max_length=200)
            holders = {h.lower() for h in rf.strings("subjectIdsHoldingRole")}
            if role:
                tests.append(
                    lambda i, c, r, role=role, holders=holders: any(
                        p["participantRoleType"] == role and (not holders or p["odsId"].lower() in holders)
                        for p in self.items.participants(i.id, c)
                    )
                )
        for where, value in s.items("attributes", max_items=50):
            af = Fields(value, where, s.errors)
            key = af.string("key", required=True, max_length=200)
            exact = af.string("value", max_length=4000)
            selected = af.strings("selectedValues")
            contains = af.string("search", max_length=4000)
            if key:
                tests.append(
                    lambda i, c, r, k=key, e=exact, sel=selected, con=contains: self._attribute_ok(c, i, k, e, sel, con)
                )
        graph = s.obj("graph")
        if graph:
            ancestors = {a.lower() for a in graph.strings("ancestorIds")}
            distance = graph.integer("maxAncestorDistance", default=None, minimum=1, maximum=100)
            if ancestors:
                tests.append(
                    lambda i, c, r: any(
                        a.lower() in ancestors for a in (r.resolve(i, "ancestors") or [])[: distance or 100]
                    )
                )
        dates = s.obj("dates")
        if dates:
            for key, column in (("created", "created"), ("updated", "updated")):
                rng = dates.obj(key)
                if not rng:
                    continue
                lo = rng.string("from", max_length=40)
                hi = rng.string("to", max_length=40)
                lo_d = _date(lo, f"{rng.path}.from", s) if lo else None
                hi_d = _date(hi, f"{rng.path}.to", s) if hi else None
                tests.append(
                    lambda i, c, r, col=column, lo=lo_d, hi=hi_d: (
                        (lo is None or parse_instant(getattr(i, col)) >= lo)
                        and (hi is None or parse_instant(getattr(i, col)) <= hi)
                    )
                )
        return tests

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
        """`POST /api/executionengine/graph/sharedo/query` → `{data: {<path>: value}}`."""
        f = Fields(body)
        # Real blocks name the entity by kind or by work type ("sharedo", "matter", a task type...);
        # the id alone picks the work item.
        f.string("entityType", max_length=200)
        entity_id = f.guid("entityId", required=True)
        response_type = f.string("responseType", max_length=20)
        response_type = "flat" if response_type is None else response_type  # "" is not "flat" (the document's enum)
        f.boolean("allowParallelExecution")
        f.boolean("executeCalculatedFields")
        if response_type != "flat":
            f.error("responseType", "only 'flat' responses are emulated")
        fields: list[tuple[str, str, list[str]]] = []
        for where, value in f.items("fields", max_items=500):
            if isinstance(value, str):  # generated blocks also send bare path strings
                fields.append((where, value, []))
                continue
            pf = Fields(value, where, f.errors)
            path = pf.string("path", required=True, allow_empty=False, max_length=500)
            subpaths = []
            for sub_where, sub in pf.items("includeFields", max_items=100):
                sf = Fields(sub, sub_where, f.errors)
                sub_path = sf.string("path", required=True, allow_empty=False, max_length=500)
                if sub_path:
                    subpaths.append(sub_path)
            if path:
                fields.append((where, path, subpaths))
        f.raise_if_errors()
        with self.items.store.read() as conn:
            item = self.items.find(entity_id, conn)  # type: ignore[arg-type]
            if item is None:
                raise not_found("work item", str(entity_id), field="entityId")  # what the query is about
            resolver = Resolver(self.items, conn)
            data = {}
            for where, path, subpaths in fields:
                inner = path.split(".", 1)[1] if path.lower().startswith("workitem.") else path
                if subpaths:
                    data[path] = resolver.resolve_each(item, inner, subpaths, f"{where}.path")
                else:
                    data[path] = resolver.resolve(item, inner, f"{where}.path")
        return {"data": data}
