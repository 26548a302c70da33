import json

import pytest

from tests.conftest import OPEN_MATTER, Api, events_of, new_matter, user_token


def test_health_is_open_and_says_what_is_loaded(app):
    health = Api(app, None).get("/api/_emulator/health").json
    assert health["status"] == "ok" and health["solution"] == "Demo law firm"
    assert health["clock"] == {"mode": "virtual", "now": "2026-01-05T09:00:00.000Z"}


def test_clock_advance_and_set(api, em):
    ran = []
    em.scheduler.cron("every-2-minutes", "*/2 * * * *", ran.append)
    moved = api.post("/api/_emulator/clock", {"advance": "PT5M"})
    assert moved.status_code == 200 and moved.json["now"] == "2026-01-05T09:05:00.000Z"
    assert len(ran) == 2
    assert api.post("/api/_emulator/clock", {"set": "2026-01-06T00:00:00Z"}).json["now"] == "2026-01-06T00:00:00.000Z"
    now = api.get("/api/_emulator/clock").json
    assert now["now"] == "2026-01-06T00:00:00.000Z" and any(j["id"] == "every-2-minutes" for j in now["pending"])


def test_clock_bad_input(api):
    for body, field in [
        ({"advance": "5 minutes"}, "advance"),
        ({"set": "tomorrow"}, "set"),
        ({}, "(body)"),
        ({"advance": "PT1M", "set": "2026-01-01T00:00:00Z"}, "(body)"),
        ({"advance": 5}, "advance"),
    ]:
        response = api.post("/api/_emulator/clock", body)
        assert response.status_code == 400, body
        assert response.json["errors"][0]["field"] == field


def test_a_system_clock_refuses_to_move_with_409(tmp_path):
    from emulator.app import create_app
    from emulator.settings import Settings
    from tests.conftest import client_token

    app = create_app(Settings(data_dir=tmp_path, demo=True))
    response = Api(app, client_token(app)).post("/api/_emulator/clock", {"advance": "PT1M"})
    assert response.status_code == 409 and "virtual clock" in response.json["title"]
    app.extensions["operate"].close()


def test_reset_restores_the_seed_events_and_clock_but_keeps_tokens(api):
    new_matter(api)
    api.put(f"/api/v1/public/workItem/{OPEN_MATTER}/phase", {"toPhaseSystemName": "matter-closed"})
    api.post("/api/_emulator/clock", {"advance": "P1D"})
    response = api.post("/api/_emulator/reset")
    assert response.status_code == 200 and response.json["clock"]["now"] == "2026-01-05T09:00:00.000Z"
    assert events_of(api) == []
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/phase").json["systemName"] == "matter-open"
    assert new_matter(api)["reference"] == "MAT-00013"  # counters are state too


def test_export_then_import_round_trips_the_whole_state(api):
    item = new_matter(api)
    snapshot = api.get("/api/_emulator/export").json
    assert snapshot["format"] == "operate-toolkit/snapshot@1" and "tokens" not in snapshot["tables"]
    assert "demo-secret" not in json.dumps(snapshot)
    api.post("/api/_emulator/reset")
    assert api.get(f"/api/v1/public/workItem/{item['id']}").status_code == 404
    imported = api.post("/api/_emulator/import", snapshot)
    assert imported.status_code == 200 and imported.json["lastEventNumber"] == 1
    assert api.get(f"/api/v1/public/workItem/{item['id']}").json["workItem"]["title"] == "Test matter"


def test_import_refuses_a_bad_snapshot_and_changes_nothing(api):
    before = api.get("/api/_emulator/export").json
    bad = json.loads(json.dumps(before))
    bad["tables"]["work_items"]["rows"][0][0] = {"not": "a value"}
    cases = [{"format": "something-else"}, {**before, "schemaVersion": 99}, {**before, "tables": {"aliens": {}}}, bad]
    broken_fk = json.loads(json.dumps(before))
    broken_fk["tables"]["work_items"]["rows"] = []
    cases.append(broken_fk)
    for snapshot in cases:
        response = api.post("/api/_emulator/import", snapshot)
        assert response.status_code == 400, response.json
        assert response.json["title"]
    assert api.get("/api/_emulator/export").json["tables"] == before["tables"]


@pytest.mark.parametrize(
    "spoil, said",
    [
        (lambda t: t["work_items"]["rows"][0].__setitem__(1, None), "work_items.rows[0][1] (type): required, got null"),
        (lambda t: t["work_items"]["rows"].append(list(t["work_items"]["rows"][0])), "the same id"),
        (lambda t: t["counters"]["rows"][0].__setitem__(1, 10**29), "rows[0][1] (value): a whole number outside"),
        (lambda t: t["meta"]["rows"][0].__setitem__(0, None), "meta.rows[0][0] (key): required, got null"),
    ],
)
def test_import_names_the_table_row_and_column_sqlite_would_refuse(api, spoil, said):
    before = api.get("/api/_emulator/export").json
    bad = json.loads(json.dumps(before))
    if not bad["tables"]["counters"]["rows"]:
        bad["tables"]["counters"]["rows"] = [["reference.matter", 1]]
    spoil(bad["tables"])
    response = api.post("/api/_emulator/import", bad)
    assert response.status_code == 400, response.json
    assert said in response.json["title"]
    assert api.get("/api/_emulator/export").json["tables"] == before["tables"]


def test_control_routes_need_the_emulator_control_permission(app):
    user = Api(app, user_token(app, "priya.shah"))
    assert user.post("/api/_emulator/reset").status_code == 403
    assert user.get("/api/_emulator/export").status_code == 403
    assert user.post("/api/_emulator/clock", {"advance": "PT1M"}).status_code == 403
    assert user.get("/api/_emulator/events").status_code == 200
