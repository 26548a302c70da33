import json

import pytest

from tests.conftest import CLIENT_PERSON, SUPPLIER_ORG


@pytest.mark.parametrize("prefix", ["/api/public/v1", "/api/public/v2", "/api/v2/public"])
def test_people_and_organisations_in_every_path_style(api, prefix):
    person = api.get(f"{prefix}/people/{CLIENT_PERSON}")
    assert person.status_code == 200
    assert (person.json["firstName"], person.json["surname"]) == ("Margaret", "Ellison")
    org = api.get(f"{prefix}/organisation/{SUPPLIER_ORG}")
    assert org.status_code == 200 and org.json["name"] == "Clearview Property Searches"


def test_wrong_kind_or_unknown_id_is_404(api):
    assert api.get(f"/api/public/v1/people/{SUPPLIER_ORG}").status_code == 404
    assert api.get("/api/public/v1/organisation/00000000-0000-4000-8000-000000000000").status_code == 404


def test_emulator_only_keys_are_not_exposed(api):
    person = api.get("/api/public/v1/people/1a000000-0000-4000-8000-000000000004").json
    assert person["userName"] == "tom.becker" and "permissions" not in person


def test_search_returns_rows_with_json_string_results(api):
    response = api.post(
        "/api/ods/_search", {"searchString": "ellison", "odsEntityTypes": ["person"], "startPage": 1, "rowsPerPage": 10}
    )
    assert response.status_code == 200
    body = response.json
    assert body["totalRows"] == 1 and body["rows"][0]["odsEntityType"] == "person"
    assert json.loads(body["rows"][0]["result"])["surname"] == "Ellison"


def test_search_pages_and_filters_kinds(api):
    orgs = api.post("/api/ods/_search", {"odsEntityTypes": ["organisation"], "rowsPerPage": 2}).json
    assert orgs["totalRows"] == 7 and len(orgs["rows"]) == 2 and orgs["totalPages"] == 4
    assert {r["odsEntityType"] for r in orgs["rows"]} == {"organisation"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"odsEntityTypes": ["alien"]}, "odsEntityTypes"),
        ({"rowsPerPage": 0}, "rowsPerPage"),
        ({"searchString": 5}, "searchString"),
    ],
)
def test_bad_searches_are_400(api, body, field):
    response = api.post("/api/ods/_search", body)
    assert response.status_code == 400 and response.json["errors"][0]["field"] == field
