"""The emulator's web pages as HTML, through Flask's test client: what each page shows, that actions
are taken as the signed-in user through the real API (permissions apply), CSRF refusals, 404 pages and
escaping. The same pages in a real browser: tests/web/test_web_pages.py."""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.conftest import new_matter
from tests.helpers import web_support
from tests.helpers.paths import FIXTURES
from tests.helpers.web_support import CLIENT_ORG, FEE_EARNER, TASK, XSS, csrf_of, hidden, sign_in

web_solution_dir = web_support.web_solution_dir  # the fixtures: every test here runs on that solution
_use_web_solution = web_support._use_web_solution

MATTER_BODY = {
    "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "Acme v Widgets"},
    "participants": [
        {"roleSystemName": "client", "odsId": CLIENT_ORG},
        {"roleSystemName": "fee-earner", "odsId": FEE_EARNER},
    ],
}


def new_matter_id(operate, title: str = "Acme v Widgets") -> str:
    """A commercial matter with its client and fee earner, created by Priya: its id."""
    body = {**MATTER_BODY, "workItem": {**MATTER_BODY["workItem"], "title": title}}
    return new_matter(operate.api("priya.shah"), **body)["id"]


def opened_matter(operate, title: str = "Acme v Widgets") -> tuple[str, dict]:
    item = new_matter_id(operate, title)
    operate.move(item, "matter-open")
    (execution,) = operate.executions(plan="matter-inception", sharedo_id=item)
    return item, execution


def text_of(page: str) -> str:
    """The page's text as a reader sees it (tags out, entities decoded, runs of white space as one)."""
    bare = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S))
    return re.sub(r"\s+", " ", html.unescape(bare))


@pytest.fixture
def browser(operate):
    return operate.app.test_client()


def post(client, path: str, page: str, **form: str):
    """What a form on `page` sends: its hidden CSRF field (the one the page's meta tag names too)."""
    token = hidden(page, "csrf")
    assert token == csrf_of(page)
    return client.post(path, data={"csrf": token, **form})


# -- home ----------------------------------------------------------------------------------------------
def test_home_shows_what_is_loaded_and_links_every_page(operate, browser):
    page = browser.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = text_of(page.text)
    assert "Demo law firm" in text
    for shown in ("/matter/matter-commercial", "matter-inception", "chaser", "demo-pms", "OperateFinance.WipWidget"):
        assert shown in text
    for path in ("/workitems", "/events", "/executions", "/plans", "/clock", "/pms", "/widgets"):
        assert f'href="{path}"' in page.text
    assert 'href="/api/_emulator/openapi.json"' in page.text
    assert "2026-01-05T09:00:00.000Z (virtual)" in text


def test_home_shows_load_problems_instead_of_hiding_them(operate, browser, web_solution_dir):
    broken = web_solution_dir / "_IDE" / "Acme" / "Broken" / "Broken.widget.json"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("{ not json", "utf-8")
    try:
        text = text_of(browser.get("/").text)
    finally:
        broken.unlink()
    assert "Load problems (1)" in text and "Broken.widget.json" in text


# -- work items -----------------------------------------------------------------------------------------
def test_work_items_are_searchable_and_paged(operate, browser):
    for i in range(60):
        operate.create_work_item("task", f"Paged task {i:02d}")
    first = text_of(browser.get("/workitems?q=Paged+task").text)
    assert "Paged task 59" in first and "Paged task 10" in first and "Paged task 09" not in first
    second = browser.get("/workitems?q=Paged+task&page=2")
    assert "Paged task 09" in text_of(second.text) and "Paged task 10" not in text_of(second.text)
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "Estate of Arthur Ellison" in text_of(browser.get("/workitems?q=MAT-00001").text)
    assert "Paged task" not in text_of(browser.get("/workitems?type=invoice").text)
    assert browser.get("/workitems?page=0").status_code == 400
    assert "no work type 'nope'" in text_of(browser.get("/workitems?type=nope").text)


