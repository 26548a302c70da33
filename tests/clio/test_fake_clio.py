"""The fake Clio Manage (pms_adapters/fakes/clio) as a product: OAuth, the API's envelopes, `fields`, paging,
filters, ETags, versions, rate limits and switches. Every answer the fake gives here is checked
against Clio's own OpenAPI document (tests/helpers/clio_openapi.py); one that does not conform fails the test."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from emulator.kernel.clock import parse_instant
from pms_adapters.fakes.clio.app import create_app
from pms_adapters.fakes.clio.models import App, ClioBackend
from tests.conftest import START
from tests.helpers import clio_openapi
from tests.helpers.clio_openapi import Conformance

REDIRECT = "http://127.0.0.1:5000/integrations/clio/callback"


@pytest.fixture
def fake(clock):
    conformance = Conformance()
    backend = ClioBackend(clock, matters=450, app=App(redirect_uris=[REDIRECT]))
    app = create_app(backend, observer=conformance)
    app.conformance = conformance  # type: ignore[attr-defined]
    yield app
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"


def connect(fake, user_index: int = 0) -> dict:
    """The authorization-code flow as a browser and the adapter make it."""
    client = fake.test_client()
    backend = fake.extensions["fake_clio"]
    query = {"client_id": "fake-clio-app", "response_type": "code", "redirect_uri": REDIRECT, "state": "s-1"}
    page = client.get("/oauth/authorize", query_string=query)
    assert page.status_code == 200 and b"Allow Access" in page.data
    user_id = sorted(backend.users)[user_index]
    decided = client.post("/oauth/authorize", data={**query, "decision": "allow", "user_id": str(user_id)})
    assert decided.status_code == 302
    location = urlsplit(decided.headers["Location"])
    params = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT and params["state"] == ["s-1"]
    token = client.post(
        "/oauth/token",
        data={
            "client_id": "fake-clio-app",
            "client_secret": "fake-clio-secret",
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT,
        },
    )
    assert token.status_code == 200, token.json
    assert token.json["token_type"] == "bearer" and token.json["expires_in"] == 30 * 24 * 3600
    return token.json


def api(fake, token: dict, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {token['access_token']}", **kwargs.pop("headers", {})}
    return fake.test_client().open(f"/api/v4/{path}", headers=headers, **kwargs)


# -- OAuth ---------------------------------------------------------------------------------------
def test_connect_then_who_am_i(fake):
    token = connect(fake, user_index=1)
    me = api(fake, token, "users/who_am_i.json", query_string={"fields": "id,name,email"})
    assert me.status_code == 200
    assert me.json["data"]["name"] == "Daniel Okafor" and me.json["data"]["email"].endswith("@harbourvale.example")


def test_deny_returns_access_denied_only_when_asked_to_redirect(fake):
    client = fake.test_client()
    query = {"client_id": "fake-clio-app", "response_type": "code", "redirect_uri": REDIRECT, "state": "x"}
    denied = client.post("/oauth/authorize", data={**query, "decision": "deny", "redirect_on_decline": "true"})
    assert denied.status_code == 302 and "error=access_denied" in denied.headers["Location"]
    assert "state=x" in denied.headers["Location"]
    stays = client.post("/oauth/authorize", data={**query, "decision": "deny"})
    assert stays.status_code == 200 and b"access_denied" in stays.data


def test_an_unregistered_redirect_uri_is_never_redirected_to(fake):
    page = fake.test_client().get(
        "/oauth/authorize",
        query_string={"client_id": "fake-clio-app", "response_type": "code", "redirect_uri": "https://evil.example/"},
    )
    assert page.status_code == 400 and "Location" not in page.headers
    assert b"registered Redirect URIs" in page.data


def test_a_code_works_once_and_refresh_keeps_the_refresh_token(fake, clock):
    token = connect(fake)
    client = fake.test_client()
    form = {"client_id": "fake-clio-app", "client_secret": "fake-clio-secret"}
    refreshed = client.post(
        "/oauth/token", data={**form, "grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refreshed.status_code == 200 and refreshed.json["refresh_token"] == token["refresh_token"]
    assert refreshed.json["access_token"] != token["access_token"]
    wrong = client.post("/oauth/token", data={**form, "client_secret": "nope", "grant_type": "refresh_token"})
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"


def test_expired_and_deauthorized_tokens_answer_invalid_token(fake, clock):
    token = connect(fake)
    assert api(fake, token, "matters.json").status_code == 200
    clock.advance(timedelta(days=30, seconds=1))
    expired = api(fake, token, "matters.json")
    assert expired.status_code == 401 and expired.json["error"] == "invalid_token"

    token = connect(fake)
    out = fake.test_client().post(
        "/oauth/deauthorize",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        data={"token": token["access_token"]},
    )
    assert out.status_code == 200
    assert api(fake, token, "matters.json").status_code == 401
    again = fake.test_client().post(
        "/oauth/token",
        data={
            "client_id": "fake-clio-app",
            "client_secret": "fake-clio-secret",
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
        },
    )
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


# -- the API -------------------------------------------------------------------------------------
MATTER_FIELDS = (
    "id,etag,display_number,description,status,open_date,close_date,updated_at,"
    "client{id,name,primary_phone_number},practice_area{id,name},matter_stage{id,name},responsible_attorney{id,name,email}"
)


def test_every_matter_arrives_once_through_cursor_paging(fake):
    token = connect(fake)
    seen, pages, url = [], 0, f"matters.json?order=id(asc)&limit=200&fields={MATTER_FIELDS}"
    while url and pages < 10:
        page = api(fake, token, url)
        assert page.status_code == 200, page.json
        assert page.json["meta"]["records"] == 450
        seen += [m["id"] for m in page.json["data"]]
        nxt = page.json["meta"]["paging"].get("next")
        assert nxt is None or nxt.startswith("http://localhost/api/v4/matters.json?")
        url = nxt.split("/api/v4/", 1)[1] if nxt else None
        pages += 1
    assert pages == 3 and len(seen) == 450 == len(set(seen)) and seen == sorted(seen)
    first = api(fake, token, f"matters.json?limit=1&fields={MATTER_FIELDS}").json["data"][0]
    assert list(first) == [
        "id", "etag", "display_number", "description", "status", "open_date", "close_date", "updated_at",
        "client", "practice_area", "matter_stage", "responsible_attorney",
    ]  # fmt: skip
    assert set(first["client"]) == {"id", "name", "primary_phone_number"}
    assert first["status"] in ("Open", "Pending", "Closed")


def test_without_fields_only_id_and_etag(fake):
    token = connect(fake)
    page = api(fake, token, "matters?limit=2")
    assert [set(m) for m in page.json["data"]] == [{"id", "etag"}, {"id", "etag"}]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("fields=nonsense", 400, "'nonsense' is not a field of matters"),
        ("fields=client{phone_numbers{number}}", 400, "nests more than one level"),
        ("fields=client{nope}", 400, "'nope' is not a field of client"),
        ("fields=status{id}", 400, "takes no braces"),
        ("limit=201", 400, "limit must be from 1 to 200"),
        ("limit=0", 400, "limit must be from 1 to 200"),
        ("status=Open", 400, "status takes open, pending, closed (lowercase)"),
        ("updated_since=yesterday", 400, "updated_since must be an ISO 8601 timestamp"),
        ("ids[]=x", 400, "ids[] must be a whole number"),
        ("offset=9900&limit=200", 400, "offset paging stops at 10000 records"),
        ("page_token=garbage", 400, "page_token is not valid"),
    ],
)
def test_bad_parameters_are_refused_with_clio_s_envelope(fake, query, status, message):
    token = connect(fake)
    answer = api(fake, token, f"matters.json?{query}")
    assert answer.status_code == status
    assert message in answer.json["error"]["message"]


def test_filters(fake, clock):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    since = START - timedelta(days=30)
    recent = {m["id"] for m in backend.matters.values() if parse_instant(m["updated_at"]) > since}
    assert 0 < len(recent) < 450
    got = api(fake, token, "matters.json", query_string={"updated_since": since.isoformat(), "fields": "id,updated_at"})
    assert {m["id"] for m in got.json["data"]} == recent
    two = sorted(backend.matters)[:2]
    got = api(fake, token, "matters.json", query_string=[("ids[]", str(i)) for i in two])
    assert [m["id"] for m in got.json["data"]] == two
    closed = api(fake, token, "matters.json?status=closed&fields=id,status").json["data"]
    assert closed and all(m["status"] == "Closed" for m in closed)


def test_stages_belong_to_practice_areas_and_a_stage_change_shows(fake, clock):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    matter = next(m for m in backend.matters.values() if m["practice_area"] and m["matter_stage"])
    area = matter["practice_area"]["id"]
    stages = api(fake, token, f"matter_stages.json?practice_area_id={area}&fields=id,name,order,practice_area_id").json[
        "data"
    ]
    assert stages and all(s["practice_area_id"] == str(area) for s in stages)
    other = next(s for s in stages if s["id"] != matter["matter_stage"]["id"])

    shown = api(fake, token, f"matters/{matter['id']}.json?fields=id,etag")
    etag = shown.headers["ETag"]
    assert api(fake, token, f"matters/{matter['id']}.json", headers={"If-None-Match": etag}).status_code == 304
    clock.advance(timedelta(minutes=5))
    moved = api(
        fake,
        token,
        f"matters/{matter['id']}.json?fields=id,matter_stage{{id,name}},matter_stage_updated_at",
        method="PATCH",
        json={"data": {"matter_stage": {"id": other["id"]}}},
        headers={"If-Match": etag},
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["data"]["matter_stage"] == {"id": other["id"], "name": other["name"]}
    assert parse_instant(moved.json["data"]["matter_stage_updated_at"]) == clock.now().replace(microsecond=0)
    stale = api(
        fake,
        token,
        f"matters/{matter['id']}.json",
        method="PATCH",
        json={"data": {"description": "x"}},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    foreign = next(s for s in backend.matter_stages.values() if s["practice_area_id"] != str(area))
    wrong = api(
        fake,
        token,
        f"matters/{matter['id']}.json",
        method="PATCH",
        json={"data": {"matter_stage": {"id": foreign["id"]}}},
    )
    assert wrong.status_code == 422 and "another practice area" in wrong.json["error"]["message"]
    assert api(fake, token, "matters/1.json").status_code == 404


def test_versions_are_echoed_and_unknown_ones_are_gone(fake):
    token = connect(fake)
    default = api(fake, token, "matters.json?limit=1")
    assert default.headers["X-API-VERSION"] == "4.0.13"
    pinned = api(fake, token, "matters.json?limit=1", headers={"X-API-VERSION": "4.0.9"})
    assert pinned.headers["X-API-VERSION"] == "4.0.9"
    gone = api(fake, token, "matters.json", headers={"X-API-VERSION": "3.0"})
    assert gone.status_code == 410


def test_rate_limit_per_token_on_the_clock(fake, clock):
    token = connect(fake)
    remaining = [int(api(fake, token, "practice_areas.json").headers["X-RateLimit-Remaining"]) for _ in range(50)]
    assert remaining == list(range(49, -1, -1))
    refused = api(fake, token, "practice_areas.json")
    assert refused.status_code == 429
    assert refused.json["error"]["message"] == "Rate limit of 50 exceeded"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    other = connect(fake, user_index=2)  # another token has its own window
    assert api(fake, other, "practice_areas.json").status_code == 200
    clock.advance(timedelta(seconds=wait))
    assert api(fake, token, "practice_areas.json").status_code == 200


def test_switches_fail_calls_then_recover(fake):
    token = connect(fake)
    switched = fake.test_client().post("/_fake/switches", json={"fail_next": 2})
    assert switched.status_code == 200 and switched.json["fail_next"] == 2
    assert [api(fake, token, "matters.json").status_code for _ in range(3)] == [503, 503, 200]
    assert fake.test_client().post("/_fake/switches", json={"fail_next": True}).status_code == 400
    fake.test_client().post("/_fake/tokens/revoke")
    assert api(fake, token, "matters.json").status_code == 401


def test_the_conformance_check_catches_a_wrong_answer():
    """The validator itself: a matter with a lowercase status and a string id does not conform."""
    found = clio_openapi.problems("GET", "/api/v4/matters.json", 200, {"data": [{"id": "7", "status": "open"}]})
    assert any("data/0/id" in p for p in found) and any("data/0/status" in p for p in found)
    assert clio_openapi.problems("GET", "/api/v4/matters.json", 200, {"data": [{"id": 7, "close_date": None}]}) == []
    assert clio_openapi.problems("GET", "/api/v4/matters.json", 418, {}) != []


def test_operate_fake_clio_serves_on_a_loopback_port():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "fake", "clio", "--port", "0", "--matters", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        match = re.search(r"ready on (http://127\.0\.0\.1:\d+) \(app key (\S+), secret (\S+);", banner)
        assert match, banner + process.stderr.read()
        url, key = match.group(1), match.group(2)
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            page = client.get(
                "/oauth/authorize", params={"client_id": key, "response_type": "code", "redirect_uri": REDIRECT}
            )
            assert page.status_code == 200 and "Allow Access" in page.text
            refused = client.get("/api/v4/matters.json")
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    finally:
        process.terminate()
        process.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "fake", "clio", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--port must be between 0 and 65535" in bad.stderr


# -- what the finance widgets and the sync's pushes use --------------------------------------------
def test_billable_matters_are_the_unbilled_work(fake):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    rows = api(
        fake,
        token,
        "billable_matters.json?limit=1000&fields=id,unbilled_hours,unbilled_amount,display_number,client{id,name}",
    )
    assert rows.status_code == 200
    by_matter = {r["id"]: r for r in rows.json["data"]}
    assert by_matter
    some = next(iter(by_matter))
    unbilled = [a for a in backend.activities.values() if a["matter"]["id"] == some and not a["billed"]]
    assert by_matter[some]["unbilled_amount"] == round(sum(a["total"] for a in unbilled), 2)
    time_entries = api(
        fake, token, f"activities.json?matter_id={some}&status=unbilled&fields=id,type,total,billed,matter{{id}}"
    )
    assert {a["id"] for a in time_entries.json["data"]} == {a["id"] for a in unbilled}


def test_bills_awaiting_payment_for_aged_debt(fake):
    token = connect(fake)
    bills = api(
        fake,
        token,
        "bills.json?state=awaiting_payment&fields=id,number,issued_at,due_at,balance,total,state,client{id,name},matters{id,display_number}",
    )
    assert bills.status_code == 200 and bills.json["data"]
    assert all(b["state"] == "awaiting_payment" and b["balance"] > 0 for b in bills.json["data"])
    assert all(len(b["matters"]) == 1 and "display_number" in b["matters"][0] for b in bills.json["data"])


def test_a_communication_is_posted_and_found_by_its_external_property(fake):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    matter = next(iter(backend.matters.values()))
    body = {
        "data": {
            "subject": "Case Status Message",
            "body": "Your hearing is on Monday.",
            "type": "EmailCommunication",
            "received_at": START.isoformat(),
            "matter": {"id": matter["id"]},
            "senders": [{"id": sorted(backend.users)[0], "type": "User"}],
            "receivers": [{"id": matter["client"]["id"], "type": "Contact"}],
            "external_properties": [{"name": "operate_message_id", "value": "m-1"}],
        }
    }
    made = api(
        fake,
        token,
        "communications.json?fields=id,subject,senders,receivers,external_properties",
        method="POST",
        json=body,
    )
    assert made.status_code == 201, made.json
    assert made.json["data"]["senders"][0]["type"] == "User"
    found = api(
        fake, token, "communications.json?external_property_name=operate_message_id&external_property_value=m-1"
    )
    assert [c["id"] for c in found.json["data"]] == [made.json["data"]["id"]]
    missing = api(fake, token, "communications.json", method="POST", json={"data": {"subject": "x"}})
    assert missing.status_code == 422 and "data.body is required" in missing.json["error"]["message"]
    too_many = dict(body["data"], external_properties=[{"name": f"p{i}", "value": "v"} for i in range(6)])
    assert api(fake, token, "communications.json", method="POST", json={"data": too_many}).status_code == 422


def test_a_document_is_uploaded_in_three_steps_and_downloaded(fake, clock):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    matter = next(iter(backend.matters.values()))
    made = api(
        fake,
        token,
        "documents.json?fields=id,latest_document_version{uuid,put_url,put_headers}",
        method="POST",
        json={"data": {"name": "letter.pdf", "parent": {"id": matter["id"], "type": "Matter"}}},
    )
    assert made.status_code == 201, made.json
    version = made.json["data"]["latest_document_version"]
    headers = {h["name"]: h["value"] for h in version["put_headers"]}
    assert headers == {"Content-Type": "application/pdf", "x-amz-server-side-encryption": "AES256"}
    document_id = made.json["data"]["id"]
    listed = api(fake, token, f"documents.json?matter_id={matter['id']}")
    assert listed.json["data"] == []  # hidden until fully uploaded
    early = api(
        fake,
        token,
        f"documents/{document_id}.json",
        method="PATCH",
        json={"data": {"uuid": version["uuid"], "fully_uploaded": True}},
    )
    assert early.status_code == 422 and early.json["error"]["type"] == "UploadNotFoundError"

    put_path = urlsplit(version["put_url"]).path
    client = fake.test_client()
    assert client.put(put_path, data=b"%PDF-1.4 hello", headers={"Content-Type": "application/pdf"}).status_code == 403
    assert client.put(put_path, data=b"%PDF-1.4 hello", headers=headers).status_code == 200
    done = api(
        fake,
        token,
        f"documents/{document_id}.json?fields=id,size,latest_document_version{{fully_uploaded}}",
        method="PATCH",
        json={"data": {"uuid": version["uuid"], "fully_uploaded": True}},
    )
    assert done.status_code == 200 and done.json["data"]["size"] == 14
    assert (
        api(
            fake,
            token,
            f"documents/{document_id}.json",
            method="PATCH",
            json={"data": {"uuid": version["uuid"], "fully_uploaded": True}},
        ).status_code
        == 422
    )
    assert [d["id"] for d in api(fake, token, f"documents.json?matter_id={matter['id']}").json["data"]] == [document_id]

    download = api(fake, token, f"documents/{document_id}/download.json")
    assert download.status_code == 303
    got = client.get(urlsplit(download.headers["Location"]).path)
    assert got.data == b"%PDF-1.4 hello" and got.headers["Content-Type"] == "application/pdf"

    late = api(
        fake,
        token,
        "documents.json?fields=id,latest_document_version{put_url,put_headers}",
        method="POST",
        json={"data": {"name": "late.txt", "parent": {"id": matter["id"], "type": "Matter"}}},
    )
    clock.advance(timedelta(minutes=11))
    late_version = late.json["data"]["latest_document_version"]
    late_headers = {h["name"]: h["value"] for h in late_version["put_headers"]}
    assert client.put(urlsplit(late_version["put_url"]).path, data=b"x", headers=late_headers).status_code == 403


def test_time_and_expense_entries_are_posted_and_count_as_unbilled_work(fake, clock):
    token = connect(fake, user_index=1)
    backend = fake.extensions["fake_clio"]
    matter = next(m for m in backend.matters.values() if m["status"] == "Open")
    user_id = sorted(backend.users)[1]
    before = {r["id"]: r for r in backend.billable_matters()}.get(matter["id"], {"unbilled_amount": 0.0})
    fields = "id,type,date,quantity,quantity_in_hours,price,total,note,billed,matter{id},user{id,name}"
    time = api(
        fake,
        token,
        f"activities.json?fields={fields}",
        method="POST",
        json={
            "data": {
                "type": "TimeEntry",
                "date": "2026-01-05",
                "quantity": 5400,
                "note": "Call [Operate t-1]",
                "matter": {"id": matter["id"]},
            }
        },  # fmt: skip
    )
    assert time.status_code == 201, time.json
    made = time.json["data"]
    rate = backend.rates[user_id]  # no price: the signed-in user's rate
    assert made["type"] == "TimeEntry" and made["quantity_in_hours"] == 1.5 and made["price"] == rate
    assert made["total"] == round(1.5 * rate, 2) and made["billed"] is False
    assert made["user"]["id"] == user_id and made["matter"] == {"id": matter["id"]}
    expense = api(
        fake,
        token,
        f"activities.json?fields={fields}",
        method="POST",
        json={
            "data": {
                "type": "ExpenseEntry",
                "date": "2026-01-04",
                "price": 84.5,
                "note": "Court fee",
                "matter": {"id": matter["id"]},
                "user": {"id": sorted(backend.users)[0]},
            }
        },  # fmt: skip
    )
    assert expense.status_code == 201 and expense.json["data"]["total"] == 84.5
    assert expense.json["data"]["user"]["id"] == sorted(backend.users)[0]
    after = {r["id"]: r for r in backend.billable_matters()}[matter["id"]]
    assert after["unbilled_amount"] == round(before["unbilled_amount"] + made["total"] + 84.5, 2)
    found = api(fake, token, f"activities.json?matter_id={matter['id']}&query=operate%20T-1&fields=id,note")
    assert [a["id"] for a in found.json["data"]] == [made["id"]]  # the note is searched, in any case
    mine = api(fake, token, f"activities.json?user_id={user_id}&matter_id={matter['id']}&fields=id")
    assert made["id"] in {a["id"] for a in mine.json["data"]} and expense.json["data"]["id"] not in {
        a["id"] for a in mine.json["data"]
    }


@pytest.mark.parametrize(
    "data, message",
    [
        ({"date": "2026-01-05", "quantity": 60}, "data.type must be one of TimeEntry, ExpenseEntry"),
        ({"type": "HardCostEntry", "date": "2026-01-05"}, "data.type must be one of"),
        ({"type": "TimeEntry", "quantity": 60}, "data.date is required"),
        ({"type": "TimeEntry", "date": "5 Jan", "quantity": 60}, "data.date is required"),
        ({"type": "TimeEntry", "date": "2026-01-05"}, "data.quantity is required"),
        ({"type": "TimeEntry", "date": "2026-01-05", "quantity": 0}, "data.quantity must be more than 0"),
        ({"type": "TimeEntry", "date": "2026-01-05", "quantity": True}, "data.quantity is required"),
        ({"type": "ExpenseEntry", "date": "2026-01-05"}, "data.price is required"),
        ({"type": "ExpenseEntry", "date": "2026-01-05", "price": -1}, "data.price must be at least 0"),
        ({"type": "ExpenseEntry", "date": "2026-01-05", "price": 1, "user": {"id": 5}}, "data.user 5 is not a user"),
        ({"type": "ExpenseEntry", "date": "2026-01-05", "price": 1, "note": 7}, "data.note must be text"),
    ],
)
def test_a_bad_activity_is_refused_and_nothing_is_recorded(fake, data, message):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    count = len(backend.activities)
    refused = api(fake, token, "activities.json", method="POST", json={"data": data})
    assert refused.status_code == 422 and message in refused.json["error"]["message"]
    missing = api(fake, token, "activities.json", method="POST", json={"data": {**data, "matter": {"id": 1}}})
    assert missing.status_code in (404, 422)
    assert len(backend.activities) == count


def test_an_activity_on_an_unknown_matter_is_not_found(fake):
    token = connect(fake)
    body = {"data": {"type": "ExpenseEntry", "date": "2026-01-05", "price": 10, "matter": {"id": 42}}}
    missing = api(fake, token, "activities.json", method="POST", json=body)
    assert missing.status_code == 404 and "data.matter 42 was not found" in missing.json["error"]["message"]


def test_bills_carry_their_fees_apart_from_expenses(fake):
    backend = fake.extensions["fake_clio"]
    token = connect(fake)
    bills = api(fake, token, "bills.json?fields=id,total,sub_total,services_sub_total,total_tax").json["data"]
    assert bills
    for bill in bills:
        on_it = [a for a in backend.activities.values() if (a["bill"] or {}).get("id") == bill["id"]]
        fees = sum(a["total"] for a in on_it if a["type"] == "TimeEntry")
        assert bill["services_sub_total"] == round(fees, 2) and bill["sub_total"] == bill["total"]
        assert bill["total_tax"] == 0.0
    assert any(b["services_sub_total"] < b["sub_total"] for b in bills)  # some bills carry expenses too


# -- versions, methods, limits and the writes Clio's document lists ------------------------------------------
def api_operations() -> list[tuple[str, str]]:
    """Every API operation the fake serves, as (method, path with a seeded or made-up id)."""
    from pms_adapters.fakes.clio.urls import API, URL_RULES

    return [
        (method, rule[len(API) + 1 :].replace("<int:record_id>", "1") + ".json")
        for rule, methods, _ in URL_RULES
        if rule.startswith(API)
        for method in methods
    ]


def test_an_unknown_version_is_gone_on_every_operation_and_an_empty_one_is_no_version(fake):
    token = connect(fake)
    operations = api_operations()
    assert len(operations) >= 40
    for method, path in operations:
        gone = api(fake, token, path, method=method, headers={"X-API-VERSION": "4.0.99"})
        assert gone.status_code == 410, (method, path, gone.status_code)
        assert (
            gone.json["error"]["type"] == "Gone"
            and "'4.0.99' is not a supported version" in gone.json["error"]["message"]
        )
    for method, path in operations:
        empty = api(fake, token, path, method=method, headers={"X-API-VERSION": ""})
        assert empty.status_code != 410, (method, path)
        assert empty.headers["X-API-VERSION"] == "4.0.13"  # the default, as with no header


def test_a_method_clio_does_not_list_is_405_naming_the_ones_it_does(clock):
    app = create_app(ClioBackend(clock, matters=5))  # 405 is no answer of Clio's document: no conformance observer
    backend = app.extensions["fake_clio"]
    token = backend.issue_token(min(backend.users))["access_token"]
    client = app.test_client()
    for method in ("TRACE", "PUT"):
        refused = client.open("/api/v4/matters.json", method=method, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 405 and refused.json["error"]["type"] == "MethodNotAllowed"
        assert {m.strip() for m in refused.headers["Allow"].split(",")} >= {"GET", "POST"}
    one = client.open("/api/v4/bills/1.json", method="TRACE", headers={"Authorization": f"Bearer {token}"})
    assert {m.strip() for m in one.headers["Allow"].split(",")} >= {"GET", "PATCH", "DELETE"}


def test_limits_are_the_document_s_per_list_and_ids_are_64_bit(fake):
    token = connect(fake)
    assert api(fake, token, "users.json?limit=2000").status_code == 200  # "between 1 and 2000" for users
    assert api(fake, token, "billable_matters.json?limit=1000").status_code == 200
    too_many = api(fake, token, "users.json?limit=2001")
    assert too_many.status_code == 400 and "limit must be from 1 to 2000" in too_many.json["error"]["message"]
    huge = api(fake, token, "matters.json?client_id=9223372036854775808")
    assert huge.status_code == 400 and "client_id must be a 64-bit whole number" in huge.json["error"]["message"]
    flag = api(fake, token, "documents.json?show_uncompleted=yes")
    assert flag.status_code == 400 and "show_uncompleted must be true or false" in flag.json["error"]["message"]
    kind = api(fake, token, "activities.json?type=Meeting")
    assert kind.status_code == 400 and "type takes TimeEntry" in kind.json["error"]["message"]
    non_billable = api(fake, token, "activities.json?status=non_billable&fields=id,non_billable").json["data"]
    assert all(a["non_billable"] for a in non_billable)


def test_if_modified_since_answers_304_for_a_record_not_changed_since(fake, clock):
    token = connect(fake)
    matter = next(iter(fake.extensions["fake_clio"].matters.values()))
    shown = api(fake, token, f"matters/{matter['id']}.json")
    later = api(
        fake, token, f"matters/{matter['id']}.json", headers={"If-Modified-Since": shown.headers["Last-Modified"]}
    )
    assert later.status_code == 304
    ignored = api(fake, token, f"matters/{matter['id']}.json", headers={"If-Modified-Since": "{}"})
    assert ignored.status_code == 200  # RFC 9110: a value that is not a date is ignored


def test_a_matter_is_created_validated_and_deleted(fake):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    area = next(iter(backend.practice_areas.values()))
    stage = next(s for s in backend.matter_stages.values() if s["practice_area_id"] == str(area["id"]))
    client_id = next(iter(backend.contacts))
    fields = "id,display_number,description,status,open_date,client{id},practice_area{id},matter_stage{id}"
    made = api(
        fake,
        token,
        f"matters.json?fields={fields}",
        method="POST",
        json={"data": {"description": "Boundary dispute", "client": {"id": client_id}, "status": "pending",
                       "practice_area": {"id": area["id"]}, "matter_stage": {"id": stage["id"]}}},
    )  # fmt: skip
    assert made.status_code == 201, made.json
    matter = made.json["data"]
    assert matter["status"] == "Pending" and matter["client"] == {"id": client_id}
    assert matter["matter_stage"] == {"id": stage["id"]} and matter["description"] == "Boundary dispute"
    assert api(fake, token, "matters.json?query=boundary&fields=id").json["data"] == [{"id": matter["id"]}]
    for data, status, message in [
        ({"client": {"id": client_id}}, 422, "data.description is required"),
        ({"description": "x"}, 422, "data.client is required"),
        ({"description": "x", "client": {"id": 5}}, 404, "data.client 5 was not found"),
        ({"description": "x", "client": {"id": client_id}, "status": "Open"}, 422, "data.status must be one of"),
        ({"description": "x", "client": {"id": client_id}, "billable": "yes"}, 422, "data.billable must be true"),
        ({"description": "x", "client": {"id": client_id}, "location": "Leeds"}, 422, "not emulated: data.location"),
    ]:
        refused = api(fake, token, "matters.json", method="POST", json={"data": data})
        assert refused.status_code == status and message in refused.json["error"]["message"], refused.json
    unlisted = api(fake, token, "matters.json", method="POST",
                   json={"data": {"description": "x", "client": {"id": client_id}, "colour": "red"}})  # fmt: skip
    assert unlisted.status_code == 201  # a name Clio's document does not list is ignored, as Clio ignores one
    assert api(fake, token, f"matters/{matter['id']}.json", method="DELETE").status_code == 204
    assert api(fake, token, f"matters/{matter['id']}.json").status_code == 404
    assert api(fake, token, f"matters/{matter['id']}.json", method="DELETE").status_code == 404
    billed = next(iter(backend.bills.values()))["matters"][0]["id"]
    kept = api(fake, token, f"matters/{billed}.json", method="DELETE")
    assert kept.status_code == 403 and "has bills" in kept.json["error"]["message"]


def test_a_contact_is_created_updated_and_deleted(fake):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    made = api(
        fake,
        token,
        "contacts.json?fields=id,etag,name,type,primary_phone_number,phone_numbers{number,name}",
        method="POST",
        json={"data": {"name": "Ada Quill", "type": "Person", "first_name": "Ada", "last_name": "Quill",
                       "phone_numbers": [{"number": "+44 20 7946 0000", "name": "Work"}]}},
    )  # fmt: skip
    assert made.status_code == 201, made.json
    contact = made.json["data"]
    assert contact["primary_phone_number"] == "+44 20 7946 0000" and contact["phone_numbers"][0]["name"] == "Work"
    moved = api(
        fake,
        token,
        f"contacts/{contact['id']}.json?fields=id,name",
        method="PATCH",
        json={"data": {"name": "Ada Quill-Hart"}},
        headers={"If-Match": contact["etag"]},
    )
    assert moved.status_code == 200 and moved.json["data"]["name"] == "Ada Quill-Hart"
    stale = api(fake, token, f"contacts/{contact['id']}.json", method="PATCH", json={"data": {"name": "x"}},
                headers={"If-Match": contact["etag"]})  # fmt: skip
    assert stale.status_code == 412
    for data, message in [({"name": "x"}, "data.type must be Person or Company"), ({"type": "Person"}, "data.name")]:
        refused = api(fake, token, "contacts.json", method="POST", json={"data": data})
        assert refused.status_code == 422 and message in refused.json["error"]["message"]
    assert api(fake, token, f"contacts/{contact['id']}.json", method="DELETE").status_code == 204
    assert api(fake, token, f"contacts/{contact['id']}.json").status_code == 404
    client = next(iter(backend.matters.values()))["client"]["id"]
    assert api(fake, token, f"contacts/{client}.json", method="DELETE").status_code == 403


def test_an_activity_is_shown_updated_and_deleted_unless_billed(fake):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    matter = next(iter(backend.matters.values()))
    made = api(fake, token, "activities.json?fields=id,etag", method="POST",
               json={"data": {"type": "TimeEntry", "date": "2026-01-05", "quantity": 3600, "price": 100,
                              "matter": {"id": matter["id"]}}})  # fmt: skip
    activity_id = made.json["data"]["id"]
    shown = api(fake, token, f"activities/{activity_id}.json?fields=id,quantity,total")
    assert shown.status_code == 200 and shown.json["data"]["total"] == 100.0
    changed = api(fake, token, f"activities/{activity_id}.json?fields=id,quantity_in_hours,total,note", method="PATCH",
                  json={"data": {"quantity": 5400, "note": "Longer call"}})  # fmt: skip
    assert changed.status_code == 200, changed.json
    assert changed.json["data"] == {"id": activity_id, "quantity_in_hours": 1.5, "total": 150.0, "note": "Longer call"}
    bad = api(fake, token, f"activities/{activity_id}.json", method="PATCH", json={"data": {"quantity": -1}})
    assert bad.status_code == 422 and "data.quantity must be more than 0" in bad.json["error"]["message"]
    assert api(fake, token, f"activities/{activity_id}.json", method="DELETE").status_code == 204
    assert api(fake, token, f"activities/{activity_id}.json").status_code == 404
    billed = next(a for a in backend.activities.values() if a["billed"])
    frozen = api(fake, token, f"activities/{billed['id']}.json", method="PATCH", json={"data": {"note": "x"}})
    assert frozen.status_code == 422 and "is on a bill" in frozen.json["error"]["message"]
    assert api(fake, token, f"activities/{billed['id']}.json", method="DELETE").status_code == 403


def test_a_bill_is_updated_and_a_void_one_deleted_freeing_its_work(fake):
    token = connect(fake)
    backend = fake.extensions["fake_clio"]
    bill = next(b for b in backend.bills.values() if b["state"] == "awaiting_payment")
    on_it = {a["id"] for a in backend.activities.values() if (a["bill"] or {}).get("id") == bill["id"]}
    assert api(fake, token, f"bills/{bill['id']}.json", method="DELETE").status_code == 403
    moved = api(fake, token, f"bills/{bill['id']}.json?fields=id,due_at,state,memo", method="PATCH",
                json={"data": {"due_at": "2027-01-31", "memo": "Extended"}},
                headers={"If-Match": bill["etag"]})  # fmt: skip
    assert moved.status_code == 200, moved.json
    assert moved.json["data"] == {
        "id": bill["id"],
        "due_at": "2027-01-31",
        "state": "awaiting_payment",
        "memo": "Extended",
    }
    wrong = api(fake, token, f"bills/{bill['id']}.json", method="PATCH", json={"data": {"state": "Paid"}})
    assert wrong.status_code == 422 and "data.state must be one of" in wrong.json["error"]["message"]
    void = api(fake, token, f"bills/{bill['id']}.json", method="PATCH", json={"data": {"state": "void"}})
    assert void.status_code == 200
    assert all(not backend.activities[a]["billed"] for a in on_it)
    assert api(fake, token, f"bills/{bill['id']}.json", method="DELETE").status_code == 204
    assert api(fake, token, f"bills/{bill['id']}.json").status_code == 404


def test_a_communication_is_updated_and_deleted(fake):
    token = connect(fake)
    matter = next(iter(fake.extensions["fake_clio"].matters.values()))
    made = api(fake, token, "communications.json?fields=id", method="POST",
               json={"data": {"subject": "Hello", "body": "First", "type": "EmailCommunication",
                              "received_at": START.isoformat(), "matter": {"id": matter["id"]}}})  # fmt: skip
    comm_id = made.json["data"]["id"]
    changed = api(fake, token, f"communications/{comm_id}.json?fields=id,subject,body,matter{{id}}", method="PATCH",
                  json={"data": {"body": "Second"}})  # fmt: skip
    assert changed.status_code == 200, changed.json
    assert changed.json["data"] == {"id": comm_id, "subject": "Hello", "body": "Second", "matter": {"id": matter["id"]}}
    bad = api(fake, token, f"communications/{comm_id}.json", method="PATCH", json={"data": {"type": "Letter"}})
    assert bad.status_code == 422
    assert api(fake, token, f"communications/{comm_id}.json", method="DELETE").status_code == 204
    assert api(fake, token, f"communications/{comm_id}.json").status_code == 404
