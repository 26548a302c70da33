"""A snapshot that fits the tables but breaks a rule the running emulator keeps (a cursor past the last
event, counters that are not counts, a clock that is not a time) is refused, naming the rule, by the
import route and `operate load`, and nothing of it is imported."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START, Api, client_token, events_of, new_matter
from tests.helpers.processes import operate


def _meta(tables: dict[str, Any], key: str, value: Any) -> None:
    rows = tables["meta"]["rows"]
    for row in rows:
        if row[0] == key:
            row[1] = value
            return
    rows.append([key, value])


def _counter(tables: dict[str, Any], value: Any) -> None:
    tables["counters"]["rows"] = [["reference:MAT", value]]


SPOILED = [
    # the issue's own case: events emptied, the cursor left at 9
    (
        lambda s: (s["tables"]["events"].__setitem__("rows", []), _meta(s["tables"], "dispatcher.cursor", "9")),
        "cursor within events: meta dispatcher.cursor is 9 but the last event is none",
    ),
    (lambda s: _meta(s["tables"], "dispatcher.cursor", "5"), "the last event is 1"),
    (lambda s: _meta(s["tables"], "dispatcher.cursor", "soon"), "dispatcher.cursor must be a whole number"),
    (lambda s: _meta(s["tables"], "dispatcher.cursor", "-1"), "dispatcher.cursor must be a whole number"),
    (lambda s: _counter(s["tables"], "lots"), "counters.rows[0][1] (value): expected a whole number, not 'lots'"),
    (lambda s: _counter(s["tables"], -3), "counters are counts: counters.rows[0] (reference:MAT)"),
    (lambda s: _counter(s["tables"], 2.5), "expected a whole number, not '2.5'"),
    (lambda s: _counter(s["tables"], 4), "is 4 but MAT-00013 was generated from it"),
    (lambda s: s.__setitem__("clock", "yesterday"), "clock is a time: clock must be an object"),
    (lambda s: s.__setitem__("clock", {"mode": "virtual", "now": "teatime"}), "clock.now: 'teatime' is not a time"),
    (lambda s: s.__setitem__("clock", {"mode": "sundial", "now": "2026-01-05T09:00:00Z"}), "mode one of"),
    (lambda s: _meta(s["tables"], "clock.virtualNow", "not-a-time"), "clock.virtualNow"),
    (lambda s: s["tables"]["events"]["rows"][0].__setitem__(0, 0), "an event's number is a whole number from 1"),
    (lambda s: s["tables"]["events"]["rows"][0].__setitem__(4, "{oops"), "events.rows[0] (data): must be JSON"),
    (lambda s: s["tables"]["events"]["rows"][0].__setitem__(2, "Tuesday"), "events.rows[0] (occurred_at)"),
    (lambda s: s["tables"]["work_items"]["rows"][0].__setitem__(9, "[not json"), "work_items.rows[0] (body)"),
]


@pytest.mark.parametrize(("spoil", "said"), SPOILED)
def test_import_refuses_a_snapshot_that_breaks_a_rule_and_imports_nothing(api, spoil, said):
    new_matter(api)  # event 1, and MAT-00013 generated from the counter
    before = api.get("/api/_emulator/export").json
    bad = json.loads(json.dumps(before))
    spoil(bad)
    response = api.post("/api/_emulator/import", bad)
    assert response.status_code == 400, response.json
    assert said in response.json["title"], response.json["title"]
    after = api.get("/api/_emulator/export").json
    assert after["tables"] == before["tables"]


def test_the_issues_emptied_events_with_cursor_nine_would_never_dispatch_event_one(api):
    """What the rule protects: with the cursor past the last event, the next event is taken as delivered."""
    snapshot = api.get("/api/_emulator/export").json
    snapshot["tables"]["events"]["rows"] = []
    _meta(snapshot["tables"], "dispatcher.cursor", "9")
    assert api.post("/api/_emulator/import", snapshot).status_code == 400
    new_matter(api)
    assert [e["eventType"] for e in events_of(api)][:1] == ["sharedo-created"]


def test_a_snapshot_that_keeps_the_rules_still_round_trips(api):
    new_matter(api)
    snapshot = api.get("/api/_emulator/export").json
    assert api.post("/api/_emulator/reset").status_code == 200
    assert api.post("/api/_emulator/import", snapshot).status_code == 200
    assert api.get("/api/_emulator/export").json["tables"] == snapshot["tables"]


def test_operate_load_refuses_the_broken_rule_and_loads_nothing(tmp_path):
    data = tmp_path / "state"
    app = create_app(Settings(data_dir=data, demo=True, clock="virtual", clock_start=START))
    api = Api(app, client_token(app))
    snapshot = api.get("/api/_emulator/export").json
    app.extensions["operate"].close()
    snapshot["tables"]["events"]["rows"] = []
    _meta(snapshot["tables"], "dispatcher.cursor", "9")
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snapshot))
    other = tmp_path / "other"
    result = operate("load", "--demo", "--data-dir", str(other), str(path))
    assert result.returncode == 2
    assert "cursor within events" in result.stderr and "dispatcher.cursor is 9" in result.stderr
