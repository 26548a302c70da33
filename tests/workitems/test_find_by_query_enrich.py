"""findByQuery's enrich as third-party widgets send it: `includeFields` on an entry, the `descendants`
collection with its `!q?path=...&closed=true` filter, and a clear 400 for any part of a path the emulator
does not understand (never a silent null)."""

from __future__ import annotations

import pytest

from tests.conftest import OPEN_MATTER

FIND = "/api/v1/public/workItem/findByQuery"
GRAPH = "/api/executionengine/graph/sharedo/query"
DONE_TASK = "4d000000-0000-4000-8000-000000000001"  # TSK-00001 under MAT-00002, phase task-done (closed)
OPEN_TASK = "4d000000-0000-4000-8000-000000000002"  # TSK-00002 under MAT-00002, in progress
PAYMENT = "5e000000-0000-4000-8000-000000000001"  # PR-00001 under MAT-00002, submitted
DESCENDANTS = "descendants!q?path=task&closed=true"


def sub_task(api, parent: str, title: str) -> str:
    """A task two levels below the matter: descendants reach it, children do not."""
    created = api.post(
        "/api/v1/public/workItem",
        {"parentSharedoId": parent, "workItem": {"sharedoTypeSystemName": "task", "title": title}},
    )
    assert created.status_code == 201, created.json
    return created.json["workItem"]["id"]


def enrich(api, item: str, entries: list[dict]) -> dict:
    response = api.post(FIND, {"search": {"workItemIds": [item]}, "enrich": entries})
    assert response.status_code == 200, response.json
    (row,) = response.json["results"]
    return row["data"]


def test_descendants_with_include_fields_as_a_third_party_totals_widget_sends_it(api):
    grandchild = sub_task(api, OPEN_TASK, "Chase the seller's solicitor")
    api.post(f"/api/v1/public/workItem/{OPEN_TASK}/attributes", {"pmsReference": "7"})
    api.post(f"/api/v1/public/workItem/{DONE_TASK}/attributes", {"pmsReference": "5"})
    include = [{"path": "form-demo-finance.pmsReference"}, {"path": "Title"}, {"path": "phase.name"}]
    data = enrich(api, OPEN_MATTER, [{"path": "title"}, {"path": DESCENDANTS, "includeFields": include}])
    rows = data[DESCENDANTS]
    assert [set(r) for r in rows] == [{"form-demo-finance.pmsReference", "Title", "phase.name"}] * 3
    by_title = {r["Title"]: r for r in rows}  # `Title` as the widget writes it: names match without case
    assert set(by_title) == {
        "Obtain official copies from HM Land Registry",
        "Raise pre-contract enquiries with the seller's solicitors",
        "Chase the seller's solicitor",
    }
    assert sum(int(r["form-demo-finance.pmsReference"] or 0) for r in rows) == 12  # the widget's own sum
    assert by_title["Obtain official copies from HM Land Registry"]["phase.name"] == "Done"
    assert data["title"]  # plain entries still read as values
    assert grandchild not in [r.get("id") for r in rows]  # only the asked fields, no extras


def test_descendants_default_to_open_items_and_reach_every_level(api):
    grandchild = sub_task(api, OPEN_TASK, "Second-level task")
    data = enrich(
        api,
        OPEN_MATTER,
        [
            {"path": "descendants"},
            {"path": "descendants!q?closed=true"},
            {"path": "descendants!q?path=task"},
            {"path": "descendants!q?type=payment-request!1.reference"},
            {"path": "children"},
        ],
    )
    assert set(data["descendants"]) == {OPEN_TASK, PAYMENT, grandchild}  # TSK-00001 is done: closed
    assert set(data["descendants!q?closed=true"]) == {DONE_TASK, OPEN_TASK, PAYMENT, grandchild}
    assert set(data["descendants!q?path=task"]) == {OPEN_TASK, grandchild}
    assert data["descendants!q?type=payment-request!1.reference"] == "PR-00001"
    assert grandchild not in data["children"]  # children stay one level
    assert data["descendants"].index(OPEN_TASK) < data["descendants"].index(grandchild)  # level by level


def test_include_fields_on_a_single_value_and_on_participants(api):
    data = enrich(
        api,
        PAYMENT,
        [
            {"path": "parent", "includeFields": [{"path": "reference"}]},
            {"path": "participants", "includeFields": [{"path": "participantRoleType"}]},
        ],
    )
    assert data["parent"] == [{"reference": "MAT-00002"}]
    assert {"participantRoleType": "payee"} in data["participants"]


