"""The emulator's web pages in a real browser (Debian's chromium through Playwright) against the demo
served on a loopback port: a newcomer follows a matter from creation through its plan run to the PMS
call, retries an errored step, moves the clock so a timer fires; hostile text stays text, a form from
another site is refused, an unknown id is a 404 page. The HTML alone: tests/web/test_web_html.py."""

from __future__ import annotations

import re

import pytest

from tests.helpers import web_support
from tests.helpers.loopback import serving
from tests.helpers.web_support import TASK, XSS, sign_in_browser

web_solution_dir = web_support.web_solution_dir  # the fixtures: every test here runs on that solution
_use_web_solution = web_support._use_web_solution
WAIT_MS = 10_000  # the most any wait below gives the page (the events page polls every second)


def new_matter_from_the_form(harness_page, title: str) -> str:
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/workitems")
    form = page.locator("#new-work-item")
    form.locator("summary").click()
    form.locator("select[name=type]").select_option("matter-commercial")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=role0]").select_option("client")
    form.locator("select[name=ods0]").select_option(label="Northgate Logistics (organisation)")
    form.locator("select[name=role1]").select_option("fee-earner")
    form.locator("select[name=ods1]").select_option(label="Priya Shah (person)")
    form.get_by_role("button", name="Create").click()
    page.wait_for_selector("#web-flash")
    assert "created MAT-" in page.inner_text("#web-flash"), page.inner_text("#web-flash")
    return page.url.rsplit("/", 1)[1]


def test_following_a_matter_from_creation_through_the_plan_run_to_the_pms_call(operate, harness_page, operate_browser):
    watcher_context = operate_browser.new_context()
    watcher = watcher_context.new_page()
    try:
        watcher.goto(f"{harness_page.base_url}/events")
        watcher.wait_for_selector("#web-live:not([hidden])")
        page = sign_in_browser(harness_page, "priya.shah", "/workitems")
        item = new_matter_from_the_form(harness_page, "Acme v Widgets")
        assert page.inner_text("#work-item-title") == "Acme v Widgets"
        assert "Northgate Logistics" in page.inner_text("#participants")
        page.get_by_role("button", name="Open matter").click()
        page.wait_for_selector("#web-flash")
        assert page.inner_text("#web-flash") == "moved to Open"
        assert page.inner_text("#phase-name") == "Open"

        # the event arrives on the page that was already open, without a reload
        moved = operate.events("sharedo-phase-changed")[-1]["number"]
        row = watcher.wait_for_selector(f'#events tr[data-number="{moved}"]', timeout=WAIT_MS)
        assert "sharedo-phase-changed" in row.inner_text() and "Acme v Widgets" in row.inner_text()

        # the plan it set off, and its call to the PMS
        executions = page.locator("#executions")
        assert "matter-inception" in executions.inner_text() and "STOPPED" in executions.inner_text()
        executions.get_by_role("link", name="matter-inception").click()
        page.wait_for_selector("#timeline")
        call = page.locator('details.web-call[data-url="/api/proxy/demo-pms/_/api/matters"]')
        assert "→ 201 Created" in call.locator("summary").inner_text()
        call.locator("summary").click()
        reference = operate.attribute(item, "pmsReference")
        assert f'"pmsReference": "{reference}"' in call.inner_text()
        assert f"incepted in the PMS as {reference}" in page.inner_text("#timeline")
        assert f'"pmsReference": "{reference}"' in page.inner_text("#ctx")
        operate.assert_pms_received("POST", "/api/matters", {"operateId": item})

        # and the PMS page shows the proxied call and the matter in its books
        page.get_by_role("link", name="PMS", exact=True).click()
        assert "POST /api/matters" in page.inner_text("main") and "ee-app" in page.inner_text("main")
        assert harness_page.console_errors() == [] and harness_page.dialogs == []
    finally:
        watcher_context.close()


def test_retrying_an_errored_step_after_switching_a_pms_fault_on(operate, harness_page):
    page = sign_in_browser(harness_page, "hannah.whitfield", "/pms/demo-pms")
    form = page.locator("#add-fault")
    form.locator("select[name=method]").select_option("POST")
    form.locator("input[name=route]").fill("/api/matters")
    form.locator("input[name=status]").fill("503")
    form.locator("input[name=times]").fill("1")
    form.get_by_role("button", name="Switch on").click()
    page.wait_for_selector("#web-flash")
    assert "is on" in page.inner_text("#web-flash") and "/api/matters" in page.inner_text("#faults")

    item = new_matter_from_the_form(harness_page, "Brightwater supply dispute")
    page.get_by_role("button", name="Open matter").click()
    page.wait_for_selector("#web-flash")
    page.locator("#executions").get_by_role("link", name="matter-inception").click()
    page.wait_for_selector("#execution-error")
    assert "ERRORED" in page.inner_text("h1")
    assert "503 ServiceUnavailable" in page.inner_text("#execution-error")

    page.click("#error-source")  # the plan's source, at the line that threw
    line = re.search(r"#L(\d+)$", page.url)
    assert line and page.url.startswith(f"{harness_page.base_url}/plans/matter-inception#L")
    target = page.locator(f"#L{line.group(1)}")
    assert "throw new Error" in target.inner_text()
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"  # :target marks it
    page.go_back()

    page.get_by_role("button", name="Retry this step").click()
    page.wait_for_selector("#web-flash")
    assert "the execution is now STOPPED" in page.inner_text("#web-flash")
    assert "STOPPED" in page.inner_text("h1") and "→ 201 Created" in page.inner_text("#timeline")
    assert operate.attribute(item, "pmsReference").startswith("PMS-")


