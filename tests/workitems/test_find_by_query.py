import pytest

from tests.conftest import ENQUIRY_MATTER, ISSUED_INVOICE, OPEN_MATTER, SUBMITTED_PAYMENT

FIND = "/api/v1/public/workItem/findByQuery"
GRAPH = "/api/executionengine/graph/sharedo/query"


def find(api, search=None, enrich=()):
    response = api.post(FIND, {"search": search or {}, "enrich": [{"path": p} for p in enrich]})
    assert response.status_code == 200, response.json
    return response.json


def test_response_envelope_and_literal_path_keys(api):
    result = find(
        api,
        {"workItemIds": [OPEN_MATTER]},
        ["title", "reference", "phase.systemName", "type.systemName", "phase.name", "type.name", "createdDate"],
    )
    assert result["totalCount"] == 1
    (row,) = result["results"]
    assert row["id"] == OPEN_MATTER
    assert row["data"]["reference"] == "MAT-00002"
    assert row["data"]["phase.systemName"] == "matter-open"
    assert row["data"]["type.systemName"] == "matter-private-client"
    assert list(row["data"]) == [
        "title",
        "reference",
        "phase.systemName",
        "type.systemName",
        "phase.name",
        "type.name",
        "createdDate",
    ]


def test_types_derived_from_includes_subtypes_and_include_types_is_exact(api):
    derived = find(api, {"types": {"includeTypesDerivedFrom": ["matter"]}, "page": {"rowsPerPage": 100}})
    exact = find(
        api, {"types": {"includeTypes": ["matter-commercial"]}, "page": {"rowsPerPage": 100}}, ["type.systemName"]
    )
    assert derived["totalCount"] == 12
    assert {r["data"]["type.systemName"] for r in exact["results"]} == {"matter-commercial"}
    assert 0 < exact["totalCount"] < 12


def test_phase_filter_open_and_closed(api):
    matters = {"includeTypesDerivedFrom": ["matter"]}
    open_only = find(api, {"types": matters, "phase": {"includeOpen": True, "includeClosed": False}})
    closed_only = find(api, {"types": matters, "phase": {"IncludeOpen": False, "IncludeClosed": True}})
    assert open_only["totalCount"] + closed_only["totalCount"] == 12
    assert closed_only["totalCount"] == 2


def test_title_reference_and_free_text(api):
    assert [r["id"] for r in find(api, {"reference": "MAT-00002"})["results"]] == [OPEN_MATTER]
    title = find(api, {"title": "pritchard"}, ["title"])
    assert title["totalCount"] >= 1 and all("pritchard" in r["data"]["title"].lower() for r in title["results"])
    assert find(api, {"freeText": {"input": "zzzz-nothing"}})["totalCount"] == 0


def test_roles_and_attributes_filters(api):
    client_id = "1a000000-0000-4000-8000-000000000006"
    by_role = find(api, {"roles": [{"role": "client", "subjectIdsHoldingRole": [client_id]}]}, ["roles.client.ods.id"])
    assert by_role["totalCount"] >= 1
    assert all(r["data"]["roles.client.ods.id"] == client_id for r in by_role["results"])
    by_attr = find(api, {"attributes": [{"key": "pmsReference", "value": "PMS-260102"}]})
    assert [r["id"] for r in by_attr["results"]] == [OPEN_MATTER]
    by_selected = find(api, {"attributes": [{"key": "pmsReference", "selectedValues": ["PMS-260102", "nope"]}]})
    assert by_selected["totalCount"] == 1


def test_graph_ancestors_and_paging_and_sort(api):
    children = find(
        api,
        {
            "graph": {"ancestorIds": [OPEN_MATTER], "maxAncestorDistance": 1},
            "sort": {"orderBy": "title", "direction": "ascending"},
        },
        ["title", "parent.id"],
    )
    titles = [r["data"]["title"] for r in children["results"]]
    assert titles == sorted(titles) and children["totalCount"] >= 2
    assert {r["data"]["parent.id"] for r in children["results"]} == {OPEN_MATTER}
    first = find(api, {"page": {"page": 1, "rowsPerPage": 5}})
    second = find(api, {"page": {"page": 2, "rowsPerPage": 5}})
    assert len(first["results"]) == 5 and first["totalCount"] == second["totalCount"]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_dates_filter_in_the_format_real_tools_send(api):
    everything = find(api, {"dates": {"created": {"from": "2000-01-01 00:00", "to": "2100-01-01 00:00"}}})
    nothing = find(api, {"dates": {"created": {"from": "2099-01-01 00:00"}}})
    assert everything["totalCount"] > 0 and nothing["totalCount"] == 0


