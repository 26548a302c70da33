"""Crashes (500s) found by fuzzing the API (`test_fuzz.py`) and by probing next to what it found.

Each test is the smallest request that used to crash, and asserts the clear 4xx that names the
field which replaced the 500.
"""

from __future__ import annotations

import pytest

from tests.conftest import OPEN_MATTER, Api, client_token, new_matter


def _post_raw(api: Api, path: str, raw: bytes):
    return api.request("POST", path, data=raw, headers={"Content-Type": "application/json"})


def _field(response) -> str:
    return response.json["errors"][0]["field"]


# -- emulator/api/workitems.py set_attributes: a JSON `null` body ---------------------------------
def test_attribute_map_null_body_is_400_not_a_crash(api):
    for method in ("POST", "PUT"):
        response = api.request(
            method,
            f"/api/v1/public/workItem/{OPEN_MATTER}/attributes",
            data=b"null",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, (method, response.json)
        assert _field(response) == "(body)"
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes").status_code == 200


# -- emulator/clock.py: durations and instants past what datetime can hold --------------------------
def test_clock_advance_too_far_is_400_naming_advance(api):
    for duration in (
        "P99999999999D",  # too long for a timedelta
        "p75WT74100157.004250945208096124578279691h6M\r\n\t \r",  # what the fuzz sent: past year 9999
        "P400000W",  # representable, but past the clock's last moment
    ):
        response = api.post("/api/_emulator/clock", {"advance": duration})
        assert response.status_code == 400, (duration, response.json)
        assert _field(response) == "advance"
    assert api.get("/api/_emulator/clock").json["now"] == "2026-01-05T09:00:00.000Z"


def test_clock_set_near_the_end_of_time_is_400_and_tokens_keep_working(api, app):
    response = api.post("/api/_emulator/clock", {"set": "9999-12-31T23:59:59Z"})
    assert response.status_code == 400 and _field(response) == "set"
    # Before the fix the clock moved there, and every token request after it crashed.
    assert client_token(app)


def test_instant_before_the_first_utc_moment_is_400(api):
    early = "0001-01-01T00:00:00+01:00"  # 31 Dec of year 0 in UTC
    response = api.post("/api/_emulator/clock", {"set": early})
    assert response.status_code == 400 and _field(response) == "set"
    response = api.post(
        "/api/v1/public/workItem",
        {
            "workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "Early"},
            "keyDates": {"kd-instruction-date": early},
        },
    )
    assert response.status_code == 400 and _field(response) == "keyDates.kd-instruction-date"
    response = api.put(f"/api/v1/public/workItem/{OPEN_MATTER}", {"keyDates": {"kd-instruction-date": early}})
    assert response.status_code == 400 and _field(response) == "keyDates.kd-instruction-date"


# -- emulator/paths.py parse_path: an index that isdigit() but int() cannot read ------------------
def test_path_index_with_a_non_ascii_digit_is_400(api):
    response = api.post("/api/v1/public/workItem/findByQuery", {"enrich": [{"path": "ancestors!²"}]})
    assert response.status_code == 400 and _field(response) == "enrich[0].path"
    response = api.post(
        "/api/executionengine/graph/sharedo/query", {"entityId": OPEN_MATTER, "fields": [{"path": "roles!²"}]}
    )
    assert response.status_code == 400 and _field(response) == "fields[0].path"
    ok = api.post("/api/v1/public/workItem/findByQuery", {"enrich": [{"path": "participants!1.odsId"}]})
    assert ok.status_code == 200


# -- emulator/binding.py parse_json_body: bodies json.loads takes but nothing after it can ----------
def test_lone_surrogate_in_a_body_is_400_naming_the_field(api):
    path = f"/api/v1/public/workItem/{OPEN_MATTER}"
    response = _post_raw(api, f"{path}/comments", b'{"comment": "bad \\ud800 text"}')
    assert response.status_code == 400 and _field(response) == "comment"
    response = _post_raw(api, f"{path}/attributes/note", b'{"value": "\\udfff"}')
    assert response.status_code == 400 and _field(response) == "value"
    response = _post_raw(api, "/api/v1/public/workItem/findByQuery", b'{"search": {"title": "\\ud800"}}')
    assert response.status_code == 400 and _field(response) == "search.title"
    # A surrogate pair is one real character and stays welcome.
    response = _post_raw(api, f"{path}/comments", b'{"comment": "good \\ud83d\\ude00"}')
    assert response.status_code == 201 and response.json["comment"] == "good \U0001f600"


def test_deeply_nested_body_is_400(api):
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"search":' * 5_000 + b"1" + b"}" * 5_000):
        response = _post_raw(api, "/api/v1/public/workItem/findByQuery", raw)
        assert response.status_code == 400 and _field(response) == "(body)"


# -- emulator/core.py import_snapshot: a saved clock the virtual clock cannot take -----------------
def test_import_with_an_unusable_saved_clock_is_400_and_changes_nothing(api, app):
    snapshot = api.get("/api/_emulator/export").json
    matter = new_matter(api)
    before = api.get("/api/_emulator/clock").json["now"]
    for saved in ("garbage", "9999-12-31T23:59:59Z"):
        rows = snapshot["tables"]["meta"]["rows"]
        snapshot["tables"]["meta"]["rows"] = [[k, saved if k == "clock.virtualNow" else v] for k, v in rows]
        response = api.post("/api/_emulator/import", snapshot)
        assert response.status_code == 400, (saved, response.json)
        assert "clock.virtualNow" in response.json["title"]
    # Nothing was replaced: the matter made after the export is still there, the clock has not moved.
    assert api.get(f"/api/v1/public/workItem/{matter['id']}").status_code == 200
    assert api.get("/api/_emulator/clock").json["now"] == before
    assert client_token(app)


def test_a_proxy_path_with_a_control_character_is_forwarded_encoded_not_a_500(api, em):
    # Each path segment is encoded again before it is sent: the PMS gets `/api/%01x` and has no such route.
    response = api.post("/api/proxy/demo-pms/_/api/\x01x", {})
    assert response.status_code == 404, response.json
    assert [(e["path"], e["status"]) for e in em.proxy_log.entries()][-1] == ("/api/\x01x", 404)


def test_a_proxy_path_the_service_cannot_take_or_that_climbs_out_is_refused(api):
    # In process, the fake's WSGI layer cannot take this path: that is the service failing, a 502.
    garbled = api.post("/api/proxy/demo-pms/_/%C3%83%F4%84%AA%8B", {})
    assert garbled.status_code == 502 and "demo-pms" in garbled.json["title"]
    for path in ("../../admin/export", "api/%2e%2e/%2e%2e/admin", "api/..%2Fadmin"):
        response = api.get(f"/api/proxy/demo-pms/_/{path}")
        assert response.status_code == 400 and "base path" in response.json["title"], path


def test_graph_query_refuses_an_empty_response_type(api):
    """schemathesis found "" accepted where the document's enum allows only "flat" or null."""
    body = {"entityType": "sharedo", "entityId": "3c000000-0000-4000-8000-000000000001", "responseType": ""}
    response = api.post("/api/executionengine/graph/sharedo/query", body)
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "responseType"
    body["responseType"] = None
    assert api.post("/api/executionengine/graph/sharedo/query", body).status_code == 200


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", "/api/v1/public/workItem/findByQuery", "POST"),
        ("GET", "/api/v1/public/workItem/findByQuery", "POST"),
        ("PUT", "/api/v2/public/time/entry/search", "POST"),
        ("DELETE", "/api/v2/public/time/entry/search", "POST"),
        ("PUT", "/api/v2/public/time/entry/config", "GET"),
    ],
)
def test_a_method_a_fixed_path_does_not_have_is_405_not_a_record_of_that_id(api, method, path, allowed):
    """schemathesis ST204: these were taken by the `/{id}` route beside them and answered 404 or 400."""
    response = api.request(method, path, json={})
    assert response.status_code == 405, response.json
    assert allowed in response.headers["Allow"]
