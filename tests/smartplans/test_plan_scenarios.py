"""Declarative scenarios, run as implementors run them: pytest collects them, `operate test` runs them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from smartplans.testing import solution_from_demo, trigger

PLAN = """
function main(ev, ctx, log) {
  var sent = sharedo.http.post("/api/proxy/demo-pms/_/api/matters", {operateId: ctx.workItemId,
      title: "From a scenario", feeEarner: "PS", clientName: "Scenario client"});
  if (!sent.success) throw "PMS refused: " + sent.status;
  sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/pmsReference/",
                    {value: sent.body.pmsReference});
  log.Information("incepted as " + sent.body.pmsReference);
  trigger.SubProcess("remind").In(1).Days;
}
function remind(ev, ctx, log) { log.Warning("reminder for " + ctx.workItemId); }
return { main: main, remind: remind };
"""

PASSING = """
name: A matter opened in Operate is incepted in the PMS
given:
  work_items:
    - id: matter
      type: matter-commercial
      title: Acme v Widgets
      participants: {client: 2b000000-0000-4000-8000-000000000001}
when:
  - move: {work_item: matter, to: matter-open}
  - advance: P1D
then:
  executions:
    - plan: incept
      on: matter
      state: STOPPED
      logs_include: ["incepted as PMS-26", "reminder for {{matter}}"]
      ctx: {workItemId: "{{matter}}"}
  phases: {matter: matter-open}
  attributes:
    matter: {pmsReference: "PMS-26*"}
  events:
    - {type: sharedo-phase-changed, data: {sharedoId: "{{matter}}", toPhase: matter-open}}
  pms_received:
    - {method: POST, path: /api/matters, body: {operateId: "{{matter}}"}, count: 1}
"""

FAILING = """
name: Expects the wrong thing
given:
  work_items:
    - {id: matter, type: matter-commercial, title: Acme}
when:
  - move: {work_item: matter, to: matter-open}
then:
  executions:
    - plan: incept
      state: ERRORED
"""


@pytest.fixture
def solution(tmp_path):
    return solution_from_demo(tmp_path / "solution", {"incept": PLAN}, [trigger("incept", phases=["matter-open"])])


def write(solution, name, text):
    (solution / "tests" / name).write_text(textwrap.dedent(text).lstrip())


def test_a_passing_scenario(pytester, solution):
    write(solution, "incept.scenario.yaml", PASSING)
    result = pytester.runpytest_subprocess(str(solution / "tests"), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_failing_scenario_points_at_its_line_and_shows_the_trace(pytester, solution):
    write(solution, "wrong.scenario.yaml", FAILING)
    result = pytester.runpytest_subprocess(str(solution / "tests"), "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "wrong.scenario.yaml:10: incept is WAITING, expected ERRORED" in text
    assert "what happened:" in text and "sharedo-phase-changed" in text and "step remind: WAITING" in text


@pytest.mark.parametrize(
    "text, words",
    [
        ("name: x\nthen: {}\nwhen: [{fly: {}}]\n", "wrong.scenario.yaml:3: unknown `when` step 'fly'"),
        (
            "name: x\ngiven:\n  work_items:\n    - {type: task}\nthen: {}\n",
            "wrong.scenario.yaml:4: each work item needs type and title",
        ),
        ("name: [unclosed\n", "wrong.scenario.yaml:2: not valid YAML"),
        ("name: x\nwhen: []\n", "a scenario needs a `then` section"),
        ("name: x\nthen:\n  verdict: good\n", "wrong.scenario.yaml:3: `then` has unknown key(s) ['verdict']"),
        (
            "name: x\nwhen:\n  - move: {work_item: 3c000000-0000-4000-8000-000000000010}\nthen: {}\n",
            "wrong.scenario.yaml:3: `move` step is missing 'to'",
        ),
    ],
)
def test_mistakes_in_a_scenario_are_named_with_their_line(pytester, solution, text, words):
    (solution / "tests" / "wrong.scenario.yaml").write_text(text)
    result = pytester.runpytest_subprocess(str(solution / "tests"), "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert words in result.stdout.str()


def test_operate_test_runs_a_folder_and_writes_junit_xml(solution, tmp_path):
    write(solution, "incept.scenario.yaml", PASSING)
    write(solution, "wrong.scenario.yaml", FAILING)
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "test", str(solution), "--junit-xml", str(report)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = [c for c in suite.iter("testcase") if c.find("failure") is not None][0]
    assert failure.get("name") == "wrong" and "wrong.scenario.yaml:10" in failure.find("failure").text
    (solution / "tests" / "wrong.scenario.yaml").unlink()
    ok = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "test", str(solution), "-q"], capture_output=True, text=True, timeout=300
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
