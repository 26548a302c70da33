"""A page of findByQuery costs a page, not the store: a search of ids, types and phases (with page and sort)
is counted, sorted and cut in SQLite, and only the page's work items are read whole. It answers exactly
as the general path does (which every other member takes).
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.workitems import WorkItem
from tests.conftest import OPEN_MATTER, new_matter

FIND = "/api/v1/public/workItem/findByQuery"


def find(api: Any, search: dict[str, Any]) -> dict[str, Any]:
    response = api.post(FIND, {"search": search, "enrich": [{"path": "title"}, {"path": "reference"}]})
    assert response.status_code == 200, response.json
    return response.json


def test_a_page_reads_only_its_own_work_items_whole(api, monkeypatch):
    for i in range(60):
        new_matter(api, workItem={"sharedoTypeSystemName": "matter-private-client", "title": f"bulk {i}"})
    decoded = []
    original = WorkItem.from_row.__func__

    def counting(cls, row):
        decoded.append(row["id"])
        return original(cls, row)

    monkeypatch.setattr(WorkItem, "from_row", classmethod(counting))
    result = find(api, {"page": {"page": 2, "rowsPerPage": 5}, "phase": {"includeOpen": True}})
    assert result["totalCount"] > 60 and len(result["results"]) == 5
    assert len(decoded) <= 5 + 5  # the page's rows (and what enriching them reads), not every work item


SEARCHES = [
    {},
    {"page": {"page": 3, "rowsPerPage": 7}},
    {"sort": {"orderBy": "title", "direction": "ascending"}, "page": {"rowsPerPage": 50}},
    {"sort": {"orderBy": "reference", "direction": "descending"}, "page": {"rowsPerPage": 50}},
    {"sort": {"orderBy": "updatedDate", "direction": "asc"}, "page": {"page": 2, "rowsPerPage": 9}},
    {"types": {"includeTypesDerivedFrom": ["matter"]}, "page": {"rowsPerPage": 100}},
    {"types": {"includeTypes": ["matter-private-client", "no-such-type"]}},
    {"types": {"includeTypes": ["no-such-type"]}},
    {"phase": {"includeOpen": False, "includeClosed": True}, "page": {"rowsPerPage": 100}},
    {"phase": {"includeOpen": True, "includeClosed": False, "includeRemoved": True}, "page": {"rowsPerPage": 100}},
    {"workItemIds": [OPEN_MATTER.upper(), "00000000-0000-4000-8000-000000000000"]},
    {"workItemIds": [OPEN_MATTER], "types": {"includeTypes": ["task"]}},
]


@pytest.mark.parametrize("search", SEARCHES)
def test_the_sql_path_answers_as_the_general_path_does(api, search):
    for _ in range(5):  # created on one virtual instant: the sort's tie-break (the id) decides their order
        new_matter(api, workItem={"sharedoTypeSystemName": "matter-private-client", "title": "same"})
    general = find(api, {**search, "title": ""})  # an empty title filters nothing but takes the general path
    assert find(api, search) == general


def test_the_counts_a_page_is_counted_from_follow_creates_moves_resets_and_imports(api, app):
    em = app.extensions["operate"]

    def counts_match() -> bool:
        with em.store.read() as conn:
            kept = {(t, p): n for t, p, n in conn.execute("SELECT type, phase, n FROM work_item_counts") if n}
            actual = {
                (t, p): n for t, p, n in conn.execute("SELECT type, phase, COUNT(*) FROM work_items GROUP BY 1, 2")
            }
        return kept == actual

    item = new_matter(api)
    assert (
        api.put(f"/api/v1/public/workItem/{item['id']}/phase", {"toPhaseSystemName": "matter-open"}).status_code < 300
    )
    assert counts_match()
    snapshot = em.store.export()
    em.reset()
    assert counts_match()
    em.store.import_snapshot(snapshot)
    assert counts_match()
    assert find(api, {"workItemIds": [item["id"]]})["totalCount"] == 1
