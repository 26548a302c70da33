"""A snapshot an earlier schema version exported still imports: its rows are carried through the later
migrations, as a data dir of that version would be, and read back as the emulator reads its own.

tests/fixtures/schema/snapshot-v10.json was exported at schema version 10 (the work-item key of time entries,
events, notifications and plan executions still named `sharedo_id`), from the demo after: a time entry on the
open matter recorded and submitted (which ran the time-submitted plan), and the matter closed."""

from __future__ import annotations

import copy
import json

from emulator.core import SCHEMA
from tests.conftest import OPEN_MATTER, executions
from tests.helpers.paths import FIXTURES

V10 = json.loads((FIXTURES / "schema" / "snapshot-v10.json").read_text("utf-8"))
ENTRY = V10["tables"]["time_entries"]["rows"][0][0]


def test_a_version_10_snapshot_imports_and_its_work_item_keeps_its_time_events_and_runs(api):
    assert V10["schemaVersion"] == 10 and "sharedo_id" in V10["tables"]["time_entries"]["columns"]
    imported = api.post("/api/_emulator/import", V10)
    assert imported.status_code == 200, imported.json
    entry = api.get(f"/api/v2/public/time/entry/{ENTRY}").json
    assert (entry["sharedoId"], entry["stateSystemName"], entry["durationSeconds"]) == (OPEN_MATTER, "submitted", 5400)
    found = api.post("/api/v2/public/time/entry/search", {"sharedoId": OPEN_MATTER}).json
    assert [r["id"] for r in found["rows"]] == [ENTRY]
    events = api.get(f"/api/_emulator/events?after=0&sharedoId={OPEN_MATTER}").json["events"]
    assert [e["eventType"] for e in events] == [
        "time-entry-state-changed",
        "time-entry-state-changed",
        "comment-added",
        "sharedo-phase-changed",
    ]
    runs = executions(api, sharedoId=OPEN_MATTER)
    assert [(r["planSystemName"], r["state"], r["sharedoId"]) for r in runs] == [
        ("time-submitted", "STOPPED", OPEN_MATTER)
    ]
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/phase").json["systemName"] == "matter-closed"


def test_the_imported_state_exports_at_the_current_version_with_one_name_for_the_work_item_key(api):
    api.post("/api/_emulator/import", V10)
    exported = api.get("/api/_emulator/export").json
    assert exported["schemaVersion"] == SCHEMA.version  # 12 now: carried through every later migration
    for table in ("time_entries", "events", "notifications", "plan_executions", "runtime_triggers"):
        assert "work_item_id" in exported["tables"][table]["columns"], table
        assert "sharedo_id" not in exported["tables"][table]["columns"], table
    entries = exported["tables"]["time_entries"]
    assert dict(zip(entries["columns"], entries["rows"][0], strict=True))["work_item_id"] == OPEN_MATTER
    assert api.post("/api/_emulator/import", exported).status_code == 200  # and imports again as it is


def test_a_version_10_snapshot_is_checked_against_the_tables_version_10_had(api):
    before = api.get("/api/_emulator/export").json
    renamed = copy.deepcopy(V10)
    columns = renamed["tables"]["time_entries"]["columns"]
    columns[columns.index("sharedo_id")] = "work_item_id"  # the current name in an old snapshot: not what v10 wrote
    refused = api.post("/api/_emulator/import", renamed)
    assert refused.status_code == 400
    assert "snapshot.tables.time_entries.columns must be ['id', 'sharedo_id'," in refused.json["title"]
    for version in (0, SCHEMA.version + 1, "10"):
        refused = api.post("/api/_emulator/import", {**V10, "schemaVersion": version})
        assert refused.status_code == 400 and f"it reads 1 to {SCHEMA.version}" in refused.json["title"], version
    assert api.get("/api/_emulator/export").json["tables"] == before["tables"]  # nothing changed
