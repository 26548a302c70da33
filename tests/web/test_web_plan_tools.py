"""The plan tools on an execution's page, in Chromium as an implementor uses them: save the run as a test, rerun a
step with an edited ctx and read both runs side by side, step through a step's host calls."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from smartplans.testing import solution_from_demo, trigger
from tests.helpers.recorded_plans import INCEPT, MATTER, OTHER_MATTER
from tests.helpers.web_support import sign_in_browser


@pytest.fixture(scope="module")
def incept_solution(tmp_path_factory):
    return solution_from_demo(
        tmp_path_factory.mktemp("tools") / "solution", {"incept": INCEPT}, [trigger("incept", phases=["matter-open"])]
    )


@pytest.fixture(autouse=True)
def _use_it(request, incept_solution):
    request.node.add_marker(pytest.mark.operate_solution(str(incept_solution)))


def opened(operate, harness_page):
    operate.move(MATTER, "matter-open")
    execution = operate.assert_execution("incept", state="WAITING", sharedo_id=MATTER)
    page = sign_in_browser(harness_page, "hannah.whitfield", f"/executions/{execution['id']}")
    return page, execution


def test_save_as_test_writes_the_replay_scenario_into_the_solution(operate, harness_page, incept_solution):
    page, execution = opened(operate, harness_page)
    page.click("#save-as-test")
    page.wait_for_load_state()
    path = f"tests/recorded/incept-{execution['id'][:8]}.scenario.yaml"
    assert f"saved as {path} in the solution" in page.inner_text("body")
    doc = yaml.safe_load((incept_solution / path).read_text())
    assert doc["replay"]["execution"] == execution["id"] and doc["replay"]["steps"][0]["step"] == "main"
    (incept_solution / path).unlink()  # the solution is shared by the module's tests
    assert harness_page.console_errors() == []


def test_a_step_rerun_with_an_edited_ctx_shows_both_runs_side_by_side(operate, harness_page):
    page, execution = opened(operate, harness_page)
    rerun = page.locator('details[data-rerun="main"]')
    rerun.locator("summary").click()
    rerun.locator('textarea[name="ctx"]').fill(json.dumps({"workItemId": OTHER_MATTER}))
    rerun.get_by_role("button", name="Rerun main").click()
    page.wait_for_url(re.compile(r"/executions/(?!" + execution["id"] + ")"))
    compared = page.locator("#rerun-comparison")
    assert f"execution {execution['id'][:8]}" in compared.inner_text()
    original = compared.locator('ol.web-compare-calls[data-side="1"]').inner_text()
    again = compared.locator('ol.web-compare-calls[data-side="2"]').inner_text()
    assert f"GET /api/v1/public/workItem/{MATTER}" in original and OTHER_MATTER not in original
    assert f"GET /api/v1/public/workItem/{OTHER_MATTER}" in again and f'"operateId": "{OTHER_MATTER}"' in again
    assert json.loads(compared.locator('pre[data-side="2"][data-what="ctxIn"]').inner_text()) == {
        "workItemId": OTHER_MATTER
    }
    assert len(operate.pms_requests("POST", "/api/matters")) == 2  # the rerun was a real run
    assert harness_page.console_errors() == []


def test_a_rerun_with_ctx_that_is_not_json_is_refused_on_the_page(operate, harness_page):
    page, execution = opened(operate, harness_page)
    rerun = page.locator('details[data-rerun="main"]')
    rerun.locator("summary").click()
    rerun.locator('textarea[name="ctx"]').fill("{not json")
    rerun.get_by_role("button", name="Rerun main").click()
    page.wait_for_load_state()
    assert "ctx is not JSON" in page.inner_text("body")
    assert len(operate.executions(plan="incept")) == 1


def test_stepping_through_a_step_shows_the_ctx_after_each_host_call(operate, harness_page):
    page, _ = opened(operate, harness_page)
    page.click('a[data-step-through="main"]')
    page.wait_for_selector("#step-through")
    after_get = json.loads(page.locator('pre[data-ctx="1"]').inner_text())
    after_post = json.loads(page.locator('pre[data-ctx="2"]').inner_text())
    assert after_get == {"workItemId": MATTER, "title": "Pritchard - wills and trust review"}
    assert after_post["pmsReference"].startswith("PMS-26")
    assert page.locator("#plan-changed").count() == 0
    assert harness_page.console_errors() == []
