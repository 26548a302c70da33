"""Seed 002's PMS → Operate patterns, driven only from the PMS side, on the one virtual clock.

The demo PMS (in process, `fake = "demo"`) incepts matters, pays disbursements, receives invoice payments
and keeps suppliers; its delivery worker (`pms_adapters/demo/delivery.py`, a cron job on the emulator's
scheduler) sends each to Operate's public API with the PMS's own OAuth client (`demo-pms`, client
credentials). Each test acts on the PMS (its API, its CLI or its web page) and moves the clock: nothing
calls Operate by hand. Hostile cases: users trying a transition the solution reserves for the
integration, supplier tags spelled every way, and deliveries that fail (Operate down or refusing).
"""

from __future__ import annotations

import pytest

ORG_UI = "/api/ods/organisation"
ORG_API = "/api/v2/public/organisation"


# -- suppliers are mastered in the PMS: the refusal reads the tag as a person does ----------------


@pytest.mark.parametrize(
    "tag",
    [
        "supplier",
        "Supplier",
        "SUPPLIER",
        " supplier",
        "supplier ",
        "\tSupplier\n",
        "sup\u200bplier",
        "\uff53\uff55\uff50\uff50\uff4c\uff49\uff45\uff52",
        "\u017fupplier",
    ],  # fmt: skip
)
def test_the_ui_cannot_create_a_supplier_whatever_the_spelling_of_the_tag(operate, tag):
    api = operate.api()
    refused = api.post(ORG_UI, {"name": "Swift Process Servers", "tags": ["client", tag]})
    assert refused.status_code == 403, (tag, refused.get_data(as_text=True))
    assert "supplier organisations are mastered in the PMS" in refused.json["title"]
    created = api.post(ORG_API, {"name": "Swift Process Servers", "tags": [tag]})
    assert created.status_code == 201  # the integration's own route takes it


def test_a_tag_that_only_looks_alike_is_not_a_supplier(operate):
    api = operate.api()
    for tag in ("suppliers", "sup plier", "supplier-x"):
        assert api.post(ORG_UI, {"name": f"Org {tag}", "tags": [tag]}).status_code == 201


# -- a transition the solution reserves for the integration is refused to users ----------------------

SEARCH_FEE = "5e000000-0000-4000-8000-000000000001"  # PR-00001, submitted, under MAT-00002 (PMS-260102)
V1 = "/api/v1/public/workItem"


def _phase(operate, item: str) -> str:
    return operate.work_item(item)["workItem"]["phaseSystemName"]


@pytest.mark.parametrize("user", ["priya.shah", "hannah.whitfield"])
def test_a_user_cannot_mark_a_payment_request_paid_by_api(operate, user):
    operate.move(SEARCH_FEE, "payment-request-approved")
    refused = operate.api(user).put(f"{V1}/{SEARCH_FEE}/phase", {"toPhaseSystemName": "payment-request-paid"})
    assert refused.status_code == 403, refused.get_data(as_text=True)
    title = refused.json["title"]
    assert "'Mark as paid' (payment-request-approved-to-paid) is not user-driven" in title and user in title
    assert refused.json["errors"][0]["field"] == "toPhaseSystemName"
    assert _phase(operate, SEARCH_FEE) == "payment-request-approved"
    assert not [e for e in operate.events("sharedo-phase-changed") if e["Data"]["toPhase"] == "payment-request-paid"]
    # A user-driven move is still the user's to make.
    other = operate.create_work_item("payment-request", "Courier", parent="3c000000-0000-4000-8000-000000000002")
    assert (
        operate.api(user)
        .put(f"{V1}/{other['id']}/phase", {"toPhaseSystemName": "payment-request-submitted"})
        .status_code
        == 200
    )


def test_the_work_item_page_offers_no_mark_as_paid_and_refuses_a_forged_form(operate):
    from tests.web_support import hidden, sign_in

    operate.move(SEARCH_FEE, "payment-request-approved")
    browser = operate.app.test_client()
    page = sign_in(browser, "priya.shah", f"/workitems/{SEARCH_FEE}")
    assert 'data-to="payment-request-paid"' not in page.text  # no button
    assert 'data-reserved="payment-request-paid"' in page.text and "not user-driven" in page.text
    forged = browser.post(
        f"/workitems/{SEARCH_FEE}/phase", data={"csrf": hidden(page.text, "csrf"), "to": "payment-request-paid"}
    )
    assert forged.status_code == 303
    note = browser.get(forged.location).text
    assert "403" in note and "not user-driven" in note
    assert _phase(operate, SEARCH_FEE) == "payment-request-approved"
