"""A step rerun with edited input, as a new execution linked to the original, compared side by side; and a step's
ctx call by call, from its recorded answers."""

from __future__ import annotations

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import START, Api, client_token
from tests.helpers.recorded_plans import INCEPT, MATTER, OTHER_MATTER

EXECUTING = "/api/executionengine/plans/executing"


@pytest.fixture
def api(tmp_path):
    root = solution_from_demo(tmp_path / "solution", {"incept": INCEPT}, [trigger("incept", phases=["matter-open"])])
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    client = Api(app, client_token(app), renew=lambda: client_token(app))
    client.app = app
    yield client
    app.extensions["operate"].close()


def first_run(api) -> tuple[dict, str]:
    assert api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
    (execution,) = api.get(f"{EXECUTING}?plan=incept&sharedoId={MATTER}").json
    return execution, execution["steps"][0]["id"]


def pms_posts(api) -> list[dict]:
    pms = api.app.extensions["operate"].linked_services.fakes["demo-pms"]
    return [r for r in pms.requests() if r["method"] == "POST" and r["path"] == "/api/matters"]


def test_a_step_rerun_with_an_edited_ctx_makes_the_new_calls_as_a_new_linked_execution(api):
    execution, step = first_run(api)
    rerun = api.post(
        f"/api/_emulator/executions/{execution['id']}/steps/{step}/rerun", {"ctx": {"workItemId": OTHER_MATTER}}
    )
    assert rerun.status_code == 201, rerun.json
    new = rerun.json["execution"]
    assert new["id"] != execution["id"] and new["planSystemName"] == "incept"
    assert [s["systemName"] for s in new["steps"]] == ["main", "chase"]
    original, again = rerun.json["original"], rerun.json["rerun"]
    assert [c["url"] for c in original["calls"]] == [
        f"/api/v1/public/workItem/{MATTER}",
        "/api/proxy/demo-pms/_/api/matters",
    ]
    assert [c["url"] for c in again["calls"]] == [
        f"/api/v1/public/workItem/{OTHER_MATTER}",
        "/api/proxy/demo-pms/_/api/matters",
    ]
    assert again["calls"][1]["body"]["operateId"] == OTHER_MATTER and again["calls"][1]["statusCode"] == 201
    assert (
        again["ctxIn"] == {"workItemId": OTHER_MATTER}
        and again["ctx"]["pmsReference"] != original["ctx"]["pmsReference"]
    )
    # A real run: the PMS received the rerun's matter too.
    assert [p["body"]["operateId"] for p in pms_posts(api)] == [MATTER, OTHER_MATTER]


def test_a_rerun_with_the_originals_repeats_the_step(api):
    execution, step = first_run(api)
    rerun = api.post(f"/api/_emulator/executions/{execution['id']}/steps/{step}/rerun", {})
    assert rerun.status_code == 201
    assert rerun.json["rerun"]["ctxIn"] == {"workItemId": MATTER}
    assert [c["url"] for c in rerun.json["rerun"]["calls"]] == [c["url"] for c in rerun.json["original"]["calls"]]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"ctx": ["not", "an", "object"]}, 400, "ctx must be a JSON object"),
        ({"ctx": {}, "steps": 3}, 400, "a rerun takes ctx and ev"),
        ({"ev": "text"}, 400, "ev must be a JSON object"),
    ],
)
def test_a_rerun_refuses_what_it_cannot_run_with(api, body, status, says):
    execution, step = first_run(api)
    refused = api.post(f"/api/_emulator/executions/{execution['id']}/steps/{step}/rerun", body)
    assert refused.status_code == status and says in refused.json["title"], refused.json
    assert len(api.get(f"{EXECUTING}?plan=incept").json) == 1  # nothing started


def test_an_unknown_step_or_run_is_a_404(api):
    execution, _ = first_run(api)
    assert api.post(f"/api/_emulator/executions/{execution['id']}/steps/nope/rerun", {}).status_code == 404
    assert api.post("/api/_emulator/executions/nope/steps/nope/rerun", {}).status_code == 404


def test_a_step_s_ctx_after_each_host_call(api):
    execution, step = first_run(api)
    shown = api.get(f"/api/_emulator/executions/{execution['id']}/steps/{step}/snapshots")
    assert shown.status_code == 200, shown.json
    get, post = shown.json["calls"]
    assert shown.json["ctxIn"] == {"workItemId": MATTER}
    assert get["url"] == f"/api/v1/public/workItem/{MATTER}" and get["recorded"]
    assert get["ctxAfter"] == {"workItemId": MATTER, "title": "Pritchard - wills and trust review"}
    assert post["ctxAfter"]["pmsReference"].startswith("PMS-26") and post["ctxAfter"] == shown.json["ctxOut"]
    assert shown.json["sameCallsAsTheRun"] is True and shown.json["status"] == "completed"
    # Replayed from the recording: the PMS was not asked again.
    assert len(pms_posts(api)) == 1
