"""Plan coverage (`--operate-cov`): which lines, branches and functions of a solution's plans, IDE action templates
and helper scripts ran, in LCOV, Cobertura and a table, merged across xdist workers.

Run as a user runs it: pytest itself on a solution's tests (pytester, in a child process), and for the template
lines, a visual workflow run through the API with coverage on.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import xml.etree.ElementTree as ET

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.coverage.data import CoverageData
from smartplans.coverage.reports import table
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import START, Api, client_token
from tests.helpers.coverage_plans import MATTER, OTHER_MATTER, PLAN
from tests.helpers.paths import FIXTURES


@pytest.fixture
def solution(tmp_path):
    return solution_from_demo(tmp_path / "solution", {"check": PLAN}, [trigger("check", phases=["matter-open"])])


def run(pytester, solution, tests: dict[str, str], *args: str):
    pytester.makepyfile(**{name: textwrap.dedent(source) for name, source in tests.items()})
    return pytester.runpytest_subprocess(
        "--operate-solution", str(solution), "-p", "no:cacheprovider", "--operate-cov", *args
    )


OPEN_FIRST = f"""
    def test_opening_runs_the_plan(operate):
        operate.move("{MATTER}", "matter-open")
        operate.assert_execution("check", state="STOPPED")
"""
OPEN_OTHER = f"""
    def test_opening_the_other_runs_the_plan(operate):
        operate.move("{OTHER_MATTER}", "matter-open")
        operate.assert_execution("check", state="STOPPED")
"""


def lcov_records(path) -> dict[str, list[str]]:
    records, current = {}, None
    for line in path.read_text().splitlines():
        if line.startswith("SF:"):
            current = records.setdefault(line[3:], [])
        elif current is not None:
            current.append(line)
    return records


def test_an_untaken_branch_is_missed_in_lcov_cobertura_and_the_table(pytester, solution):
    result = run(pytester, solution, {"test_check": OPEN_FIRST})
    result.assert_outcomes(passed=1)

    record = lcov_records(pytester.path / "coverage" / "lcov.info")["plans/check.js"]
    assert "DA:7,0" in record and "DA:5,1" in record and "DA:4,1" in record
    assert "BRDA:4,0,0,1" in record and "BRDA:4,0,1,-" in record  # the if's else arm: never taken
    assert "BRDA:9,1,0,1" in record and "BRDA:9,1,1,-" in record
    # The step ran twice (once more after its host call), and counts once: only a step's last run counts.
    assert "FNDA:1,main" in record
    assert "LF:7" in record and "LH:5" in record and "BRF:4" in record and "BRH:2" in record

    xml = ET.parse(pytester.path / "coverage" / "cobertura.xml").getroot()
    (cls,) = xml.iter("class")
    assert cls.get("filename") == "plans/check.js"
    lines = {int(e.get("number")): e for e in cls.find("lines")}
    assert lines[7].get("hits") == "0"
    assert lines[4].get("condition-coverage") == "50% (1/2)"
    assert xml.get("lines-valid") == "7" and xml.get("lines-covered") == "5"

    out = result.stdout.str()
    row = next(line for line in out.splitlines() if line.startswith("plans/check.js"))
    assert re.search(r"71\.4%\s+50\.0%\s+7, 10$", row), row


def test_coverage_merges_across_xdist_workers(pytester, solution):
    both = {"test_first": OPEN_FIRST, "test_other": OPEN_OTHER}
    for name in both:
        both[name] += """
    def test_where(worker_id, tmp_path_factory):
        (tmp_path_factory.getbasetemp().parent.parent / f"ran-on-{worker_id}").write_text("")