def test_enrich_paths_through_participants_forms_and_ancestors(api):
    (row,) = find(
        api,
        {"workItemIds": [SUBMITTED_PAYMENT]},
        [
            "parent.reference",
            "ancestors!q?type=matter!1.reference",
            "ancestors!q?path=matter!1.title",
            "ancestors!q?type=matter!1.form-demo-finance.pmsReference",
            "roles.payee.ods.name",
            "urls.view",
            "ancestors!q?type=invoice!1.reference",
        ],
    )["results"]
    data = row["data"]
    assert data["parent.reference"] == "MAT-00002"
    assert data["ancestors!q?type=matter!1.reference"] == "MAT-00002"
    assert data["ancestors!q?type=matter!1.form-demo-finance.pmsReference"] == "PMS-260102"
    assert data["roles.payee.ods.name"] == "Clearview Property Searches"
    assert data["urls.view"] == f"/sharedo/{SUBMITTED_PAYMENT}"
    assert data["ancestors!q?type=invoice!1.reference"] is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"search": {"types": {"includeTypes": [5]}}}, "search.types.includeTypes[0]"),
        ({"search": {"colour": "red"}}, "search.colour"),
        ({"search": {"page": {"size": 5}}}, "search.page.size"),
        ({"search": {"roles": [{"role": "client", "name": "x"}]}}, "search.roles[0].name"),
        ({"sort": {"orderBy": "title"}}, "sort"),
        ({"search": {"page": {"rowsPerPage": 0}}}, "search.page.rowsPerPage"),
        ({"search": {"sort": {"orderBy": "colour"}}}, "search.sort.orderBy"),
        ({"search": {"dates": {"created": {"from": "last week"}}}}, "search.dates.created.from"),
        ({"search": {"workItemIds": "abc"}}, "search.workItemIds"),
        ({"enrich": [{"path": ""}]}, "enrich[0].path"),
        ({"enrich": [{"path": "a..b"}]}, "enrich[0].path"),
        ({"enrich": [{"path": "ancestors!x"}]}, "enrich[0].path"),
        ({"enrich": [{"path": "no.such.path"}]}, "enrich[0].path"),  # an unknown name is a 400, not a null
        ({"search": []}, "search"),
    ],
)
def test_bad_queries_are_400_naming_the_field(api, body, field):
    response = api.post(FIND, body)
    assert response.status_code == 400, response.json
    assert field in [e["field"] for e in response.json["errors"]]


def test_graph_query_answers_flat_data_for_workflow_blocks(api):
    response = api.post(
        GRAPH,
        {
            "entityType": "sharedo",
            "entityId": ISSUED_INVOICE,
            "allowParallelExecution": True,
            "executeCalculatedFields": True,
            "responseType": "flat",
            "fields": [
                {"path": "workitem.reference"},
                {"path": "workitem.phase.systemName"},
                {"path": "workitem.ancestors!q?type=matter!1.reference"},
                {"path": "workitem.form-demo-finance.pmsReference"},
            ],
        },
    )
    assert response.status_code == 200
    assert response.json["data"] == {
        "workitem.reference": "INV-00001",
        "workitem.phase.systemName": "invoice-issued",
        "workitem.ancestors!q?type=matter!1.reference": "MAT-00005",
        "workitem.form-demo-finance.pmsReference": None,
    }


def test_graph_query_errors(api):
    assert api.post(GRAPH, {"entityId": "nope", "fields": []}).status_code == 400
    missing = api.post(GRAPH, {"entityId": "00000000-0000-4000-8000-000000000000", "fields": [{"path": "id"}]})
    assert missing.status_code == 404 and "was not found" in missing.json["title"]
    assert (
        api.post(GRAPH, {"entityId": ENQUIRY_MATTER, "fields": [{"path": "id"}], "responseType": "tree"}).status_code
        == 400
    )


def test_graph_query_takes_what_real_generated_blocks_send(api):
    """Blocks name the entity by work type and list fields as bare strings or with includeFields."""
    response = api.post(
        GRAPH,
        {
            "entityType": "matter",
            "entityId": OPEN_MATTER,
            "allowParallelExecution": True,
            "responseType": "flat",
            "fields": [
                "workitem.reference",
                {"path": "workitem.children", "includeFields": [{"path": "title"}, {"path": "phase.systemName"}]},
            ],
        },
    )
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["workitem.reference"] == "MAT-00002"
    assert data["workitem.children"] and set(data["workitem.children"][0]) == {"title", "phase.systemName"}
    assert api.post(GRAPH, {"entityId": OPEN_MATTER, "fields": [5]}).status_code == 400