@pytest.mark.parametrize(
    "entry, field, named",
    [
        ({"path": "descendantz!q?path=task"}, "enrich[0].path", "'descendantz'"),
        ({"path": "descendants!q?colour=red"}, "enrich[0].path", "'colour'"),
        ({"path": "descendants!q?path="}, "enrich[0].path", "'path'"),
        ({"path": "descendants!q?closed=maybe"}, "enrich[0].path", "'maybe'"),
        ({"path": "parent.nmae"}, "enrich[0].path", "'nmae'"),
        ({"path": "phase.sytemName"}, "enrich[0].path", "'sytemName'"),
        ({"path": "parent.type.colour"}, "enrich[0].path", "'colour'"),
        (
            {"path": DESCENDANTS, "includeFields": [{"path": "phase.name"}, {"path": "titel"}]},
            "enrich[0].includeFields[1].path",
            "'titel'",
        ),
        ({"path": DESCENDANTS, "includeFields": [{"name": "title"}]}, "enrich[0].includeFields[0].name", "'name'"),
        ({"path": DESCENDANTS, "includeFields": "title"}, "enrich[0].includeFields", "array"),
    ],
)
def test_what_an_enrich_path_does_not_understand_is_a_400_naming_the_part(api, entry, field, named):
    response = api.post(FIND, {"search": {"workItemIds": [OPEN_MATTER]}, "enrich": [entry]})
    assert response.status_code == 400, response.json
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert field in errors and named in errors[field], errors


def test_data_below_a_work_item_stays_data_and_reads_null_when_absent(api):
    data = enrich(api, OPEN_MATTER, [{"path": "aspectData.noSuchAspect.value"}, {"path": "roles.nobody.ods.name"}])
    assert data == {"aspectData.noSuchAspect.value": None, "roles.nobody.ods.name": None}


def test_graph_query_refuses_an_unknown_name_too(api):
    body = {"entityId": OPEN_MATTER, "fields": ["workitem.reference", {"path": "workitem.refrence"}]}
    response = api.post(GRAPH, body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json["errors"]] == ["fields[1].path"]
    body["fields"] = [{"path": "workitem.descendants!q?path=task", "includeFields": [{"path": "reference"}]}]
    ok = api.post(GRAPH, body)
    assert ok.status_code == 200, ok.json
    assert ok.json["data"]["workitem.descendants!q?path=task"] == [{"reference": "TSK-00002"}]


def test_every_fixed_member_the_emulator_lists_reads_a_value(api):
    """FIXED_MEMBERS (emulator/paths.py) says which members `phase`, `type`, ... have: each one resolves."""
    from emulator.paths import FIXED_MEMBERS

    paths = [f"{field}.{member}" for field, members in FIXED_MEMBERS.items() for member in members]
    data = enrich(api, OPEN_MATTER, [{"path": p} for p in paths] + [{"path": "PHASE.SystemName"}])
    assert [p for p in paths if data[p] is None] == []
    assert data["PHASE.SystemName"] == data["phase.systemName"] == "matter-open"


def test_a_path_that_multiplies_descendants_is_cut_short_with_a_400_not_a_hang(api):
    """`descendants.descendants...` on a deep tree reads each item's subtree again per level: the reads a
    request may make are bounded, and going past the bound is a 400 naming the path."""
    parent = OPEN_TASK
    for i in range(40):  # a chain 40 deep below the open task
        parent = sub_task(api, parent, f"level {i}")
    path = "descendants." * 6 + "title"
    response = api.post(FIND, {"search": {"workItemIds": [OPEN_MATTER]}, "enrich": [{"path": path}]})
    assert response.status_code == 400, response.json
    assert "enrich[0].path" in response.json["errors"][0]["field"]
    assert "work items" in response.json["title"]


def test_descendants_after_a_collection_are_each_element_s_not_an_empty_list(api):
    """`children.descendants.title`: each child's open descendants, not a silent [] (the implied closed=false
    filter must look inside each child's list); `children.children!q?type=task` likewise."""
    sub_task(api, OPEN_TASK, "Below the open task")
    data = enrich(
        api, OPEN_MATTER, [{"path": "children.descendants.title"}, {"path": "children.children!q?type=task.title"}]
    )
    flat = [title for titles in data["children.descendants.title"] for title in titles]
    assert flat == ["Below the open task"]
    assert [t for titles in data["children.children!q?type=task.title"] for t in titles] == ["Below the open task"]


def test_wide_include_fields_on_every_row_are_cut_short_with_a_400(api):
    """200 enrich entries of 100 includeFields each, on the descendants of every item of a 1000-row page: the
    fields read count against the same bound, so the answer is a 400 once the bound is reached, not
    half a minute of work (the read budget, not a timer: the suite times nothing)."""
    parent = OPEN_TASK
    for i in range(60):
        parent = sub_task(api, parent, f"level {i}")
    entry = {"path": "descendants!q?closed=true", "includeFields": [{"path": "title"}] * 100}
    response = api.post(FIND, {"search": {"page": {"rowsPerPage": 1000}}, "enrich": [entry] * 200})
    assert response.status_code == 400, str(response.json)[:300]
    assert "work items or fields" in response.json["title"]
