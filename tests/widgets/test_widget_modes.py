"""Modes: the built-in finance widgets rendered in a culture, a currency and a viewport, in Chromium.

What a fee earner reads is asserted as they read it: `1 647,50 €` in fr-FR with EUR (a narrow no-break
space between the thousands, a no-break space before the sign, as the browser's Intl writes them),
`$1,647.50` in en-US, `£1,647.50` in en-GB, and each culture's date order. The widgets take all of it from
`$ui.pageContext`, which the page's modes (widgets/modes.py, widgets/modes.json) set.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers.layout import OVERFLOWS
from widgets.modes import ModeError, viewport_size

WIP = "OperateFinance.WipWidget"
AGED = "OperateFinance.AgedDebtWidget"
MATTER = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, PMS-260101, client Margaret Ellison
CLIENT = "1a000000-0000-4000-8000-000000000005"
NNBSP, NBSP = "\u202f", "\u00a0"

MODES = [("en-GB", "GBP"), ("en-US", "USD"), ("fr-FR", "EUR")]


def money(amount: float, locale: str) -> str:
    """An amount as a person reads it in each culture with its own currency."""
    plain = f"{amount:,.2f}"
    if locale == "fr-FR":
        return plain.replace(",", NNBSP).replace(".", ",") + NBSP + "€"
    return ("$" if locale == "en-US" else "£") + plain


def day(iso: str, locale: str) -> str:
    """A date in the culture's order: day first in en-GB and fr-FR, month first in en-US."""
    d = date.fromisoformat(iso[:10])
    return d.strftime("%m/%d/%Y" if locale == "en-US" else "%d/%m/%Y")


def test_the_three_money_forms_are_the_ones_people_read():
    assert money(1647.5, "fr-FR") == "1\u202f647,50\u00a0€"
    assert money(1647.5, "en-US") == "$1,647.50" and money(1647.5, "en-GB") == "£1,647.50"
    assert day("2026-01-05T09:00:00.000Z", "en-US") == "01/05/2026" and day("2026-01-05", "fr-FR") == "05/01/2026"


@pytest.mark.parametrize("locale, currency", MODES)
def test_wip_shows_money_and_dates_in_the_pages_culture_and_currency(operate, widget_page, locale, currency):
    page = widget_page(WIP, scenario="ok", locale=locale, currency=currency)
    wip = operate.pms.wip("PMS-260101")
    text = page.text()
    assert f"Total WIP\n{money(wip['total'], locale)}" in text
    assert f"Unbilled time\n{money(wip['unbilledTime'], locale)}" in text
    assert f"Unbilled disbursements\n{money(wip['unbilledDisbursements'], locale)}" in text
    for earner in wip["feeEarners"]:
        row = page.page.locator(".of-fee-earners tbody tr").filter(has_text=earner["name"]).inner_text()
        assert row.endswith("\t" + money(earner["total"], locale))
    assert page.page.locator(".of-as-of").inner_text() == f"As of {day(wip['asOf'], locale)}"
    assert page.modes == {"locale": locale, "currency": currency}
    page.assert_no_console_errors()


@pytest.mark.parametrize("locale, currency", MODES)
def test_aged_debt_shows_money_and_dates_in_the_pages_culture_and_currency(operate, widget_page, locale, currency):
    page = widget_page(AGED, scenario="ok", locale=locale, currency=currency)
    debt = operate.pms.aged_debt_for_client(CLIENT, None, True)
    oldest = debt["invoices"][0]
    text = page.text()
    assert f"Total outstanding\n{money(debt['total'], locale)}" in text
    for bucket in debt["buckets"]:
        amount = page.page.locator(f'.of-bucket[data-bucket="{bucket["label"]}"] .of-bucket-amount').inner_text()
        assert amount == money(bucket["amount"], locale)
    assert (
        f"{oldest['invoiceId']}, due {day(oldest['dueDate'], locale)}" in page.page.locator(".of-oldest").inner_text()
    )
    assert page.page.locator(".of-as-of").inner_text() == f"Aged by due date as of {day(debt['asOf'], locale)}"
    owing = next(b for b in debt["buckets"] if b["count"])
    page.page.locator(f'.of-bucket[data-bucket="{owing["label"]}"] button').click()
    row = page.page.locator(".of-bucket-invoices .of-invoice-row").first.inner_text()
    assert row == f"{oldest['invoiceId']}\t{day(oldest['dueDate'], locale)}\t{oldest['daysOverdue']}\t" + money(
        oldest["outstanding"], locale
    )
    page.assert_no_console_errors()


def test_the_page_context_carries_the_modes_as_the_portal_names_them(widget_page):
    page = widget_page(WIP, scenario="ok", locale="en-US", currency="EUR")
    context = page.page.evaluate(
        "({culture: $ui.pageContext.localisation.defaultCultureCode(),"
        " format: $ui.pageContext.localisation.defaultDateFormat(),"
        " code: $ui.pageContext.contextCurrencyCode(), symbol: $ui.pageContext.currency.symbol(),"
        " name: $ui.pageContext.currency.name()})"
    )
    assert context == {"culture": "en-US", "format": "MM/DD/YYYY", "code": "EUR", "symbol": "€", "name": "Euro"}
    assert page.page.locator(".of-total-all .of-value").inner_text() == "€1,647.50"  # en-US writes euros so


def test_without_modes_the_page_is_en_gb_and_gbp_as_before(widget_page):
    page = widget_page(WIP, scenario="ok")
    assert page.page.locator(".of-total-all .of-value").inner_text() == "£1,647.50"
    assert page.page.evaluate("$ui.pageContext.localisation.defaultCultureCode()") == "en-GB"
    assert page.page.evaluate("[innerWidth, innerHeight]") == [1280, 900]


