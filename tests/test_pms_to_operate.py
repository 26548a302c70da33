"""Seed 002's PMS → Operate patterns, driven only from the PMS side, on the one virtual clock.

The demo PMS (in process, `fake = "demo"`) incepts matters, pays disbursements, receives invoice payments
and keeps suppliers; its delivery worker (`pms_adapters/demo/delivery.py`, a cron job on the emulator's
scheduler) sends each to Operate's public API with the PMS's own OAuth client (`demo-pms`, client
credentials). Each test acts on the PMS (its API, its CLI or its web page) and moves the clock: nothing
calls Operate by hand. Hostile cases: users trying a transition the solution reserves for the
integration, supplier tags spelled every way, and deliveries that fail (Operate down or refusing).
"""

from __future__ import annotations

from typing import Any

import pytest

from pms_adapters.demo.app import create_app as create_pms

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


# -- the PMS side: its own API on the backend the emulator mounts (fake = "demo"), on the one clock ------

PMS_KEY = {"X-API-Key": "demo-pms-key"}
KESTREL = "2b000000-0000-4000-8000-000000000003"  # Kestrel Software, client CLI-0006
PRIYA = "1a000000-0000-4000-8000-000000000001"  # Priya Shah, fee earner PS


class Pms:
    """The demo PMS's HTTP API, as its users and its finance team call it (X-API-Key)."""

    def __init__(self, operate: Any) -> None:
        self.backend = operate.pms
        self.client = create_pms(self.backend).test_client()

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.client.open(path, method=method, json=body, headers=PMS_KEY)
        assert response.status_code == status, f"PMS {method} {path} -> {response.status_code}: {response.json}"
        return response.json

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        return self.client.get("/_fake/deliveries", query_string=params).json["deliveries"]


@pytest.fixture
def pms(operate) -> Pms:
    return Pms(operate)


def delivered(pms: Pms, kind: str, subject: str) -> dict[str, Any]:
    (found,) = [d for d in pms.deliveries() if d["kind"] == kind and d["subject"] == subject]
    assert found["state"] == "delivered", found
    return found


# -- 2. payments processed in the PMS reach Operate's payment record -----------------------------------


def test_a_payment_made_in_the_pms_marks_the_operate_payment_request_paid(operate, pms):
    operate.move(SEARCH_FEE, "payment-request-approved")  # the Operate -> PMS row: the disbursement exists
    disbursement = operate.attribute(SEARCH_FEE, "pmsDisbursementId")
    assert disbursement
    # The finance team pays the supplier in the PMS; nothing is sent to Operate by hand.
    paid = pms.call("PUT", f"/api/disbursements/{disbursement}", {"paymentReference": "BACS-77120"})
    assert paid["status"] == "paid" and paid["operatePaymentRequestId"] == SEARCH_FEE
    assert not operate.events("payment-details-updated")  # the PMS's worker has not run yet
    operate.advance("PT1M")

    event = operate.assert_event("payment-details-updated", sharedoId=SEARCH_FEE, paymentReference="BACS-77120")
    assert event["Data"]["paidAmount"] == f"{paid['grossAmount']:.2f}"
    execution = operate.assert_execution("payment-paid", sharedo_id=SEARCH_FEE)
    assert any("moved to payment-request-paid" in line for line in operate.logs(execution))
    record = operate.api().get(f"/api/v1/public/finance/paymentRequest/{SEARCH_FEE}").json
    assert record["phaseSystemName"] == "payment-request-paid"
    assert record["paymentDetails"]["reference"] == "BACS-77120" and record["paymentDetails"]["method"] == "BACS"
    assert delivered(pms, "payment", disbursement)["operateId"] == SEARCH_FEE
    assert pms.call("GET", f"/api/disbursements/{disbursement}")["paymentReference"] == "BACS-77120"

    # Later runs of the worker send nothing again: one event, one execution.
    operate.advance("PT1H")
    assert len(operate.events("payment-details-updated")) == 1
    operate.assert_execution("payment-paid", sharedo_id=SEARCH_FEE)


# -- 1. matters incepted in the PMS reach Operate, linked, and are not incepted back -------------------


def test_a_matter_opened_in_the_pms_is_opened_in_operate_with_its_link(operate, pms):
    opened = pms.call(
        "POST",
        "/api/matters/incept",
        {"title": "Kestrel - share option scheme", "clientId": "CLI-0006", "feeEarner": "PS",
         "billingArrangements": "Hourly", "estimatedFees": 6000},
        status=201,
    )  # fmt: skip
    ref = opened["pmsReference"]
    assert opened["operateId"] is None and opened["practiceArea"] == "commercial"
    assert not operate.events("sharedo-created")
    operate.advance("PT1M")

    (created,) = operate.events("sharedo-created")
    work_item = created["Data"]["sharedoId"]
    assert created["Data"]["sharedoTypeSystemName"] == "matter-commercial"
    item = operate.work_item(work_item)["workItem"]
    assert item["title"] == "Kestrel - share option scheme" and item["externalReference"] == ref
    assert item["phaseSystemName"] == "matter-open"
    assert operate.attribute(work_item, "pmsReference") == ref
    assert operate.api().get(f"{V1}/{work_item}/finance/fees").json["estimatedFees"] == "6000.00"
    roles = {p["participantRoleType"]: p["odsId"] for p in operate.emulator.workitems.participants(work_item)}
    assert roles == {"client": KESTREL, "fee-earner": PRIYA}
    operate.assert_event("sharedo-phase-changed", sharedoId=work_item, toPhase="matter-open")
    # Operate's own inception plan ran on the open, saw the link and sent nothing back to the PMS.
    execution = operate.assert_execution("matter-inception", sharedo_id=work_item)
    assert any(f"already has PMS reference {ref}" in line for line in operate.logs(execution))
    operate.assert_pms_received("POST", "/api/matters", count=0)
    # The PMS's books: linked both ways, one matter.
    assert pms.call("GET", f"/api/matters/{ref}")["operateId"] == work_item
    assert delivered(pms, "matter", ref)["operateId"] == work_item
    assert [m["pmsReference"] for m in pms.call("GET", "/api/matters", None)["matters"]].count(ref) == 1
    operate.advance("PT1H")
    assert len(operate.events("sharedo-created")) == 1