"""
    result = run(pytester, solution, both, "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=4)
    record = lcov_records(pytester.path / "coverage" / "lcov.info")["plans/check.js"]
    # Each worker ran one of the two arms on line 9; only the merged report has both.
    assert "BRDA:9,1,0,1" in record and "BRDA:9,1,1,1" in record
    assert "FNDA:2,main" in record and "DA:10,1" in record


def test_fail_under_fails_the_run_below_the_floor(pytester, solution):
    failed = run(pytester, solution, {"test_check": OPEN_FIRST}, "--operate-cov-fail-under", "90")
    assert failed.ret == 1
    failed.stdout.fnmatch_lines(["*plan line coverage 71.4% is below --operate-cov-fail-under 90%*"])
    passed = run(pytester, solution, {"test_check": OPEN_FIRST}, "--operate-cov-fail-under", "70")
    assert passed.ret == 0


def test_without_the_switch_nothing_is_instrumented(pytester, solution):
    pytester.makepyfile(test_check=textwrap.dedent(OPEN_FIRST))
    result = pytester.runpytest_subprocess("--operate-solution", str(solution), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "coverage").exists()
    assert "plan coverage" not in result.stdout.str()


# -- a visual workflow: its IDE action's template lines --------------------------------------------
TASK = "a1000000-0000-4000-8000-000000000001"
TEMPLATE = """\
let total = 0;
// $each.Model.Configuration.items
total += $current.amount;
// $endeach
if (total > $model.Configuration.limit) {
  log.Warning("over the limit: " + total);
} else {
  log.Information("within the limit: " + total);
}
ctx.total = total;
"""
MANIFEST = {
    "systemName": "SumAction",
    "category": "Coverage",
    "name": "Sum the items",
    "templateScript": "/_ideFiles/Coverage/SumAction/SumAction-template.js",
    "helperScripts": [],
}
WORKFLOW = {
    "systemName": "sum",
    "name": "Sum",
    "variables": [],
    "steps": [
        {
            "systemName": "main",
            "name": "Main",
            "isStart": True,
            "isEnd": True,
            "actions": [
                {
                    "actionSystemName": "SumAction",
                    "name": "Sum",
                    "config": {"items": [{"amount": 2}, {"amount": 3}], "limit": 10},
                    "connections": {},
                },
                {
                    "actionSystemName": "LogVariables",
                    "name": "Show",
                    "config": {"variables": ["total"]},
                    "connections": {},
                },
            ],
        }
    ],
}


def test_an_ide_action_s_template_lines_are_the_ones_reported(tmp_path):
    root = tmp_path / "solution"
    shutil.copytree(FIXTURES / "solutions" / "ide-actions", root)
    for name in ("workflows/api-demo-tx.json", "triggers/api-demo-tx.json", "workflows/review.json"):
        (root / name).unlink()
    action = root / "_IDE" / "Coverage" / "SumAction"
    action.mkdir(parents=True)
    (action / "SumAction-template.js").write_text(TEMPLATE)
    (action / "SumAction.wf-action.json").write_text(json.dumps(MANIFEST))
    (root / "workflows" / "sum.json").write_text(json.dumps(WORKFLOW))
    doc = json.loads((root / "triggers" / "review.json").read_text())
    (root / "triggers" / "review.json").write_text(json.dumps({**doc, "PlanSystemName": "sum"}))

    app = create_app(
        Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START, coverage=True)
    )
    try:
        api = Api(app, client_token(app))
        response = api.put(f"/api/v1/public/workItem/{TASK}/phase", {"toPhaseSystemName": "task-done"})
        assert response.status_code == 200, response.json
        covered: CoverageData = app.extensions["operate"].smartplans.covered()
    finally:
        app.extensions["operate"].close()

    # Only the solution's own file: not the workflow's generated glue, not the built-in LogVariables.
    assert set(covered.files) == {"_IDE/Coverage/SumAction/SumAction-template.js"}
    sums = covered.files["_IDE/Coverage/SumAction/SumAction-template.js"]
    assert sums.lines == {1: 1, 3: 2, 5: 1, 6: 0, 8: 1, 10: 1}  # line 3 twice: `$each` generated it for 2 items
    assert sums.missed_branches() == [(5, 0)]  # the if's then arm (over the limit) never ran


def test_a_stack_trace_names_the_plan_s_own_line_with_coverage_on(tmp_path):
    failing = PLAN.replace("if (item.success)", "if (!item.success)")
    root = solution_from_demo(tmp_path / "solution", {"check": failing}, [trigger("check", phases=["matter-open"])])
    app = create_app(
        Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START, coverage=True)
    )
    try:
        api = Api(app, client_token(app))
        assert (
            api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
        )
        (execution,) = api.get(f"/api/executionengine/plans/executing?plan=check&sharedoId={MATTER}").json
        assert execution["state"] == "ERRORED"
        assert "plans/check.js:7" in json.dumps(execution), json.dumps(execution)[:2000]
    finally:
        app.extensions["operate"].close()


def test_a_visual_workflow_reports_its_steps_actions_and_outlets(tmp_path):
    """The review workflow (tests/fixtures/solutions/ide-actions) follows its notify outlet; finish never runs."""
    root = tmp_path / "solution"
    shutil.copytree(FIXTURES / "solutions" / "ide-actions", root)
    for name in ("workflows/api-demo-tx.json", "triggers/api-demo-tx.json"):
        (root / name).unlink()
    app = create_app(
        Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START, coverage=True)
    )
    try:
        api = Api(app, client_token(app))
        assert api.put(f"/api/v1/public/workItem/{TASK}/phase", {"toPhaseSystemName": "task-done"}).status_code == 200
        covered = app.extensions["operate"].smartplans.covered()
        page = app.test_client().get("/plans/review").get_data(as_text=True)
    finally:
        app.extensions["operate"].close()

    flow = covered.workflows["workflows/review.json"]
    assert flow.steps == {"main": 1, "notify": 1, "finish": 0}
    assert flow.actions == {"main#0": 1, "notify#0": 1}
    assert flow.outlets == {"main#0:notify": 1}
    assert "workflows/review.json: steps 2/3, actions 2/2, outlets 1/1; never taken: step finish" in table(covered)
    # The plan page marks the outline the same way (live: this emulator runs with coverage on).
    assert re.search(r'id="wf-step-finish">.*?never ran', page, re.S)
    assert re.search(
        r'notify → <a href="#wf-step-notify">notify</a> <span class="web-cov-runs web-cov-hit">taken 1×', page
    )
