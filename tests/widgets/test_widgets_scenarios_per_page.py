"""A widget scenario belongs to the page (the tab, the test) that chose it, checked in real Chromium: two tabs
with different scenarios each show their own at the same time, the gallery's choice stays in its tab, two
`widget_page` calls of one test do not interfere, and a plan is untouched by a page's PMS error."""

from __future__ import annotations

from widgets.browser import HarnessPage

WIP = "OperateFinance.WipWidget"
MATTER = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, PMS-260101
ERROR = "The PMS could not be reached or failed (502 Bad Gateway)."
REFRESH = "Sharedo.Core.Legal.Finance.Refresh"  # the finance widgets load again on this portal event


def another_tab(page: HarnessPage) -> HarnessPage:
    """A new tab in the same browser context (same cookies, same sign-in) as `page`."""
    return HarnessPage(page.page.context.new_page(), page.base_url)


def refreshed(page) -> str:
    """What the WIP widget shows once it has asked the PMS again (the portal's finance refresh event)."""
    body = page.page.locator(".OperateFinance-WipWidget")
    page.page.evaluate("document.querySelector('.OperateFinance-WipWidget').removeAttribute('data-state')")
    page.page.evaluate(f"$ui.events.publish({REFRESH!r})")
    page.page.wait_for_selector(
        ".OperateFinance-WipWidget[data-state=ready], .OperateFinance-WipWidget[data-state=error]"
    )
    return body.inner_text()


def proxy_status(page, via: str) -> int:
    """The status of the WIP call made from the page as a widget makes it itself (fetch, or XMLHttpRequest)."""
    url = "/api/proxy/demo-pms/_/api/matters/PMS-260101/wip"
    scripts = {
        "fetch": "([u, t]) => fetch(u, {headers: {Authorization: 'Bearer ' + t}}).then(r => r.status)",
        "xhr": "([u, t]) => new Promise(done => { var x = new XMLHttpRequest(); x.open('GET', u);"
        " x.setRequestHeader('Authorization', 'Bearer ' + t); x.onloadend = () => done(x.status); x.send(); })",
    }
    token = page.page.evaluate("JSON.parse(document.getElementById('operate-boot').textContent).session.token")
    return int(page.page.evaluate(scripts[via], [url, token]))


def test_two_tabs_with_different_scenarios_each_show_their_own_at_the_same_time(harness_page):
    erring = harness_page.open(f"/widgets/{WIP}?scenario=pms-error")
    assert ERROR in erring.text()
    fine = another_tab(erring).open(f"/widgets/{WIP}?scenario=ok")  # a second tab of the same browser
    assert fine.page.context is erring.page.context
    assert "Total WIP" in fine.text()
    assert ERROR in refreshed(erring)  # the error tab asks again after "ok" was chosen in the other
    assert "Total WIP" in refreshed(fine)
    erring.page.locator(".of-error button", has_text="Try again").click()
    erring.page.wait_for_selector(".OperateFinance-WipWidget[data-state=error]")
    for via in ("fetch", "xhr"):  # the host adds the key however the widget calls
        assert (proxy_status(erring, via), proxy_status(fine, via)) == (502, 200), via


def test_the_gallerys_choice_does_not_survive_into_another_tab(harness_page):
    gallery = harness_page.open("/widgets", wait=False)
    card = gallery.page.locator(f'.op-card[data-widget="{WIP}"]')
    with gallery.page.expect_navigation():
        card.locator('.op-scenario[data-scenario="pms-error"]').click()
    gallery.wait_bound()
    assert ERROR in gallery.text()
    other = another_tab(gallery).open(f"/portal/{MATTER}")  # another tab, no scenario chosen: the PMS as it is
    text = other.page.locator('section[data-widget="OperateFinance.WipWidget"]').inner_text()
    assert "Total WIP" in text and ERROR not in text
    other.assert_no_console_errors()
    assert ERROR in refreshed(gallery)  # and the gallery's tab keeps its choice


def test_two_widget_pages_of_one_test_do_not_interfere(widget_page):
    first = widget_page(WIP, scenario="pms-error")
    second = widget_page(WIP, scenario="ok")
    assert first.page is not second.page
    assert ERROR in first.text() and "Total WIP" in second.text()
    assert ERROR in refreshed(first)
    assert "Total WIP" in refreshed(second)
    second.assert_no_console_errors()


def test_a_plans_proxy_call_succeeds_while_a_page_shows_a_pms_error(operate, widget_page):
    page = widget_page(WIP, scenario="pms-error")
    assert ERROR in page.text()
    item = operate.create_work_item(
        "matter-commercial",
        "Opened while a page shows a PMS error",
        participants={
            "client": "2b000000-0000-4000-8000-000000000001",
            "fee-earner": "1a000000-0000-4000-8000-000000000001",
        },
    )
    operate.move(item["id"], "matter-open")  # matter-inception: POST /api/proxy/demo-pms/_/api/matters
    operate.assert_execution("matter-inception", "STOPPED", sharedo_id=item["id"])
    assert (operate.attribute(item["id"], "pmsReference") or "").startswith("PMS-")
    assert ERROR in refreshed(page)
