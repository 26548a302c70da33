"""The plan page marks each line with its coverage, in Chromium: lines that ran, lines with a branch arm never
taken, lines that never ran, from the solution's last coverage run."""

from __future__ import annotations

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.coverage.data import RUN_FILE, RUN_FOLDER
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import START, Api, client_token
from tests.helpers.coverage_plans import MATTER, PLAN


@pytest.fixture(scope="module")
def covered_solution(tmp_path_factory):
    """A solution whose last coverage run (made here for real, with coverage on) opened one matter."""
    root = solution_from_demo(
        tmp_path_factory.mktemp("cov") / "solution", {"check": PLAN}, [trigger("check", phases=["matter-open"])]
    )
    app = create_app(
        Settings(data_dir=root.parent / "data", solution=root, clock="virtual", clock_start=START, coverage=True)
    )
    try:
        api = Api(app, client_token(app))
        assert (
            api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
        )
        app.extensions["operate"].smartplans.covered().write(root / RUN_FOLDER / RUN_FILE)
    finally:
        app.extensions["operate"].close()
    return root


@pytest.fixture(autouse=True)
def _use_it(request, covered_solution):
    request.node.add_marker(pytest.mark.operate_solution(str(covered_solution)))


def test_the_plan_page_marks_missed_lines_and_branches(operate, harness_page):
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/plans/check")
    summary = page.locator("#coverage-summary").inner_text()
    assert "71.4% of lines" in summary and "50.0% of branches" in summary and "last coverage run" in summary
    row = page.locator("#L7")
    assert row.get_attribute("class") == "web-cov-miss" and row.locator(".web-hits").inner_text() == "0×"
    partial = page.locator("#L4")
    assert partial.get_attribute("class") == "web-cov-partial"
    assert partial.locator(".web-hits").inner_text() == "1× · 1/2 missed"
    assert partial.locator(".web-hits").get_attribute("title") == "1 of 2 branch arms never taken"
    assert page.locator("#L5").get_attribute("class") == "web-cov-hit"
    assert page.locator("#L1").get_attribute("class") is None  # a comment: no code, no mark
    assert harness_page.console_errors() == []
