"""The execution engine's graph query (`POST /api/executionengine/graph/sharedo/query`): named paths read on
one work item, over the same path resolver as findByQuery's `enrich`."""

from __future__ import annotations

from typing import Any

from .kernel.binding import Fields
from .kernel.errors import ApiError, not_found
from .paths import Resolver, check_path
from .workitems import WorkItems


def answer_graph_query(items: WorkItems, body: Any) -> dict[str, Any]:
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
    bare: set[str] = set()
    for where, value in f.items("fields", max_items=500):
        if isinstance(value, str):  # generated blocks also send bare path strings
            fields.append((where, value, []))
            bare.add(where)
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
    for where, path, subpaths in fields:  # a name the object model lacks is a 400 naming it, never a null
        try:
            inner = path.split(".", 1)[1] if path.lower().startswith("workitem.") else path
            on_items = check_path(inner, where if where in bare else f"{where}.path")
            for i, sub in enumerate(subpaths):
                check_path(sub, f"{where}.includeFields[{i}].path", on_work_item=on_items)
        except ApiError as exc:
            f.errors.extend(exc.errors)
    f.raise_if_errors()
    with items.store.read() as conn:
        item = items.find(entity_id, conn)  # type: ignore[arg-type]
        if item is None:
            raise not_found("work item", str(entity_id), field="entityId")  # what the query is about
        resolver = Resolver(items, conn)
        data = {}
        for where, path, subpaths in fields:
            inner = path.split(".", 1)[1] if path.lower().startswith("workitem.") else path
            if subpaths:
                data[path] = resolver.resolve_each(item, inner, subpaths, f"{where}.path")
            else:
                data[path] = resolver.resolve(item, inner, f"{where}.path")
    return {"data": data}
