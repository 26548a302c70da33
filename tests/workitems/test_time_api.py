import pytest

from tests.conftest import OPEN_MATTER, Api, events_of, user_token

T = "/api/v2/public/time"
PRIYA = "1a000000-0000-4000-8000-000000000001"
SUPPLIER = "2b000000-0000-4000-8000-000000000006"


def entry_body(**extra):
    return {
        "sharedoId": OPEN_MATTER,
        "odsId": PRIYA,
        "startDateTime": "2026-01-05T09:00:00Z",
        "endDateTime": "2026-01-05T10:30:00Z",
        "timeCodeCategorySystemName": "chargeable",
        "billingNotes": "Reviewed title",
        "segments": [{"id": "activity", "timeCodeId": "A104"}, {"id": "narrative", "segmentValue": "Title review"}],
        **extra,
    }


def test_categories_and_capture(api):
    assert {c["systemName"] for c in api.get(f"{T}/categories").json} == {"chargeable", "non-chargeable"}
    capture = api.get(f"{T}/capture/chargeable/{OPEN_MATTER}").json
    assert [s["captureType"] for s in capture["segments"]] == ["TimeCodeSet", "Memo"]
    assert api.get(f"{T}/capture/overtime/{OPEN_MATTER}").status_code == 404
    assert api.get(f"{T}/entry/config").json["minimumDurationSeconds"] == 60


def test_create_read_submit_approve(app, api):
    created = api.post(f"{T}/entry", entry_body())
    assert created.status_code == 201, created.json
    entry = created.json
    assert (entry["stateSystemName"], entry["durationSeconds"], entry["duration"]) == ("draft", 5400, "01:30:00")
    assert entry["timekeeperName"] == "Priya Shah" and entry["timeCodeDescription"] == "Review or analyse"
    submitted = api.post(f"{T}/entry/{entry['id']}/submit")
    assert submitted.status_code == 200 and submitted.data == b""
    assert api.get(f"{T}/entry/{entry['id']}").json["stateSystemName"] == "submitted"
    assert api.put(f"{T}/entry/{entry['id']}", {"billingNotes": "late edit"}).status_code == 409
    priya = Api(app, user_token(app, "priya.shah"))
    refused = priya.post(f"/api/time/entry/{entry['id']}/state/approve")
    assert refused.status_code == 403 and "core.time.approve" in refused.json["title"]
    hannah = Api(app, user_token(app, "hannah.whitfield"))
    assert hannah.post(f"/api/time/entry/{entry['id']}/state/approve").json["stateSystemName"] == "approved"
    assert hannah.post(f"/api/time/entry/{entry['id']}/state/revise").json["stateSystemName"] == "revising"
    states = [(e["Data"]["fromState"], e["Data"]["toState"]) for e in events_of(api, "time-entry-state-changed")]
    assert states == [(None, "draft"), ("draft", "submitted"), ("submitted", "approved"), ("approved", "revising")]


def test_edit_and_delete_only_while_editable(api):
    entry = api.post(f"{T}/entry", entry_body()).json
    assert api.put(f"{T}/entry/{entry['id']}", {"durationSeconds": 1800}).status_code == 200
    assert api.get(f"{T}/entry/{entry['id']}").json["duration"] == "00:30:00"
    assert api.delete(f"{T}/entry/{entry['id']}").status_code == 200
    assert api.get(f"{T}/entry/{entry['id']}").status_code == 404
    other = api.post(f"{T}/entry", entry_body()).json
    api.post(f"{T}/entry/{other['id']}/submit")
    assert api.delete(f"{T}/entry/{other['id']}").status_code == 409
    assert api.post(f"{T}/entry/{other['id']}/submit").status_code == 409


@pytest.mark.parametrize(
    "change, field",
    [
        ({"sharedoId": None}, "sharedoId"),
        ({"odsId": "nope"}, "odsId"),
        ({"timeCodeCategorySystemName": "overtime"}, "timeCodeCategorySystemName"),
        ({"startDateTime": None, "endDateTime": None}, "durationSeconds"),
        ({"endDateTime": "2026-01-05T08:00:00Z"}, "endDateTime"),
        ({"segments": [{"id": "activity", "timeCodeId": "Z999"}]}, "segments[0].timeCodeId"),
        ({"segments": [{"id": "mood", "segmentValue": "x"}]}, "segments[0].id"),
        ({"segments": [{"id": "narrative", "segmentValue": "no activity"}]}, "segments"),
        ({"durationSeconds": -5}, "durationSeconds"),
    ],
)
def test_bad_entries_are_400_naming_the_field(api, change, field):
    response = api.post(f"{T}/entry", {k: v for k, v in entry_body(**change).items() if v is not None})
    assert response.status_code == 400, response.json
    assert field in [e["field"] for e in response.json["errors"]]


def test_timekeeper_must_be_a_person_and_submission_needs_a_narrative(api):
    org = api.post(f"{T}/entry", entry_body(odsId=SUPPLIER))
    assert org.status_code == 400 and org.json["errors"][0]["field"] == "odsId"
    entry = api.post(f"{T}/entry", entry_body(segments=[{"id": "activity", "timeCodeId": "A101"}])).json
    refused = api.post(f"{T}/entry/{entry['id']}/submit")
    assert refused.status_code == 400 and "narrative" in refused.json["title"]


def test_search_by_work_item_and_state(api):
    first = api.post(f"{T}/entry", entry_body()).json
    api.post(f"{T}/entry", entry_body())
    api.post(f"{T}/entry/{first['id']}/submit")
    everything = api.post(f"{T}/entry/search", {"sharedoId": OPEN_MATTER, "rowsPerPage": 10, "startPage": 1}).json
    submitted = api.post(f"{T}/entry/search", {"sharedoId": OPEN_MATTER, "states": ["submitted"]}).json
    assert everything["totalRows"] == 2 and [r["id"] for r in submitted["rows"]] == [first["id"]]
    assert api.post(f"{T}/entry/search", {"states": ["lost"]}).status_code == 400


def test_a_read_only_user_cannot_record_time(app):
    paralegal = Api(app, user_token(app, "tom.becker"))
    refused = paralegal.post(f"{T}/entry", entry_body())
    assert refused.status_code == 403 and "core.time.record" in refused.json["title"]