def test_advancing_the_clock_fires_a_waiting_timer(operate, harness_page):
    page = sign_in_browser(harness_page, "hannah.whitfield", f"/workitems/{TASK}")
    page.locator('button[data-to="task-in-progress"]').click()
    page.wait_for_selector("#web-flash")
    page.locator("#executions").get_by_role("link", name="chaser").click()
    assert "WAITING" in page.inner_text("h1")
    assert "A timer: fires at 2026-01-05T09:20:00.000Z" in page.inner_text("#timeline")
    page.get_by_role("link", name="move it").click()
    assert "2026-01-05T09:20:00.000Z" in page.inner_text("#due")
    page.locator('button[data-advance="PT20M"]').click()
    page.wait_for_selector("#web-flash")
    assert page.inner_text("#clock-now") == "2026-01-05T09:20:00.000Z"
    page.locator("#ran").get_by_role("link", name="its execution").click()
    assert "STOPPED" in page.inner_text("h1")
    assert "chased at 2026-01-05T09:20:00" in page.inner_text("#timeline")


def test_a_hostile_title_is_text_on_every_page_and_no_script_runs(operate, harness_page):
    participants = {"client": web_support.CLIENT_ORG, "fee-earner": web_support.FEE_EARNER}
    item = operate.create_work_item("matter-commercial", XSS, participants=participants)["id"]
    operate.api("priya.shah").post(f"/api/v1/public/workItem/{item}/comments", {"comment": XSS})
    operate.move(item, "matter-open")
    (execution,) = operate.executions(plan="matter-inception", sharedo_id=item)
    page = harness_page.page
    for path in ("/", "/workitems", f"/workitems/{item}", "/events", "/executions", f"/executions/{execution['id']}"):
        page.goto(harness_page.base_url + path)
        assert page.locator("img[src=x]").count() == 0, path
        if path != "/":
            assert XSS in page.inner_text("main"), path
    page.goto(f"{harness_page.base_url}/events")
    operate.move(item, "matter-closed")  # arrives through the live feed, escaped the same way
    page.wait_for_selector(f'#events tr[data-number="{operate.events()[-1]["number"]}"]', timeout=WAIT_MS)
    assert page.locator("img[src=x]").count() == 0
    assert harness_page.dialogs == [] and harness_page.page_errors == []


def test_a_form_posted_from_another_site_is_refused(operate, harness_page):
    sign_in_browser(harness_page, "priya.shah", f"/workitems/{TASK}")
    target = f"{harness_page.base_url}/workitems/{TASK}/phase"
    evil = (
        f'<form method="post" action="{target}"><input name="to" value="task-in-progress">'
        f'<input name="csrf" value="guessed"></form><script>document.forms[0].submit()</script>'
    ).encode()

    def site(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return [evil]

    with serving(site) as other:
        page = harness_page.page
        with page.expect_navigation(url=target):
            page.goto(other)
        assert "403" in page.inner_text("main") and "another site" in page.inner_text("main")
    assert operate.work_item(TASK)["workItem"]["phaseSystemName"] == "task-not-started"


def test_an_unknown_id_is_a_404_page(harness_page):
    page = harness_page.page
    response = page.goto(f"{harness_page.base_url}/executions/no-such-run")
    assert response.status == 404
    assert "404" in page.inner_text("main") and "every run is listed at /executions" in page.inner_text("main")
    assert page.locator("nav.op-nav").get_by_role("link", name="Executions").count() == 1  # the frame is there


def test_the_portal_page_opens_inside_the_work_item_page_only_when_asked(operate, harness_page):
    page = harness_page.page
    item = "3c000000-0000-4000-8000-000000000002"  # the demo's open matter
    calls = []
    page.on("request", lambda r: calls.append(r.url) if "/api/proxy/" in r.url else None)
    page.goto(f"{harness_page.base_url}/workitems/{item}")
    page.wait_for_timeout(500)
    assert calls == []  # looking at the work item calls no PMS
    page.click("#portal summary")
    frame = page.frame_locator("#portal iframe")
    frame.locator("html[data-operate-bound]").wait_for(state="attached", timeout=WAIT_MS)
    assert any("/api/proxy/demo-pms/" in url for url in calls)


@pytest.mark.parametrize("width", [1024, 1400])
def test_the_pms_page_never_scrolls_sideways_however_wide_its_books(operate, harness_page, width):
    """The demo PMS's books have a column per field of its records (more since matters are opened in the PMS):
    a wide book scrolls in its own box, the page does not."""
    page = harness_page.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{harness_page.base_url}/pms/demo-pms")
    assert page.locator("table.web-book").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
