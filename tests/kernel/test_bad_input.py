"""Bad input at the door: a number no .NET type holds, NaN, nesting past .NET's default depth. Each answers
400 saying what was wrong, and nothing is written."""

from __future__ import annotations

import pytest

from tests.conftest import OPEN_MATTER

JSON = {"Content-Type": "application/json"}
FEES = f"/api/v1/public/workItem/{OPEN_MATTER}/finance/fees"


def raw(api, method: str, path: str, text: str):
    return api.request(method, path, data=text.encode(), headers=JSON)


@pytest.mark.parametrize(
    "text, said",
    [
        ('{"estimatedFees": ' + "9" * 5000 + "}", "a whole number of 5000 digits (the limit is 4300)"),
        ('{"estimatedFees": -' + "9" * 4301 + "}", "a whole number of 4301 digits"),
        ('{"estimatedFees": 1e400}', "too large for a double"),
        ('{"estimatedFees": NaN}', "NaN is not JSON"),
        ('{"estimatedFees": Infinity}', "Infinity is not JSON"),
    ],
)
def test_numbers_no_dotnet_type_holds_are_refused(api, text, said):
    before = api.get(FEES).json
    response = raw(api, "PUT", FEES, text)
    assert response.status_code == 400, response.json
    assert said in response.json["title"]
    assert api.get(FEES).json == before


def test_a_whole_number_past_64_bits_is_refused_where_a_field_takes_one(api):
    response = raw(api, "PUT", FEES, '{"estimatedFees": 99999999999999999999}')
    assert response.status_code == 400, response.json
    assert "estimatedFees" in str(response.json)


def test_aspect_data_nested_past_64_levels_is_refused_at_the_door_and_queries_keep_working(api):
    deep = '{"a":' * 100 + "1" + "}" * 100  # well within Python's own recursion limit: accepted before
    body = '{"aspectData": {"deep": ' + deep + "}}"
    response = raw(api, "PUT", f"/api/v1/public/workItem/{OPEN_MATTER}", body)
    assert response.status_code == 400, response.json
    assert "nested too deeply" in response.json["title"] and "more than 64 levels" in response.json["title"]
    ok = '{"aspectData": {"deep": ' + '{"a":' * 60 + "1" + "}" * 60 + "}}"  # 62 levels with the body's own
    assert raw(api, "PUT", f"/api/v1/public/workItem/{OPEN_MATTER}", ok).status_code < 300
    found = api.post(
        "/api/v1/public/workItem/findByQuery",
        {"search": {"workItemIds": [OPEN_MATTER]}, "enrich": [{"path": "aspectData"}]},
    )
    assert found.status_code == 200, found.json
