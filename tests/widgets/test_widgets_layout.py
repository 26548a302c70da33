"""The finance widgets fit their cards on the demo matter's portal page, in Chromium at common desktop widths:
after a click on an aged-debt bucket lists its invoices, nothing is wider than its card and the page does
not scroll sideways."""

from __future__ import annotations

import pytest

from tests.helpers.layout import OVERFLOWS

MATTER = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, client Margaret Ellison
AGED = 'section[data-widget="OperateFinance.AgedDebtWidget"]'


@pytest.mark.parametrize("width", [1400, 1920])
def test_aged_debt_invoice_list_fits_its_card_after_a_bucket_click(operate, portal_page, width):
    page = portal_page(MATTER, scenario="ok")
    page.page.set_viewport_size({"width": width, "height": 900})
    card = page.page.locator(AGED)
    buckets = card.locator(".of-bucket")
    assert buckets.count() == 4
    assert page.page.evaluate(OVERFLOWS, AGED) == []
    for i in range(buckets.count()):
        bucket = buckets.nth(i)
        if bucket.locator(".of-bucket-count").inner_text().startswith("0 "):
            continue
        bucket.locator("button").click()
        card.locator(".of-bucket-invoices").wait_for()
        problems = page.page.evaluate(OVERFLOWS, AGED)
        assert problems == [], f"{bucket.get_attribute('data-bucket')}:\n" + "\n".join(problems)
    page.assert_no_console_errors()
