"""The pytest plugin, tested as a user meets it: test files run by pytest itself (pytester)."""

from __future__ import annotations

import textwrap

import pytest

from smartplans.testing import solution_from_demo, trigger

PLAN = """
function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  log.Information("opened " + item.body.workItem.reference);
  var sent = sharedo.http.post("/api/proxy/demo-pms/_/api/matters", {operateId: ctx.workItemId,
      title: item.body.workItem.title, feeEarner: "PS", clientName: "A client"});
  if (!sent.success) throw "PMS refused: " + sent.status;
  ctx.pmsReference = sent.body.pmsReference;
  trigger.SubProcess("chase").In(2).Days;
}
function chase(ev, ctx, log) { log.Warning("chasing " + ctx.pmsReference); }
return { main: main, chase: chase };
"""


@pytest.fixture
def solution(tmp_path):
    return solution_from_demo(
        tmp_path / "solution", {"open-in-pms": PLAN}, [trigger("open-in-pms", phases=["matter-open"])]
    )


def run_tests(pytester, solution, source: str, *args: str):
    pytester.makepyfile(test_user=textwrap.dedent(source))
    return pytester.runpytest_subprocess("--operate-solution", str(solution), "-p", "no:cacheprovider", *args)


HELPERS = """
    MATTER = "3c000000-0000-4000-8000-000000000010"

    def test_a_phase_change_runs_the_plan_and_reaches_the_pms(operate):
        operate.move(MATTER, "matter-open")
        ex = operate.assert_execution("open-in-pms", state="WAITING", sharedo_id=MATTER)
        assert ex["ctx"]["pmsReference"].startswith("PMS-26")
        operate.assert_pms_received("POST", "/api/matters", {"operateId": MATTER})
        assert operate.logs(ex) == ["main Information: opened MAT-00010"]

    def test_advance_runs_due_timers(operate):
        operate.move(MATTER, "matter-open")
        operate.advance("P2D")
        ex = operate.assert_execution("open-in-pms", state="STOPPED")
        assert operate.logs(ex)[-1].startswith("chase Warning: chasing PMS-26")

    def test_state_is_fresh_for_every_test(operate):
        assert operate.events() == [] and operate.executions() == [] and operate.pms_requests() == []
        assert operate.now.isoformat() == "2026-01-05T09:00:00+00:00"

    def test_a_mocked_host_call_answers_instead_of_the_pms(operate):
        mock = operate.mock_host_call("POST", "/api/proxy/demo-pms/_/api/matters", status=201,
                                      body={"pmsReference": "PMS-FAKE"})
        operate.move(MATTER, "matter-open")
        assert operate.assert_execution("open-in-pms", "WAITING")["ctx"]["pmsReference"] == "PMS-FAKE"
        assert len(mock.calls) == 1 and operate.pms_requests() == []

    def test_a_pms_that_never_answers(operate):
        operate.mock_host_call("*", "/api/proxy/demo-pms/*", never_answers=True)
        operate.move(MATTER, "matter-open")
        ex = operate.assert_execution("open-in-pms", "ERRORED")
        assert "PMS refused: GatewayTimeout" in ex["lastErrored"]

    def test_a_mocked_step(operate):
        operate.mock_step("open-in-pms", "main", ctx={"pmsReference": "PMS-X"})
        operate.move(MATTER, "matter-open")
        assert operate.assert_execution("open-in-pms")["ctx"]["pmsReference"] == "PMS-X"
        operate.mock_step("open-in-pms", "main", error="boom")
        operate.move(MATTER, "matter-closed")
        operate.move(MATTER, "matter-open")
        assert operate.executions(state="ERRORED")[0]["lastErrored"].startswith("boom")

    def test_calls_as_users_and_as_the_workflow_engine(operate):
        assert operate.api("tom.becker").put(f"/api/v1/public/workItem/{MATTER}/phase",
                                             json={"toPhaseSystemName": "matter-open"}).status_code == 403
        assert operate.api(client="ee-app").get("/api/security/userInfo").json["clientId"] == "ee-app"
        item = operate.create_work_item("task", "Call the client", parent=MATTER,
                                        participants={"primary-owner": "1a000000-0000-4000-8000-000000000002"},
                                        attributes={"note": "x"})
        assert operate.work_item(item["id"])["workItem"]["parentSharedoId"] == MATTER
        assert operate.attribute(item["id"], "note") == "x"

    def test_raise_an_event_directly(operate):
        operate.raise_event("sharedo-phase-changed", sharedoId=MATTER, sharedoTypeSystemName="matter-commercial",
                            fromPhase="matter-enquiry", toPhase="matter-open")
        operate.assert_execution("open-in-pms", "WAITING")
        operate.assert_event("sharedo-phase-changed", toPhase="matter-open")

    def test_tokens_survive_the_clock(operate):
        operate.advance("P30D")
        assert operate.api().get("/api/security/userInfo").status_code == 200
"""


def test_every_helper_works(pytester, solution):
    result = run_tests(pytester, solution, HELPERS)
    result.assert_outcomes(passed=9)


def test_failure_messages_show_what_happened_instead(pytester, solution):
    result = run_tests(
        pytester,
        solution,
        """
        MATTER = "3c000000-0000-4000-8000-000000000010"

        def test_wrong_state(operate):
            operate.move(MATTER, "matter-open")
            operate.assert_execution("open-in-pms", state="STOPPED")

        def test_wrong_pms_call(operate):
            operate.move(MATTER, "matter-open")
            operate.assert_pms_received("POST", "/api/matters", {"title": "Something else"})

        def test_missing_event(operate):
            operate.assert_event("sharedo-phase-changed", toPhase="matter-closed")

        def test_refused_move(operate):
            operate.move(MATTER, "matter-paid")

        def test_refused_create(operate):
            operate.create_work_item("spaceship", "x")
    """,
    )
    result.assert_outcomes(failed=5)
    text = result.stdout.str()
    assert "expected 1 execution(s) of 'open-in-pms' in STOPPED, found [('open-in-pms', 'WAITING')]" in text
    assert "#1 sharedo-phase-changed" in text and "main Information: opened MAT-00010" in text
    assert "step chase: WAITING" in text
    assert "expected the PMS to receive 1 × POST /api/matters with" in text and "it received 0" in text
    assert "the PMS received:" in text and "POST /api/matters {" in text
    assert "no sharedo-phase-changed event with {'toPhase': 'matter-closed'}" in text
    assert "moving 3c000000-0000-4000-8000-000000000010 to matter-paid was refused: 400" in text
    assert "creating spaceship was refused: 400" in text and "unknown work type" in text


def test_the_demo_is_the_default_and_a_marker_picks_a_solution(pytester, solution):
    pytester.makepyfile(
        test_user=textwrap.dedent(f"""
        import pytest

        def test_demo(operate):
            assert operate.emulator.solution.name == "Demo law firm"
            assert "open-in-pms" not in operate.emulator.smartplans.plans

        @pytest.mark.operate_solution({str(solution)!r})
        def test_marked(operate):
            assert "open-in-pms" in operate.emulator.smartplans.plans
    """)
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_safe_under_xdist(pytester, solution):
    result = run_tests(pytester, solution, HELPERS, "-n", "2")
    result.assert_outcomes(passed=9)
