import json
from importlib import resources

import pytest

from emulator.core import Emulator
from emulator.kernel.events import load_event_types
from emulator.settings import Settings
from tests.conftest import OPEN_MATTER, START, events_of, new_matter


def test_catalogue_is_data_and_marks_each_event_confirmed_or_inferred():
    raw = json.loads(resources.files("emulator.catalogue").joinpath("events.json").read_text())
    catalogue = load_event_types()
    assert {e["eventType"] for e in raw["events"]} == set(catalogue)
    assert {
        "sharedo-created",
        "sharedo-updated",
        "sharedo-phase-changed",
        "attribute-changed",
        "participant-added",
        "participant-removed",
    } <= set(catalogue)
    assert catalogue["sharedo-phase-changed"].status == "confirmed"
    assert all(e.status in ("confirmed", "inferred") for e in catalogue.values())


def test_catalogue_is_served_with_every_data_key(api):
    served = {e["eventType"]: e for e in api.get("/api/_emulator/events/catalogue").json}
    assert served["sharedo-phase-changed"]["data"] == [
        "sharedoId",
        "sharedoTypeSystemName",
        "fromPhase",
        "toPhase",
        "reason",
    ]


def test_each_mutation_appends_a_numbered_event_with_its_data(api):
    item = new_matter(api, participants=[{"roleSystemName": "client", "odsId": "1a000000-0000-4000-8000-000000000005"}])
    api.put(f"/api/v1/public/workItem/{item['id']}", {"workItem": {"title": "Renamed"}})
    api.put(f"/api/v1/public/workItem/{item['id']}/phase", {"toPhaseSystemName": "matter-open"})
    api.post(f"/api/v1/public/workItem/{item['id']}/attributes/pmsReference", {"value": "PMS-1"})
    participant = api.get(f"/api/v2/public/workItem/{item['id']}/participants").json[0]
    api.delete(f"/api/v2/public/workItem/{item['id']}/participants/{participant['id']}")
    events = events_of(api)
    assert [e["eventType"] for e in events] == [
        "sharedo-created",
        "participant-added",
        "sharedo-updated",
        "sharedo-phase-changed",
        "attribute-changed",
        "participant-removed",
    ]
    assert [e["number"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert all(e["Data"]["sharedoId"] == item["id"] for e in events)
    assert all(e["Data"]["sharedoTypeSystemName"] == "matter-private-client" for e in events)
    assert all(e["occurredAt"] == "2026-01-05T09:00:00.000Z" for e in events)
    phase = events[3]["Data"]
    assert (phase["fromPhase"], phase["toPhase"]) == ("matter-enquiry", "matter-open")
    attr = events[4]["Data"]
    assert (attr["attributeName"], attr["oldValue"], attr["newValue"]) == ("pmsReference", None, "PMS-1")
    assert events[2]["Data"]["changedFields"] == ["title"]


def test_events_after_n_pages_through_the_stream(api):
    for _ in range(3):
        new_matter(api)
    page = api.get("/api/_emulator/events?after=1&limit=1").json
    assert [e["number"] for e in page["events"]] == [2]
    assert page["lastEventNumber"] == 3
    assert api.get("/api/_emulator/events?after=abc").status_code == 400


def test_a_rejected_request_leaves_no_change_and_no_event(api):
    before = api.get("/api/_emulator/export").json
    response = api.post(
        "/api/v1/public/workItem",
        {
            "workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "X"},
            "participants": [{"roleSystemName": "client", "odsId": "00000000-0000-4000-8000-000000000000"}],
        },
    )
    assert response.status_code == 400
    assert "participants[0].odsId" in response.json["title"]
    after = api.get("/api/_emulator/export").json
    assert after["tables"]["work_items"] == before["tables"]["work_items"]
    assert events_of(api) == []


def test_subscribers_receive_events_in_stream_order_before_the_call_returns(em, api):
    seen = []
    em.dispatcher.subscribe("recorder", lambda event: seen.append((event.number, event.event_type)))
    item = new_matter(api)
    assert seen == [(1, "sharedo-created")]
    api.put(f"/api/v1/public/workItem/{item['id']}/phase", {"toPhaseSystemName": "matter-open"})
    assert seen == [(1, "sharedo-created"), (2, "sharedo-phase-changed")]
    assert em.dispatcher.cursor == 2


def test_a_subscriber_that_changes_state_has_its_events_dispatched_too(em, api):
    seen = []

    def open_on_create(event):
        seen.append(event.event_type)
        if event.event_type == "sharedo-created":
            em.workitems.change_phase(event.data["sharedoId"], {"toPhaseSystemName": "matter-open"}, None)

    em.dispatcher.subscribe("opener", open_on_create)
    item = new_matter(api)
    assert seen == ["sharedo-created", "sharedo-phase-changed"]
    assert api.get(f"/api/v1/public/workItem/{item['id']}/phase").json["systemName"] == "matter-open"


def test_a_failing_subscriber_is_dead_lettered_and_the_stream_goes_on(em, api):
    seen = []
    em.dispatcher.subscribe("broken", lambda event: 1 / 0)
    em.dispatcher.subscribe("fine", lambda event: seen.append(event.number))
    new_matter(api)
    new_matter(api)
    assert seen == [1, 2]
    with em.store.read() as conn:
        letters = conn.execute("SELECT event_number, subscriber, error FROM dead_letters").fetchall()
    assert [(r[0], r[1]) for r in letters] == [(1, "broken"), (2, "broken")]
    assert "ZeroDivisionError" in letters[0][2]


def test_a_crash_between_commit_and_dispatch_resumes_from_the_cursor(tmp_path):
    from smartplans.testing import solution_from_demo

    solution = solution_from_demo(tmp_path / "solution")  # no plans: only this test's subscriber
    settings = Settings(
        data_dir=tmp_path / "d", solution=solution, clock="virtual", clock_start=START, inline_dispatch=False
    )
    first = Emulator(settings)  # not started: commits happen, nothing dispatches (as if it died)
    first.workitems.change_phase("3c000000-0000-4000-8000-000000000010", {"toPhaseSystemName": "matter-open"}, None)
    first.workitems.set_attributes(OPEN_MATTER, {"x": "1"}, None)
    assert first.dispatcher.cursor == 0
    first.close()

    second = Emulator(settings)
    seen = []
    second.dispatcher.subscribe("late", lambda e: seen.append(e.event_type))
    assert second.dispatcher.drain() == 2
    assert seen == ["sharedo-phase-changed", "attribute-changed"]
    assert second.dispatcher.drain() == 0
    second.close()


def test_threaded_dispatch_delivers_in_order(tmp_path):
    import threading

    settings = Settings(data_dir=tmp_path, demo=True, inline_dispatch=False)
    em = Emulator(settings)
    seen, done = [], threading.Event()

    def record(event):
        seen.append(event.number)
        if len(seen) == 5:
            done.set()

    em.dispatcher.subscribe("rec", record)
    em.start_background()
    for i in range(5):
        em.workitems.set_attributes(OPEN_MATTER, {"n": str(i)}, None)
    assert done.wait(10)
    em.close()
    assert seen == [1, 2, 3, 4, 5]


def test_unknown_event_type_is_refused(em):
    with pytest.raises(ValueError, match="unknown business event"), em.store.transaction() as tx:
        em.stream.append(tx, "matter-exploded", {})
