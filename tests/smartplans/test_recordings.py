"""An execution saved as a regression test: the scenario it writes, replayed green against the same plan, and red
with a readable diff once the plan changes a call. Run as an implementor runs it: the API saves the file into the
solution, pytest (the operate plugin, in a child process) replays it."""

from __future__ import annotations

import yaml

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import START, Api, client_token
from tests.helpers.recorded_plans import INCEPT, MATTER


def recorded(tmp_path):
    """The solution, one real run of its plan (the demo PMS answering), and the run saved through the API."""
    root = solution_from_demo(tmp_path / "solution", {"incept": INCEPT}, [trigger("incept", phases=["matter-open"])])
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))  # a new token after the clock moves
        assert (
            api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
        )
        assert api.post("/api/_emulator/clock", {"advance": "P3D"}).status_code == 200
        (execution,) = api.get(f"/api/executionengine/plans/executing?plan=incept&sharedoId={MATTER}").json
        assert execution["state"] == "STOPPED"
        shown = api.get(f"/api/_emulator/executions/{execution['id']}/recording")
        saved = api.post(f"/api/_emulator/executions/{execution['id']}/recording")
    finally:
        app.extensions["operate"].close()
    assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("application/yaml"), shown.data[:300]
    assert saved.status_code == 201, saved.json
    return root, execution, shown.get_data(as_text=True), saved.json["path"]


def test_the_saved_scenario_holds_the_event_the_answers_and_what_happened(tmp_path):
    root, execution, text, path = recorded(tmp_path)
    assert path == f"tests/recorded/incept-{execution['id'][:8]}.scenario.yaml"
    assert (root / path).read_text() == text
    doc = yaml.safe_load(text)
    replay = doc["replay"]
    assert replay["plan"] == "incept" and replay["execution"] == execution["id"]
    assert replay["ev"]["Data"]["sharedoId"] == MATTER
    main, chase = replay["steps"]
    assert main["step"] == "main" and main["ctx"] == {"workItemId": MATTER}
    assert [c["request"]["method"] + " " + c["request"]["url"] for c in main["calls"]] == [
        f"GET /api/v1/public/workItem/{MATTER}",
        "POST /api/proxy/demo-pms/_/api/matters",
    ]
    reference = main["then"]["ctx"]["pmsReference"]
    assert reference.startswith("PMS-26") and main["calls"][1]["response"]["body"]["pmsReference"] == reference
    assert main["then"]["logs"] == [f"Information: incepted as {reference}"]
    assert [t["step"] for t in main["then"]["triggers"]] == ["chase"]
    assert chase["ctx"] == main["then"]["ctx"] and chase["then"]["logs"] == [f"Warning: chasing {reference}"]
    assert text.startswith(f"# Saved from execution {execution['id']} of plan incept")


def test_the_recording_replays_green_then_red_with_a_diff_when_the_plan_changes_a_call(tmp_path, pytester):
    root, _, _, path = recorded(tmp_path)
    args = (str(root / "tests"), "--operate-solution", str(root), "-p", "no:cacheprovider")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)

    plan = root / "plans" / "incept.js"
    plan.write_text(plan.read_text().replace('feeEarner: "PS"', 'feeEarner: "DO"'))
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert f"{path}:" in out and "the plan no longer does what the recorded execution did" in out
    assert "step 'main' (1 of 2) does something else now:" in out
    assert "--- calls, recorded" in out and "+++ calls, now" in out
    assert '-POST /api/proxy/demo-pms/_/api/matters {"clientName":"A client","feeEarner":"PS"' in out
    assert '+POST /api/proxy/demo-pms/_/api/matters {"clientName":"A client","feeEarner":"DO"' in out
    assert "step 'chase'" not in out  # the chase step does just what it did


def test_an_unknown_execution_is_a_404_that_says_where_runs_are_listed(tmp_path):
    root = solution_from_demo(tmp_path / "solution", {"incept": INCEPT}, [trigger("incept", phases=["matter-open"])])
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        api = Api(app, client_token(app))
        missing = api.get("/api/_emulator/executions/nope/recording")
    finally:
        app.extensions["operate"].close()
    assert missing.status_code == 404 and "every run is listed at /executions" in missing.json["title"]


def test_the_demo_keeps_no_saved_test_in_the_package_but_offers_the_download(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data", demo=True, clock="virtual", clock_start=START))
    try:
        api = Api(app, client_token(app))
        demo_matter = "3c000000-0000-4000-8000-000000000010"
        assert (
            api.put(f"/api/v1/public/workItem/{demo_matter}/phase", {"toPhaseSystemName": "matter-open"}).status_code
            == 200
        )
        (execution,) = api.get(f"/api/executionengine/plans/executing?sharedoId={demo_matter}").json
        refused = api.post(f"/api/_emulator/executions/{execution['id']}/recording")
        shown = api.get(f"/api/_emulator/executions/{execution['id']}/recording")
        root = app.extensions["operate"].solution.root
    finally:
        app.extensions["operate"].close()
    assert refused.status_code == 409 and "download the test instead" in refused.json["title"]
    assert shown.status_code == 200 and "replay:" in shown.get_data(as_text=True)
    assert not (root / "tests" / "recorded").exists()


FAILING = """\
function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  log.Warning("about to fail on " + item.body.workItem.reference);
  throw new Error("no PMS for " + item.body.workItem.reference);
}
return { main: main };
"""


def test_a_failed_step_replays_green_as_the_failure_it_was(tmp_path, pytester):
    root = solution_from_demo(tmp_path / "solution", {"fails": FAILING}, [trigger("fails", phases=["matter-open"])])
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        api = Api(app, client_token(app))
        assert (
            api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
        )
        (execution,) = api.get("/api/executionengine/plans/executing?plan=fails").json
        assert execution["state"] == "ERRORED"
        saved = api.post(f"/api/_emulator/executions/{execution['id']}/recording")
    finally:
        app.extensions["operate"].close()
    assert saved.status_code == 201, saved.json
    doc = yaml.safe_load((root / saved.json["path"]).read_text())
    (step,) = doc["replay"]["steps"]
    assert step["then"]["status"] == "error" and step["then"]["error"] == "no PMS for MAT-00010"
    args = (str(root / "tests"), "--operate-solution", str(root), "-p", "no:cacheprovider")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)


def test_a_step_retried_after_a_pms_fault_replays_its_last_attempt_green(tmp_path, pytester):
    root = solution_from_demo(tmp_path / "solution", {"incept": INCEPT}, [trigger("incept", phases=["matter-open"])])
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        api = Api(app, client_token(app))
        app.extensions["operate"].linked_services.fakes["demo-pms"].add_fault(
            "/api/matters", "POST", status=503, times=1
        )
        assert (
            api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
        )
        (execution,) = api.get("/api/executionengine/plans/executing?plan=incept").json
        step = execution["steps"][0]
        assert execution["state"] == "ERRORED"
        retried = api.post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step['id']}/retry")
        assert retried.status_code == 200 and retried.json["state"] == "WAITING", retried.json
        saved = api.post(f"/api/_emulator/executions/{execution['id']}/recording")
    finally:
        app.extensions["operate"].close()
    doc = yaml.safe_load((root / saved.json["path"]).read_text())
    (main,) = doc["replay"]["steps"]  # the chase step waits on its timer: not ended, not recorded
    assert main["then"]["status"] == "completed"
    assert main["then"]["logs"] == [
        f"Information: incepted as {main['then']['ctx']['pmsReference']}"
    ]  # not attempt 1's
    args = (str(root / "tests"), "--operate-solution", str(root), "-p", "no:cacheprovider")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