def test_a_work_item_page_shows_everything_about_it(operate, browser):
    item, execution = opened_matter(operate)
    operate.api("priya.shah").post(f"/api/v1/public/workItem/{item}/comments", {"comment": "Called the client"})
    page = browser.get(f"/workitems/{item}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Acme v Widgets" in text and "Commercial matter" in text and "Phase: Open" in text
    assert "Close matter" in text  # the legal transition out of Open, as a button
    assert "pmsReference" in text and operate.attribute(item, "pmsReference") in text
    assert "Northgate Logistics" in text and "Fee earner" in text
    assert "Called the client" in text and "Moved to Open" in text  # comments, chronology
    assert f'href="/executions/{execution["id"]}"' in page.text
    assert f'href="/portal/{item}"' in page.text


def test_an_unknown_id_is_a_404_page_not_a_500(browser):
    for path in (
        "/workitems/3c000000-0000-4000-8000-00000000ffff",
        "/workitems/not-an-id",
        "/executions/nope",
        "/plans/nope",
        "/pms/nope",
    ):
        page = browser.get(path)
        assert page.status_code == 404 and page.mimetype == "text/html", path
        assert "<strong>404</strong>" in page.text


# -- acting as the signed-in user ---------------------------------------------------------------------
def test_a_phase_button_moves_the_work_item_as_the_signed_in_user(operate, browser):
    item = new_matter_id(operate)
    page = sign_in(browser, "priya.shah", f"/workitems/{item}")
    assert "Signed in to the emulator as priya.shah" in page.text
    moved = post(browser, f"/workitems/{item}/phase", page.text, to="matter-open")
    assert moved.status_code == 303 and moved.location == f"/workitems/{item}"
    assert operate.work_item(item)["workItem"]["phaseSystemName"] == "matter-open"
    after = browser.get(moved.location)
    assert "moved to Open" in text_of(after.text) and "Phase: Open" in text_of(after.text)
    assert "moved to Open" not in text_of(browser.get(moved.location).text)  # the note shows once


def test_permissions_apply_a_read_only_user_is_refused_by_the_api(operate, browser):
    item = new_matter_id(operate)
    page = sign_in(browser, "tom.becker", f"/workitems/{item}")
    refused = post(browser, f"/workitems/{item}/phase", page.text, to="matter-open")
    assert refused.status_code == 303
    assert operate.work_item(item)["workItem"]["phaseSystemName"] == "matter-enquiry"
    note = text_of(browser.get(refused.location).text)
    assert "403" in note and "core.sharedo.update" in note


def test_a_form_without_the_csrf_token_or_from_another_site_is_refused(operate, browser):
    item = new_matter_id(operate)
    page = sign_in(browser, "priya.shah", f"/workitems/{item}")
    missing = browser.post(f"/workitems/{item}/phase", data={"to": "matter-open"})
    assert missing.status_code == 403 and "CSRF token is missing" in missing.text
    wrong = browser.post(f"/workitems/{item}/phase", data={"to": "matter-open", "csrf": "x" * 43})
    assert wrong.status_code == 403
    cross = browser.post(
        f"/workitems/{item}/phase",
        data={"to": "matter-open", "csrf": csrf_of(page.text)},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403 and "another site" in cross.text
    assert operate.work_item(item)["workItem"]["phaseSystemName"] == "matter-enquiry"
    assert not operate.events("sharedo-phase-changed")


def test_an_action_needs_a_signed_in_user(operate, browser):
    item = new_matter_id(operate)
    page = browser.get(f"/workitems/{item}")
    assert "Sign in</a> to act" in page.text
    refused = post(browser, f"/workitems/{item}/phase", page.text, to="matter-open", next=f"/workitems/{item}")
    assert refused.status_code == 303
    assert "sign in first" in text_of(browser.get(refused.location).text)
    assert operate.work_item(item)["workItem"]["phaseSystemName"] == "matter-enquiry"


def test_creating_a_matter_with_a_client_from_the_form(operate, browser):
    page = sign_in(browser, "priya.shah", "/workitems")
    form = {"type": "matter-commercial", "title": "From the form", "role0": "client", "ods0": CLIENT_ORG}
    form |= {"role1": "fee-earner", "ods1": FEE_EARNER}
    created = post(browser, "/workitems", page.text, **form)
    assert created.status_code == 303 and created.location.startswith("/workitems/")
    item = created.location.rsplit("/", 1)[1]
    participants = operate.api().get(f"/api/v2/public/workItem/{item}/participants").json
    assert {(p["participantRoleType"], p["odsName"]) for p in participants} == {
        ("client", "Northgate Logistics"),
        ("fee-earner", "Priya Shah"),
    }
    assert "From the form" in text_of(browser.get(created.location).text)
    bad = post(browser, "/workitems", page.text, type="matter", title="", next="/workitems")
    note = text_of(browser.get(bad.location).text)
    assert "400" in note and "title" in note and "abstract" in note


def test_a_comment_from_the_form(operate, browser):
    item = new_matter_id(operate)
    page = sign_in(browser, "daniel.okafor", f"/workitems/{item}")
    post(browser, f"/workitems/{item}/comments", page.text, comment="Engagement letter sent")
    (comment,) = operate.api().get(f"/api/v1/public/workItem/{item}/comments").json["rows"]
    assert comment["comment"] == "Engagement letter sent" and comment["userFullName"] == "Daniel Okafor"


# -- events ----------------------------------------------------------------------------------------------
def test_events_newest_first_filtered_and_fed_to_the_page(operate, browser):
    item = new_matter_id(operate)
    operate.move(item, "matter-open")
    page = browser.get("/events")
    numbers = [int(n) for n in re.findall(r'<tr data-number="(\d+)"', page.text)]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == operate.events()[-1]["number"]
    only = browser.get("/events?type=sharedo-phase-changed").text
    assert set(re.findall(r'href="/events\?type=([a-z-]+)"', only)) == {"sharedo-phase-changed"}
    mine = browser.get(f"/events?workItem={item}").text
    assert len(re.findall(r"<tr data-number=", mine)) == len(operate.emulator.stream.after(0, sharedo_id=item))
    last = numbers[0]
    assert browser.get(f"/events/feed?after={last}").text.strip() == ""
    operate.move(item, "matter-closed")
    fed = browser.get(f"/events/feed?after={last}")
    assert fed.headers["X-Last-Event"] == str(last + 1) and f'data-number="{last + 1}"' in fed.text
    assert browser.get("/events?type=nope").status_code == 400
    assert browser.get("/events/feed?after=-1").status_code == 400


# -- executions ------------------------------------------------------------------------------------------
def test_the_execution_timeline_shows_the_pms_call_and_ctx(operate, browser):
    item, execution = opened_matter(operate)
    listed = text_of(browser.get("/executions").text)
    assert "matter-inception" in listed and "STOPPED" in listed and "Acme v Widgets" in listed
    page = browser.get(f"/executions/{execution['id']}")
    text = text_of(page.text)
    assert "POST /api/proxy/demo-pms/_/api/matters → 201 Created" in text
    reference = operate.attribute(item, "pmsReference")
    assert f'"pmsReference": "{reference}"' in text  # bodies pretty-printed
    assert f"incepted in the PMS as {reference}" in text  # the step's log line
    assert re.search(r'<pre class="web-json" id="ctx">\{\n  &#34;workItemId&#34;', page.text)


def test_an_errored_step_links_to_its_source_line_and_is_retried_from_the_page(operate, browser):
    operate.pms.add_fault("/api/matters", "POST", status=503, times=1)
    item, execution = opened_matter(operate)
    assert execution["state"] == "ERRORED"
    page = sign_in(browser, "priya.shah", f"/executions/{execution['id']}")
    assert "503 ServiceUnavailable" in text_of(page.text)
    link = re.search(r'href="/plans/matter-inception#L(\d+)"', page.text)
    assert link, "no link to the plan's source line"
    source = browser.get("/plans/matter-inception").text
    line = re.search(rf'<tr id="L{link.group(1)}">.*?<pre>(.*?)</pre>', source, flags=re.S).group(1)
    assert "throw new Error(failure(&#34;Incepting" in line
    step = execution["steps"][0]["id"]
    retried = post(browser, f"/executions/{execution['id']}/steps/{step}/retry", page.text)
    assert retried.status_code == 303
    assert operate.executions(plan="matter-inception", sharedo_id=item)[0]["state"] == "STOPPED"
    assert "the execution is now STOPPED" in text_of(browser.get(retried.location).text)


def test_a_waiting_timer_is_shown_and_the_execution_can_be_cancelled(operate, browser):
    operate.move(TASK, "task-in-progress")
    (execution,) = operate.executions(plan="chaser")
    page = sign_in(browser, "priya.shah", f"/executions/{execution['id']}")
    assert "A timer: fires at 2026-01-05T09:20:00.000Z" in text_of(page.text)
    cancelled = post(browser, f"/executions/{execution['id']}/cancel", page.text)
    assert cancelled.status_code == 303
    assert operate.executions(plan="chaser")[0]["state"] == "STOPPED"
    assert not [j for j in operate.emulator.scheduler.pending() if j["kind"] != "cron"]


def test_secrets_in_host_calls_and_ctx_are_redacted(operate, browser):
    operate.create_work_item("task", "Leaky task")
    (execution,) = operate.executions(plan="leaky")
    page = browser.get(f"/executions/{execution['id']}").text
    for secret in ("s3cret-api-key", "hunter2-pass", "ctx-secret-token"):
        assert secret not in page
    assert page.count("[redacted]") >= 3 and "&#34;apiKey&#34;: &#34;[redacted]&#34;" in page


# -- plans -----------------------------------------------------------------------------------------------
def test_plans_and_triggers_with_their_files_and_source(browser, web_solution_dir):
    listed = text_of(browser.get("/plans").text)
    assert "chaser" in listed and "sharedo-phase-changed on task → task-in-progress" in listed
    page = browser.get("/plans/chaser").text
    assert str(web_solution_dir / "plans" / "chaser.js") in page
    assert "trigger.SubProcess(&#34;chase&#34;).In(20).Minutes" in page
    assert "trigger-0.json" in page  # the trigger's file and document


def test_a_visual_workflow_shows_its_steps_and_outlets(tmp_path):

    from emulator.app import create_app
    from emulator.settings import Settings

    solution = FIXTURES / "solutions" / "visual"
    app = create_app(Settings(data_dir=tmp_path, solution=solution, clock="virtual"))
    try:
        page = app.test_client().get("/plans/demo01-matter-closure").text
    finally:
        app.extensions["operate"].close()
    assert '<li id="wf-step-checkPmsLink">' in page
    assert 'execute → <a href="#wf-step-noPmsLink">noPmsLink</a>' in page
    assert "Is null or empty - no PMS link <code>isNull</code>" in page


# -- clock -----------------------------------------------------------------------------------------------
def test_moving_the_clock_needs_emulator_control_and_runs_the_timers(operate, browser):
    operate.move(TASK, "task-in-progress")
    page = sign_in(browser, "priya.shah", "/clock")
    assert "2026-01-05T09:20:00.000Z" in text_of(page.text)  # the chaser's timer, due next
    refused = post(browser, "/clock", page.text, advance="PT20M")
    assert "403" in text_of(browser.get(refused.location).text) and operate.now.minute == 0
    browser.get("/_harness/signout")
    page = sign_in(browser, "hannah.whitfield", "/clock")
    post(browser, "/clock", page.text, advance="PT2M")
    assert operate.now.minute == 2 and operate.executions(plan="chaser")[0]["state"] == "WAITING"
    moved = post(browser, "/clock", page.text, advance="PT20M")
    assert operate.executions(plan="chaser")[0]["state"] == "STOPPED"
    after = text_of(browser.get(moved.location).text)
    assert "advanced by PT20M; now 2026-01-05T09:22:00.000Z" in after
    assert re.search(r"2026-01-05T09:20:00.000Z\s+plan step timer · its execution\s+ok", after)
    post(browser, "/clock", page.text, set="2026-02-01T08:00:00")
    assert operate.now.isoformat() == "2026-02-01T08:00:00+00:00"


def test_the_clock_jumps_to_the_next_nightly_job_when_one_is_registered(operate, browser):
    """The demo's Clio integration registers the nightly sync (21:15 UTC): the page offers to jump there."""
    page = sign_in(browser, "hannah.whitfield", "/clock")
    assert "To the next nightly sync (2026-01-05T21:15:00.000Z)" in text_of(page.text)
    post(browser, "/clock", page.text, to="nightly")
    assert operate.now.isoformat() == "2026-01-05T21:15:00+00:00"
    ran = [j for j in operate.emulator.scheduler.ran if j["id"] == "clio-nightly-sync"]
    assert len(ran) == 1 and ran[0]["ok"]


# -- PMS -------------------------------------------------------------------------------------------------
def test_the_pms_pages_show_proxied_calls_books_and_fault_switches(operate, browser):
    item, _ = opened_matter(operate)
    reference = operate.attribute(item, "pmsReference")
    listed = text_of(browser.get("/pms").text)
    assert "POST /api/matters" in listed and "201" in listed and "ee-app" in listed
    page = browser.get("/pms/demo-pms").text
    assert reference in page and f'href="/workitems/{item}"' in page  # the new matter in the PMS's books
    assert "demo-pms-key" not in page  # the service's credential stays out
    page = sign_in(browser, "priya.shah", "/pms/demo-pms")
    refused = post(browser, "/pms/demo-pms/faults", page.text, route="/api/matters", method="POST", status="503")
    assert "403" in text_of(browser.get(refused.location).text) and not operate.pms.faults()
    browser.get("/_harness/signout")
    page = sign_in(browser, "hannah.whitfield", "/pms/demo-pms")
    post(browser, "/pms/demo-pms/faults", page.text, route="/api/matters", method="POST", status="503", times="2")
    (fault,) = operate.pms.faults()
    assert (fault.route, fault.status, fault.remaining) == ("/api/matters", 503, 2)
    bad = post(browser, "/pms/demo-pms/faults", page.text, route="no-slash", status="503")
    assert "400" in text_of(browser.get(bad.location).text)
    post(browser, "/pms/demo-pms/faults/clear", page.text)
    assert not operate.pms.faults()


# -- escaping --------------------------------------------------------------------------------------------
def test_a_hostile_title_is_text_on_every_page(operate, browser):
    item, execution = opened_matter(operate, XSS)
    operate.api("priya.shah").post(f"/api/v1/public/workItem/{item}/comments", {"comment": XSS})
    pages = [
        "/",
        "/workitems",
        f"/workitems?q={XSS}",
        f"/workitems/{item}",
        "/events",
        f"/events?workItem={item}",
        "/events/feed?after=0",
        "/executions",
        f"/executions/{execution['id']}",
        "/pms",
        "/pms/demo-pms",
        "/clock",
    ]
    for path in pages:
        page = browser.get(path)
        assert page.status_code == 200, path
        assert "<img src=x" not in page.text, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in browser.get(f"/workitems/{item}").text


# -- found by a hostile review -------------------------------------------------------------------------------
def test_secrets_are_withheld_in_every_shape_they_travel_in():
    from emulator.web.redact import REDACTED, display_url, redact

    nested: object = {"password": "DEEP"}
    for _ in range(70):  # deeper than the redaction walks: withheld, not shown as it is
        nested = [nested]
    shown = redact(
        {
            "url": "/api/proxy/demo-pms/_/api/matters?api_key=QUERYSECRET&access_token=QTOKEN&page=2",
            "body": '{"password": "STRINGBODYSECRET", "title": "kept"}',
            "headers": [["Authorization", "Bearer PAIRSECRET"], {"name": "X-Api-Key", "value": "NAMEDSECRET"}],
            "credentials": {"user": "u"},
            "pwd": "P",
            "privateKey": "K",
            "deep": nested,
        }
    )
    text = str(shown)
    for secret in ("QUERYSECRET", "QTOKEN", "STRINGBODYSECRET", "PAIRSECRET", "NAMEDSECRET", "DEEP"):
        assert secret not in text, secret
    assert "page=2" in shown["url"] and "kept" in shown["body"] and shown["pwd"] == REDACTED
    assert display_url("http://svc:Pa55w0rd@127.0.0.1:9999/api") == f"http://{REDACTED}@127.0.0.1:9999/api"


def test_the_outbox_and_clio_results_need_a_signed_in_user(operate, browser):
    with operate.emulator.store.transaction() as tx:
        message = operate.emulator.outbox.send(
            tx, kind="email", sender="a@b.example", recipients=["c@d.example"], subject="s", body="b",
            attachments=[("Zürich 報告.csv", "text/csv", "a,b\r\n")],
        )  # fmt: skip
    attachment = operate.emulator.outbox.get(message).attachments[0].id
    assert browser.get("/outbox").status_code == 401
    assert browser.get(f"/outbox/{message}/attachments/{attachment}").status_code == 401
    assert browser.get("/settings/integrations/clio/runs/x.csv").status_code == 401
    sign_in(browser, "tom.becker", "/outbox")  # signed in, but without core.integrations.sync
    assert browser.get("/outbox").status_code == 200
    assert browser.get("/settings/integrations/clio/runs/x").status_code == 403
    # a message is for its recipients and administrators (docs/security.md): not for tom
    assert browser.get(f"/outbox/{message}/attachments/{attachment}").status_code == 403
    sign_in(browser, "hannah.whitfield", "/outbox")  # emulator.control
    got = browser.get(f"/outbox/{message}/attachments/{attachment}")
    assert got.status_code == 200 and got.get_data(as_text=True) == "a,b\r\n"
    assert "filename*=UTF-8''Z%C3%BCrich" in got.headers["Content-Disposition"]
    assert got.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("page", ["%C2%B2", "%E2%91%A0", "9" * 5000, "-1"])
def test_a_page_number_that_is_no_number_is_a_400_page(browser, page):
    for path in ("/workitems", "/events", "/executions", "/pms/demo-pms"):
        assert browser.get(f"{path}?page={page}").status_code == 400, path
    assert browser.get(f"/events/feed?after={page}").status_code == 400


def test_a_form_from_a_page_with_no_origin_is_refused(operate, browser):
    page = sign_in(browser, "hannah.whitfield", "/clock")
    before = operate.now
    token = hidden(page.text, "csrf")
    refused = browser.post("/clock", data={"csrf": token, "advance": "P1D"}, headers={"Origin": "null"})
    assert refused.status_code == 403 and operate.now == before
    refused = browser.post("/clock", data={"csrf": token, "advance": "P1D"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and operate.now == before


def test_a_step_that_logged_without_end_shows_its_first_lines_and_says_how_many_more(operate, browser):
    _, execution = opened_matter(operate)
    step = execution["steps"][0]["id"]
    with operate.emulator.store.transaction() as tx:
        start = tx.execute("SELECT COALESCE(MAX(seq), 0) FROM step_logs WHERE step_id=?", (step,)).fetchone()[0]
        tx.executemany(
            "INSERT INTO step_logs VALUES (?,?,?,?,?)",
            [(step, start + i + 1, "2026-01-05T09:00:00.000Z", "Information", f"line {i}") for i in range(3000)],
        )
    page = browser.get(f"/executions/{execution['id']}").get_data(as_text=True)
    assert page.count('<li class="web-log-') == 500
    assert f"{3000 + start - 500} more log lines are not shown here" in text_of(page)


def test_a_cookie_nobody_here_wrote_is_no_sign_in_and_no_500(browser):
    browser.set_cookie("operate.harness", "[" * 3000)
    browser.set_cookie("operate.web.flash", "[" * 3000)
    assert browser.get("/").status_code == 200


def test_a_work_items_documents_download_from_its_page(operate, browser):
    item = new_matter_id(operate)
    token = operate.emulator.identity.issue("operate-portal", "priya.shah")
    uploaded = operate.app.test_client().post(
        f"/api/v1/public/workItem/{item}/relatedDocuments",
        headers={"Authorization": f"Bearer {token}"},
        data={"file": (io.BytesIO(b"the engagement letter"), "letter.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code in (200, 201)
    page = browser.get(f"/workitems/{item}").get_data(as_text=True)
    link = html.unescape(re.search(r'class="web-document" href="([^"]+)"', page).group(1))
    got = browser.get(link.replace("http://localhost", ""))
    assert got.status_code == 200 and got.data == b"the engagement letter"
    assert browser.get("/_documents/x?expires=%C2%B2&signature=a").status_code == 400


def test_moving_a_virtual_clock_days_ahead_does_not_sign_the_user_out(operate, browser):
    page = sign_in(browser, "hannah.whitfield", "/clock")
    for _ in range(3):  # +1 day three times: both tokens long expired on the emulator's clock
        post(browser, "/clock", page.text, advance="P1D")
        page = browser.get("/clock")
        assert "Signed in to the emulator as hannah.whitfield" in text_of(page.text)
    assert operate.now.isoformat().startswith("2026-01-08")
