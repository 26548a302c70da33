"""The built-in finance widgets in a real browser (Debian's chromium through Playwright), in every
scenario, checking what a fee earner sees: the totals, the buckets, the error text, and a clean console."""

from __future__ import annotations

import pytest

from tests.helpers.paths import ROOT

WIP = "OperateFinance.WipWidget"
AGED = "OperateFinance.AgedDebtWidget"
MATTER = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, PMS-260101, client Margaret Ellison
CLIENT = "1a000000-0000-4000-8000-000000000005"


def money(amount: float) -> str:
    return f"£{amount:,.2f}"


def test_wip_ok_shows_the_pms_totals_and_fee_earners(operate, widget_page):
    page = widget_page(WIP, scenario="ok")
    wip = operate.pms.wip("PMS-260101")
    text = page.text()
    assert wip["total"] > 0
    assert f"Total WIP\n{money(wip['total'])}" in text
    assert money(wip["unbilledTime"]) in text and money(wip["unbilledDisbursements"]) in text
    rows = page.page.locator(".of-fee-earners tbody tr")
    assert rows.count() == len(wip["feeEarners"])
    for earner in wip["feeEarners"]:
        row = rows.filter(has_text=earner["name"])
        assert money(earner["total"]) in row.inner_text()
    assert "PMS-260101" in text and "Estate of Arthur Ellison" in text
    assert page.widget().locator(".op-chrome-title").inner_text() == "Work in progress (PMS)"
    page.assert_no_console_errors()


def test_wip_reads_the_reference_through_find_by_query_and_calls_only_the_proxy(operate, widget_page):
    page = widget_page(WIP, scenario="ok")
    paths = [u.split("127.0.0.1", 1)[1].split("/", 1)[1] for u in page.requests if "/api/" in u]
    assert "api/v1/public/workItem/findByQuery" in paths
    pms_calls = [p for p in paths if p.startswith("api/") and "findByQuery" not in p]
    assert pms_calls and all(p.startswith("api/proxy/demo-pms/_/") for p in pms_calls)
    assert operate.pms.requests("GET", "/api/matters/PMS-260101/wip")
    assert page.offsite_requests() == []  # no CDN: the page works offline


def test_aged_debt_ok_shows_buckets_total_and_oldest_and_lists_a_bucket(operate, widget_page):
    page = widget_page(AGED, scenario="ok")
    debt = operate.pms.aged_debt_for_client(CLIENT, None, True)
    text = page.text()
    assert f"Total outstanding\n{money(debt['total'])}" in text
    for bucket in debt["buckets"]:
        row = page.page.locator(f'.of-bucket[data-bucket="{bucket["label"]}"]')
        assert money(bucket["amount"]) in row.inner_text()
    oldest = debt["invoices"][0]
    assert oldest["invoiceId"] in page.page.locator(".of-oldest").inner_text()
    owing = next(b for b in debt["buckets"] if b["count"])
    page.page.locator(f'.of-bucket[data-bucket="{owing["label"]}"] button').click()
    listed = page.page.locator(".of-bucket-invoices .of-invoice-row")
    wanted = [i for i in debt["invoices"] if i["bucket"] == owing["label"]]
    assert listed.count() == len(wanted)
    assert all(i["invoiceId"] in page.page.locator(".of-bucket-invoices").inner_text() for i in wanted)
    page.assert_no_console_errors()


def test_aged_debt_moves_between_buckets_on_the_emulators_clock(operate, widget_page):
    debt = operate.pms.aged_debt_for_client(CLIENT, None, True)
    first = debt["invoices"][0]
    operate.advance("P31D")
    page = widget_page(AGED, scenario="ok")
    later = operate.pms.aged_debt_for_client(CLIENT, None, True)["invoices"][0]
    assert later["daysOverdue"] == first["daysOverdue"] + 31
    assert f"{later['daysOverdue']} days overdue" in page.page.locator(".of-oldest").inner_text()


@pytest.mark.parametrize("widget, message", [(WIP, "Nothing unbilled on this matter."), (AGED, "Nothing outstanding")])
def test_empty_scenario(operate, widget_page, widget, message):
    page = widget_page(widget, scenario="empty")
    text = page.text()
    assert message in text
    assert money(0) in text
    page.assert_no_console_errors()


@pytest.mark.parametrize("widget", [WIP, AGED])
@pytest.mark.parametrize(
    "scenario, message, status",
    [
        ("pms-error", "The PMS could not be reached or failed (502 Bad Gateway).", 502),
        ("timeout", "The PMS did not answer in time (504 Gateway Timeout).", 504),
        ("forbidden", "You do not have permission to see figures from the PMS.", 403),
    ],
)
def test_error_scenarios_show_a_readable_error(widget_page, widget, scenario, message, status):
    page = widget_page(widget, scenario=scenario)
    error = page.page.locator(".of-error")
    assert message in error.inner_text()
    page.assert_no_console_errors(allow_failed_requests=True)  # only the failed calls themselves
    failed = [e["text"] for e in page.harness_log("error")]
    assert failed and all(f" {status} " in line for line in failed), failed
    assert page.page.locator(".of-error button", has_text="Try again").is_visible()


