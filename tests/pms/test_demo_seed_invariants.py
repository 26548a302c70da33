"""The demo's data agrees with itself: Operate's seed (emulator/demo_solution/seed) and the demo PMS's books
(pms_adapters/fakes/demo_pms/seed.py) describe one firm, whatever the clock says.

Cross-system invariants, each as a user would check them (Operate's public API, the PMS's books):
every PMS matter is an Operate matter and the other way round, with the same client, estimate and billed
fees; every approved payment request is a disbursement in the PMS with the same amounts, supplier and id
written back; every invoice has the same amounts, payments, status, issue and due dates on both sides;
new references continue the seeded series.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import ApiClient, mount_demo_pms

V1 = "/api/v1/public/workItem"
CLOCKS = {
    "the testing plugin's start": datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc),
    "months later": datetime(2026, 12, 4, 21, 0, tzinfo=timezone.utc),
}
# Operate's invoice phases and the PMS's invoice statuses that say the same thing.
INVOICE_STATES = {"invoice-issued": "issued", "invoice-part-paid": "part-paid", "invoice-paid": "paid"}
APPROVED = ("payment-request-approved", "payment-request-paid")


class Firm:
    """Operate (its API as the demo client) and the PMS books it is linked to, on one clock."""

    def __init__(self, tmp_path, start: datetime) -> None:
        self.app = create_app(Settings(data_dir=tmp_path, demo=True, clock="virtual", clock_start=start))
        self.em = self.app.extensions["operate"]
        self.pms = mount_demo_pms(self.em)
        self.api = ApiClient(self.app, lambda renew=False: f"Bearer {self.em.identity.issue('demo-client', None)}")

    def items(self, *types: str) -> list[dict[str, Any]]:
        found = self.api.post(
            f"{V1}/findByQuery",
            {"search": {"types": {"includeTypesDerivedFrom": list(types)}, "page": {"rowsPerPage": 1000}}},
        ).json["results"]
        return [self.get(r["id"]) for r in found]

    def get(self, item_id: str) -> dict[str, Any]:
        item = self.api.get(f"{V1}/{item_id}").json
        item["attributes"] = self.api.get(f"{V1}/{item_id}/attributes").json
        return item


@pytest.fixture(params=list(CLOCKS), ids=list(CLOCKS))
def firm(request, tmp_path):
    firm = Firm(tmp_path / "operate", CLOCKS[request.param])
    yield firm
    firm.em.close()


def pence(amount: Any) -> int:
    return int(Decimal(str(amount)) * 100)


def day(instant: str) -> str:
    return instant[:10]


def test_every_pms_matter_is_an_operate_matter_with_the_same_client_estimate_and_fees(firm):
    matters = {m["workItem"]["id"]: m for m in firm.items("matter")}
    linked = {m["attributes"]["pmsReference"]: m for m in matters.values() if m["attributes"].get("pmsReference")}
    pms_matters = firm.pms.matters_json()
    assert sorted(m["pmsReference"] for m in pms_matters) == sorted(linked)
    for pms_matter in pms_matters:
        ref = pms_matter["pmsReference"]
        operate = matters.get(pms_matter["operateId"])
        assert operate is not None, f"{ref} names Operate matter {pms_matter['operateId']}, which does not exist"
        assert operate["attributes"]["pmsReference"] == ref
        assert pence(operate["attributes"]["estimatedFees"]) == pence(pms_matter["estimatedFees"]), ref
        billed = firm.pms.actual_fees(ref)["actualFees"]
        assert pence(operate["attributes"]["actualFees"]) == pence(billed), f"{ref}: actual fees differ"
        clients = firm.api.get(f"/api/v2/public/workItem/{operate['workItem']['id']}/participants").json
        client_ods = {p["odsId"] for p in clients if p["participantRoleType"] == "client"}
        assert firm.pms.get_client(pms_matter["clientId"]).operate_ods_id in client_ods, ref


def test_every_approved_payment_request_is_a_disbursement_in_the_pms(firm):
    requests = firm.items("payment-request")
    assert requests, "the demo seeds payment requests"
    for pr in requests:
        ref, attrs = pr["workItem"]["reference"], pr["attributes"]
        matter = firm.get(pr["workItem"]["parentSharedoId"])["attributes"]["pmsReference"]
        posted = [
            d for d in firm.pms.disbursements_json(matter) if d["operatePaymentRequestId"] == pr["workItem"]["id"]
        ]
        if pr["workItem"]["phaseSystemName"] not in APPROVED:
            assert posted == [] and "pmsDisbursementId" not in attrs, f"{ref} is not approved yet"
            continue
        assert len(posted) == 1, f"{ref} is approved in Operate, but the PMS holds {len(posted)} disbursements for it"
        (disb,) = posted
        assert attrs["pmsDisbursementId"] == disb["disbursementId"], ref
        assert (pence(disb["amount"]), pence(disb["vatAmount"])) == (pence(attrs["amount"]), pence(attrs["vatAmount"]))
        assert disb["description"] == pr["workItem"]["title"]
        assert disb["supplierInvoiceReference"] == attrs["supplierInvoiceReference"]
        payees = firm.api.get(f"/api/v2/public/workItem/{pr['workItem']['id']}/participants").json
        payee = next(p["odsId"] for p in payees if p["participantRoleType"] == "payee")
        assert firm.pms.supplier(disb["supplierId"]).operate_ods_id == payee, ref
        assert disb["incurredDate"] == day(pr["workItem"]["createdDate"]), ref
        assert (disb["status"] == "paid") == (pr["workItem"]["phaseSystemName"] == "payment-request-paid"), ref


def test_every_invoice_has_the_same_amounts_status_and_dates_on_both_sides(firm):
    invoices = firm.items("invoice")
    assert invoices, "the demo seeds invoices"
    for inv in invoices:
        ref, attrs = inv["workItem"]["reference"], inv["attributes"]
        pms = firm.pms.get_invoice(attrs["pmsInvoiceReference"]).to_json()
        matter = firm.get(inv["workItem"]["parentSharedoId"])["attributes"]["pmsReference"]
        assert pms["operateInvoiceId"] == inv["workItem"]["id"] and pms["pmsReference"] == matter, ref
        for key in ("netAmount", "vatAmount", "grossAmount", "amountPaid"):
            assert pence(attrs[key]) == pence(pms[key]), f"{ref} {key}: {attrs[key]} in Operate, {pms[key]} in the PMS"
        assert INVOICE_STATES[inv["workItem"]["phaseSystemName"]] == pms["status"], ref
        assert day(inv["workItem"]["createdDate"]) == pms["issuedDate"], f"{ref} issued"
        assert day(inv["keyDates"]["kd-invoice-due-date"]) == pms["dueDate"], f"{ref} due"


def test_pms_people_and_suppliers_are_operates(firm):
    people = {p["id"] for p in firm.em.solution.people}
    organisations = {o["id"] for o in firm.em.solution.organisations}
    for earner in firm.pms.fee_earners_json():
        assert earner["operateOdsId"] in people, earner
    for supplier in firm.pms.suppliers_json():
        assert supplier["operateOdsId"] is None or supplier["operateOdsId"] in organisations, supplier


def test_new_references_continue_the_seeded_series(firm):
    def create(type_sn: str, parent: str | None = None) -> str:
        body: dict[str, Any] = {"workItem": {"sharedoTypeSystemName": type_sn, "title": f"New {type_sn}"}}
        if parent:
            body["parentSharedoId"] = parent
        response = firm.api.post(V1, body)
        assert response.status_code == 201, response.json
        return response.json["workItem"]["reference"]

    def last(type_sn: str) -> str:
        return max(i["workItem"]["reference"] for i in firm.items(type_sn))

    matter = "3c000000-0000-4000-8000-000000000002"
    for type_sn, parent in (("payment-request", matter), ("task", matter), ("invoice", matter)):
        seeded = last(type_sn)
        prefix, number = seeded.rsplit("-", 1)
        assert create(type_sn, parent) == f"{prefix}-{int(number) + 1:0{len(number)}d}", type_sn
    assert create("matter-private-client") == "MAT-00013"
