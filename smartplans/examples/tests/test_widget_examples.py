"""Widgets tested in a real browser with the plugin's `widget_page` / `portal_page` fixtures (the demo
solution, the demo PMS in process, Debian's chromium). Run: `pytest smartplans/examples/tests`."""

MATTER = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, linked to PMS-260101


def test_the_wip_widget_shows_the_pms_total(operate, widget_page):
    page = widget_page("OperateFinance.WipWidget", work_item=MATTER, scenario="ok")
    total = operate.pms.wip("PMS-260101")["total"]
    assert f"£{total:,.2f}" in page.text()
    page.assert_no_console_errors()


def test_a_pms_outage_reads_as_an_error_not_a_blank(widget_page):
    page = widget_page("OperateFinance.AgedDebtWidget", work_item=MATTER, scenario="pms-error")
    assert "The PMS could not be reached" in page.text()


def test_the_matter_page_places_both_finance_widgets(portal_page):
    page = portal_page(MATTER)
    assert page.page.locator('section[data-zone="right"] .op-chrome-title').inner_text() == "Aged debt"


def test_wip_in_france(widget_page):
    page = widget_page("OperateFinance.WipWidget", scenario="ok", locale="fr-FR", currency="EUR", viewport="phone")
    assert page.page.locator(".of-total-all .of-value").inner_text() == "1\u202f647,50\u00a0€"  # as Intl writes it