def test_forbidden_is_the_user_without_the_proxy_permission(widget_page):
    page = widget_page(WIP, scenario="forbidden")
    assert page.page.locator("select[name=user] option:checked").inner_text() == "tom.becker"
    assert "tom.becker lacks the permission 'core.linkedServices.proxy'" in page.text()


# Installed before the page's own scripts: remembers the loading text the moment it is drawn, so the check does not
# depend on this process looking within the 1.5 s it shows for (a loaded machine may not).
SEES_LOADING = """window.__sawLoading = null;
new MutationObserver(function () {
  var shown = document.querySelector('[data-state="loading"] .of-loading');  // bound, not the raw template
  if (shown && window.__sawLoading === null) window.__sawLoading = shown.textContent;
}).observe(document, {childList: true, subtree: true, attributes: true});"""


@pytest.mark.parametrize("widget", [WIP, AGED])
def test_slow_scenario_shows_loading_first_then_the_data(operate, harness_page, widget_page, widget):
    harness_page.page.add_init_script(SEES_LOADING)  # widget_page's first tab is this page
    page = widget_page(widget, scenario="slow", wait=False)
    bound = page.wait_bound()
    assert "Loading" in (page.page.evaluate("window.__sawLoading") or "(never shown)")
    assert bound >= 1500  # every PMS call takes 1.5 s in this scenario
    assert page.page.locator(".of-loading").count() == 0
    assert "£" in page.page.locator(".of-totals").inner_text()
    page.assert_no_console_errors()


def test_a_matter_with_no_pms_reference_says_so(widget_page):
    page = widget_page(WIP, work_item="3c000000-0000-4000-8000-000000000012")
    assert "is not linked to the PMS yet" in page.text()
    page.assert_no_console_errors()


def test_scenario_ok_heals_the_pms_after_an_error(widget_page):
    widget_page(WIP, scenario="pms-error")
    page = widget_page(WIP, scenario="ok")
    assert "Total WIP" in page.text()


def test_markup_from_a_work_item_or_the_pms_is_text(operate, widget_page, portal_page):
    evil = "<img src=x onerror=alert(1)></script><!--<script>alert(2)</script>"
    item = operate.create_work_item(
        "matter-commercial", evil, participants={"client": "2b000000-0000-4000-8000-000000000003"}
    )
    operate.pms.open_matter(operate_id=item["id"], title=evil, fee_earner="PS", client_name=evil + "<b>x</b>")
    matter = operate.pms.find_matters(operate_id=item["id"])[0]
    operate.set_attributes(item["id"], {"pmsReference": matter.reference})
    for page in (widget_page(WIP, work_item=item["id"]), portal_page(item["id"])):
        assert evil in page.text()
        assert page.page.locator(".op-portal img").count() == 0
        assert page.dialogs == []
    page = widget_page(AGED, work_item=item["id"], config={"clientPath": "roles.none.ods.id"})  # the PMS's client name
    assert evil + "<b>x</b>" in page.text() and page.page.locator(".op-portal b").count() == 0
    assert page.dialogs == []


def test_both_widgets_are_on_the_demo_matter_portal_page(operate, portal_page):
    page = portal_page(MATTER, scenario="ok")
    wip = page.page.locator('section[data-widget="OperateFinance.WipWidget"]')
    aged = page.page.locator('section[data-widget="OperateFinance.AgedDebtWidget"]')
    assert wip.get_attribute("data-zone") == "middle-top" and aged.get_attribute("data-zone") == "right"
    assert wip.locator(".op-chrome-title").inner_text() == "Work in progress"
    assert aged.locator(".op-chrome-title").inner_text() == "Aged debt"
    assert money(operate.pms.wip("PMS-260101")["total"]) in wip.inner_text()
    assert money(operate.pms.aged_debt_for_client(CLIENT, None, False)["total"]) in aged.inner_text()
    page.assert_no_console_errors()


def test_the_signed_in_users_token_is_what_the_widget_calls_with(operate, widget_page):
    page = widget_page(WIP, scenario="ok", user="daniel.okafor")
    assert page.page.evaluate("$ui.pageContext.user.username()") == "daniel.okafor"
    assert page.page.evaluate("$ui.pageContext.sharedoId()") == MATTER
    assert page.page.evaluate("$ui.pageContext.contextCurrencyCode()") == "GBP"
    calls = operate.emulator.proxy_log.entries("demo-pms")
    assert calls and all(c["caller"] == "operate-portal" for c in calls)


def test_the_readme_screenshots_come_from_a_script_that_runs(tmp_path):
    import subprocess
    import sys

    root = ROOT
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "screenshots.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in (
        "wip-widget.png",
        "aged-debt-widget.png",
        "matter-portal.png",
        "widget-modes.png",
        "snapshot-diff.png",
    ):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000, name
        assert (root / "docs" / "images" / name).is_file(), f"docs/images/{name} is missing: run the script"


def test_a_malformed_pms_answer_is_an_error_not_blank_figures(operate, widget_page):
    operate.pms.add_fault("/api/matters/*/wip", malformed=True)
    page = widget_page(WIP, work_item=MATTER)
    assert "The PMS sent an answer that is not valid JSON." in page.page.locator(".of-error").inner_text()
    assert any("does not parse" in e["text"] for e in page.harness_log("error"))