@pytest.mark.parametrize("widget", [WIP, AGED])
def test_phone_viewport_lays_the_widget_out_without_sideways_scrolling(widget_page, widget):
    page = widget_page(widget, scenario="ok", locale="fr-FR", currency="EUR", viewport="phone")
    assert page.page.evaluate("[innerWidth, innerHeight]") == [390, 844]
    card = f'section[data-widget="{widget}"]'
    assert page.page.evaluate(OVERFLOWS, card) == []
    if widget == AGED:  # the invoice list, opened, fits too
        page.page.locator('.of-bucket[data-bucket="31-60"] button').click()
        page.page.locator(".of-bucket-invoices").wait_for()
        assert page.page.evaluate(OVERFLOWS, card) == []
    page.assert_no_console_errors()


def test_phone_viewport_stacks_the_portal_pages_zones(portal_page):
    page = portal_page(MATTER, scenario="ok", viewport="phone", locale="fr-FR", currency="EUR")
    assert page.modes == {"locale": "fr-FR", "currency": "EUR", "viewport": "phone"}
    for widget in (WIP, AGED):
        card = f'section[data-widget="{widget}"]'
        assert page.page.evaluate(OVERFLOWS, card) == [], widget
    boxes = [page.page.locator(f'section[data-widget="{w}"]').bounding_box() for w in (WIP, AGED)]
    assert boxes[0]["x"] == boxes[1]["x"] and boxes[0]["width"] == boxes[1]["width"]  # one column
    assert "1\u202f647,50\u00a0€" in page.text()
    page.assert_no_console_errors()


@pytest.mark.parametrize("name", ["phone", "tablet", "desktop"])
def test_each_named_viewport_sizes_the_browser(widget_page, name):
    page = widget_page(WIP, scenario="ok", viewport=name)
    size = viewport_size(name)
    assert page.page.evaluate("[innerWidth, innerHeight]") == [size["width"], size["height"]]
    assert page.page.locator("select[name=viewport]").input_value() == name


def test_the_gallerys_toggles_change_the_previews_culture_currency_and_viewport(harness_page):
    page = harness_page.open("/widgets", wait=False)
    page.page.select_option("#op-gallery-choices select[name=locale]", "fr-FR")
    page.page.select_option("#op-gallery-choices select[name=currency]", "EUR")
    page.page.select_option("#op-gallery-choices select[name=viewport]", "phone")
    page.page.locator(f'.op-card[data-widget="{WIP}"] a.op-scenario[data-scenario="ok"]').click()
    page.wait_bound()
    assert page.page.locator(".of-total-all .of-value").inner_text() == "1\u202f647,50\u00a0€"
    assert page.page.locator(".op-main").bounding_box()["width"] == 390  # the preview drawn at the phone's width
    assert page.page.evaluate(OVERFLOWS, f'section[data-widget="{WIP}"]') == []
    # The preview's own toggles: another currency in the same culture, and the desktop width.
    page.page.select_option("select[name=currency]", "USD")
    page.page.select_option("select[name=viewport]", "desktop")
    page.page.locator(".op-controls button[type=submit]").click()
    page.wait_bound()
    assert "currency=USD" in page.page.url and "locale=fr-FR" in page.page.url
    assert page.page.locator(".of-total-all .of-value").inner_text() == "1\u202f647,50\u00a0$US"
    assert page.page.locator(".op-main").bounding_box()["width"] == 1280 - 0  # the whole desktop window
    page.assert_no_console_errors()


def test_an_unknown_mode_is_refused_by_name(operate, harness_page, widget_page):
    for path, message in {
        f"/widgets/{WIP}?locale=de-DE": "locale must be one of en-GB, en-US, fr-FR, not 'de-DE'",
        f"/portal/{MATTER}?currency=JPY": "currency must be one of GBP, USD, EUR, not 'JPY'",
        f"/widgets/{WIP}?viewport=watch": "viewport must be one of phone, tablet, desktop, not 'watch'",
    }.items():
        response = harness_page.page.goto(harness_page.base_url + path)
        assert response.status == 400, path
        assert message in harness_page.page.inner_text("body"), path
    with pytest.raises(ModeError, match="viewport must be one of phone, tablet, desktop, not 'Phone'"):
        widget_page(WIP, viewport="Phone")
    with pytest.raises(TypeError, match=r"unknown argument\(s\) \['local'\]: the modes are locale, currency, viewport"):
        widget_page(WIP, local="fr-FR")


def test_a_solutions_portal_culture_and_currency_get_their_formats_and_modes_go_over_them(
    operate, widget_page, monkeypatch
):
    monkeypatch.setitem(operate.emulator.solution.config, "portal", {"culture": "en-US", "currency": "USD"})
    page = widget_page(WIP, scenario="ok")  # operate.toml [portal] culture = "en-US", currency = "USD"
    assert page.page.evaluate("$ui.pageContext.localisation.defaultDateFormat()") == "MM/DD/YYYY"
    assert page.page.evaluate("$ui.pageContext.currency.symbol()") == "$"
    assert page.page.locator(".of-as-of").inner_text() == "As of 01/05/2026"
    page = widget_page(WIP, scenario="ok", locale="fr-FR", currency="EUR")
    assert page.page.locator(".of-total-all .of-value").inner_text() == "1\u202f647,50\u00a0€"
    assert page.page.locator(".of-as-of").inner_text() == "As of 05/01/2026"
