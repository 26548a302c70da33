"""Seed 002's finance integration table, end to end: one test per row, through the public HTTP API of both sides.

Operate (the demo solution, whose `pkg:smartplans/examples` plans and triggers are the integrations) and the
demo PMS each listen on a real loopback port, on one virtual clock; the `demo-pms` linked service is pointed
at the PMS. Event-driven rows raise the event through Operate's API and read what the PMS received
(`GET /_fake/requests`) and what was written back to Operate. API rows play the PMS side through Operate's
public API. Widget rows call the PMS through Operate's proxy with a user's token, as a portal widget does.
Fault tests break the PMS (5xx, slow, down) and retry the errored step.

Seed-table row (integration type) -> test:

- Send New Matters to the PMS (event driven) -> test_send_new_matters_to_the_pms
- Received New Matters from the PMS (API) -> test_receive_new_matters_from_the_pms
- Payments (event driven) -> test_payments_are_sent_to_the_pms_once_approved
- Update Payments with Payment details (API) -> test_payment_details_from_the_pms_mark_the_request_paid
- Send Time Entries to the PMS (event driven) -> test_submitted_time_is_sent_to_the_pms
- Send Invoices to the PMS (event driven) -> test_invoices_are_sent_to_the_pms_as_their_status_changes
- Update Clio Operate with Supplier details mastered in the PMS (API) -> test_suppliers_are_mastered_in_the_pms
- Fees - WIP (widget) -> test_wip_widget_shows_the_pms_balances
- Fees - Actual Fees (API) -> test_actual_fees_from_the_pms_alert_at_80_and_100_percent
- Invoices - Ageing (widget) -> test_aged_debt_widget_follows_the_one_clock
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from emulator.app import create_app
from emulator.settings import Settings
from pms_adapters.fakes.demo_pms.server import build_server
from tests.helpers.loopback import serving
from tests.helpers.paths import ROOT

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday, after every date in the demo seed
PMS_KEY = "demo-pms-key"
V1 = "/api/v1/public/workItem"
EXECUTING = "/api/executionengine/plans/executing"

# Demo seed ids (emulator/demo_solution/README.md) and the PMS's matching books (pms_adapters/fakes/demo_pms/seed.py).
PRIYA = "1a000000-0000-4000-8000-000000000001"  # Priya Shah, fee earner PS
DANIEL = "1a000000-0000-4000-8000-000000000002"  # Daniel Okafor, fee earner DO
KESTREL = "2b000000-0000-4000-8000-000000000003"  # Kestrel Software, client CLI-0006
BRIGHTWATER = "2b000000-0000-4000-8000-000000000002"  # Brightwater Foods, client CLI-0005
CLEARVIEW = "2b000000-0000-4000-8000-000000000006"  # Clearview Property Searches, supplier SUP-0003
ESTATE_MATTER = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, PMS-260101, Priya
LEASE_MATTER = "3c000000-0000-4000-8000-000000000003"  # MAT-00003, PMS-260103, estimate 8000, actual 2400
FRAMEWORK_MATTER = "3c000000-0000-4000-8000-000000000005"  # MAT-00005, PMS-260105; INV-00001 = PMS-INV-40031
WILLS_ENQUIRY = "3c000000-0000-4000-8000-000000000010"  # MAT-00010, an enquiry with no pmsReference
SEARCH_FEE = "5e000000-0000-4000-8000-000000000001"  # PR-00001, submitted, under MAT-00002 (PMS-260102)


class Operate:
    """An httpx client for Operate's API carrying a token from /connect/token, renewed once on a 401 (tokens
    last 15 minutes on the emulator's clock, which the ageing test moves by a month)."""

    def __init__(self, base_url: str, **grant: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30, trust_env=False)
        self.grant = {"grant_type": "client_credentials", "scope": "sharedo", **grant}
        self._renew()

    def _renew(self) -> None:
        response = self.client.post("/connect/token", data=self.grant, auth=("demo-client", "demo-secret"))
        assert response.status_code == 200, response.text
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        response = self.client.request(method, path, json=body, **kw)
        if response.status_code == 401:
            self._renew()
            response = self.client.request(method, path, json=body, **kw)
        return response

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, body, **kw)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.request(method, path, body)
        assert response.status_code == status, f"{method} {path} -> {response.status_code}: {response.text}"
        return response.json() if response.content else None


@dataclasses.dataclass
class Stack:
    em: Any
    operate_url: str
    operate: Operate  # demo-client: the integration's (and the PMS side's) identity
    pms: httpx.Client  # the PMS directly, with its key
    pms_server: Any
    pms_thread: threading.Thread
    users: list[Operate] = dataclasses.field(default_factory=list)

    # -- the PMS ------------------------------------------------------------------------------
    def start_pms(self, timeout_seconds: float | None = None) -> None:
        """A demo PMS on a free loopback port, on Operate's clock, and `demo-pms` pointed at it."""
        self.pms_server = build_server("127.0.0.1", 0, PMS_KEY, clock=self.em.clock)
        self.pms_thread = threading.Thread(target=self.pms_server.serve_forever, name="demo-pms", daemon=True)
        self.pms_thread.start()
        url = f"http://127.0.0.1:{self.pms_server.server_port}"
        self.pms = httpx.Client(base_url=url, headers={"X-API-Key": PMS_KEY}, timeout=30, trust_env=False)
        self.point_pms(timeout_seconds)

    def point_pms(self, timeout_seconds: float | None = None) -> None:
        service = self.em.linked_services.services["demo-pms"]
        changes: dict[str, Any] = {"base_url": f"http://127.0.0.1:{self.pms_server.server_port}"}
        if timeout_seconds is not None:
            changes["timeout_seconds"] = timeout_seconds
        self.em.linked_services.add(dataclasses.replace(service, **changes))

    def stop_pms(self) -> None:
        if self.pms_server is None:
            return
        self.pms_server.shutdown()
        self.pms_thread.join(timeout=10)
        self.pms_server.server_close()
        self.pms.close()
        self.pms_server = None

    def received(self, method: str | None, path: str) -> list[dict[str, Any]]:
        """What the PMS received (its request log), for one method (None: any) and path (`*` at the end: a
        prefix)."""
        params = {"path": path} if method is None else {"method": method, "path": path}
        response = self.pms.get("/_fake/requests", params=params)
        assert response.status_code == 200, response.text
        return response.json()["requests"]

    def forget_requests(self) -> None:
        assert self.pms.delete("/_fake/requests").status_code == 200

    def pms_json(self, path: str, **params: Any) -> Any:
        response = self.pms.get(path, params=params)
        assert response.status_code == 200, f"PMS GET {path} -> {response.status_code}: {response.text}"
        return response.json()

    # -- Operate ------------------------------------------------------------------------------
    def user(self, user_name: str) -> Operate:
        """A user's token (Impersonate.Specified), as the portal and its widgets hold one."""
        grant = {"grant_type": "Impersonate.Specified", "impersonate_user": user_name, "impersonate_provider": "idsrv"}
        user = Operate(self.operate_url, **grant)
        self.users.append(user)
        return user

    def executions(self, plan: str) -> list[dict[str, Any]]:
        return self.operate.ok("GET", f"{EXECUTING}?plan={plan}")

    def log(self, execution: dict[str, Any]) -> list[str]:
        lines = []
        for step in execution["steps"]:
            path = f"{EXECUTING}/{execution['id']}/steps/{step['id']}/log"
            lines += [f"{line['logLevel']}: {line['logMessage']}" for line in self.operate.ok("GET", path)]
        return lines

    def only_execution(self, plan: str) -> dict[str, Any]:
        found = self.executions(plan)
        assert len(found) == 1, f"expected one execution of {plan}, found {[(e['id'], e['state']) for e in found]}"
        return found[0]

    def stopped(self, plan: str) -> dict[str, Any]:
        execution = self.only_execution(plan)
        assert execution["state"] == "STOPPED", (
            f"{plan} is {execution['state']}: {execution['lastErrored']}\n" + "\n".join(self.log(execution))
        )
        return execution

    def retry(self, execution: dict[str, Any]) -> dict[str, Any]:
        (step,) = [s for s in execution["steps"] if s["state"] == "ERRORED"]
        return self.operate.ok("POST", f"{EXECUTING}/{execution['id']}/steps/{step['id']}/retry")

    def attributes(self, item_id: str) -> dict[str, Any]:
        return self.operate.ok("GET", f"{V1}/{item_id}/attributes")

    def phase(self, item_id: str) -> str:
        return self.operate.ok("GET", f"{V1}/{item_id}/phase")["systemName"]

    def move(self, item_id: str, phase: str) -> None:
        self.operate.ok("PUT", f"{V1}/{item_id}/phase", {"toPhaseSystemName": phase})

    def events(self, event_type: str) -> list[dict[str, Any]]:
        found = self.operate.ok("GET", "/api/_emulator/events?after=0&limit=10000")["events"]
        return [e for e in found if e["eventType"] == event_type]


@pytest.fixture
def stack(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "operate", demo=True, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        with serving(app) as url:
            s = Stack(em, url, Operate(url), None, None, None)  # type: ignore[arg-type]
            s.start_pms()
            try:
                yield s
            finally:
                s.stop_pms()
                for client in [s.operate, *s.users]:
                    client.client.close()
    finally:
        em.close()


def only(requests: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(requests) == 1, f"expected exactly one request, the PMS received {len(requests)}: {requests}"
    return requests[0]


# ------------------------------------------------------------------------------------------------
# Event driven: Clio Operate -> PMS
# ------------------------------------------------------------------------------------------------


def test_send_new_matters_to_the_pms(stack):
    """A matter opened with no pmsReference is incepted in the PMS; the reference comes back as the form field."""
    stack.move(WILLS_ENQUIRY, "matter-open")

    call = only(stack.received("POST", "/api/matters"))
    assert call["body"] == {
        "operateId": WILLS_ENQUIRY,
        "title": "Pritchard - wills and trust review",
        "clientName": "Owen Pritchard",
        "feeEarner": DANIEL,
        "billingArrangements": "Fixed fee",
        "estimatedFees": 1200,
    }
    assert call["status"] == 201
    assert call["headers"]["X-Api-Key"] == "<redacted>" and "Authorization" not in call["headers"]
    (opened,) = stack.pms_json("/api/matters", operateId=WILLS_ENQUIRY)["matters"]
    assert opened["clientId"] == "CLI-0002" and opened["feeEarner"] == "DO" and opened["estimatedFees"] == 1200

    assert stack.attributes(WILLS_ENQUIRY)["pmsReference"] == opened["pmsReference"] == "PMS-260110"
    form = stack.operate.ok(
        "POST",
        "/api/executionengine/graph/sharedo/query",
        {"entityType": "sharedo", "entityId": WILLS_ENQUIRY, "fields": [{"path": "form-demo-finance.pmsReference"}]},
    )
    assert form["data"]["form-demo-finance.pmsReference"] == "PMS-260110"
    execution = stack.stopped("matter-inception")
    assert any("MAT-00010 incepted in the PMS as PMS-260110" in line for line in stack.log(execution))

    stack.move(WILLS_ENQUIRY, "matter-closed")
    stack.move(WILLS_ENQUIRY, "matter-open")  # opened again: it has a reference now, so nothing is sent
    assert len(stack.received("POST", "/api/matters")) == 1
    assert [e["state"] for e in stack.executions("matter-inception")] == ["STOPPED", "STOPPED"]


def test_payments_are_sent_to_the_pms_once_approved(stack):
    """An approved payment request becomes one disbursement on its matter, paid to the supplier."""
    stack.move(SEARCH_FEE, "payment-request-approved")

    call = only(stack.received("POST", "/api/matters/*"))
    assert call["path"] == "/api/matters/PMS-260102/disbursements" and call["status"] == 201
    assert call["body"] == {
        "operatePaymentRequestId": SEARCH_FEE,
        "amount": 245,
        "vatAmount": 49,
        "currency": "GBP",
        "description": "Local authority search - 14 Mill Lane, Harrogate",
        "supplierId": CLEARVIEW,
        "supplierInvoiceReference": "CPS-88213",
    }
    (disbursement,) = [
        d
        for d in stack.pms_json("/api/matters/PMS-260102/disbursements")["disbursements"]
        if d["operatePaymentRequestId"] == SEARCH_FEE
    ]
    assert disbursement["supplierId"] == "SUP-0003" and disbursement["supplierName"] == "Clearview Property Searches"
    assert disbursement["grossAmount"] == 294.0 and disbursement["status"] == "awaiting-payment"
    assert stack.attributes(SEARCH_FEE)["pmsDisbursementId"] == disbursement["disbursementId"]
    assert stack.phase(SEARCH_FEE) == "payment-request-approved"
    execution = stack.stopped("payment-approved")
    assert any(f"PR-00001 sent to the PMS as {disbursement['disbursementId']}" in x for x in stack.log(execution))


def test_submitted_time_is_sent_to_the_pms(stack):
    """Time Submitted posts the entry to the matter in the PMS; a comment names the PMS time entry."""
    priya = stack.user("priya.shah")
    response = priya.post(
        "/api/v2/public/time/entry",
        {
            "sharedoId": ESTATE_MATTER,
            "odsId": PRIYA,
            "startDateTime": "2026-03-02T09:00:00Z",
            "durationSeconds": 1500,
            "segments": [
                {"id": "activity", "timeCodeId": "A103"},
                {"id": "narrative", "segmentValue": "Drafting the estate accounts"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    entry_id = response.json()["id"]
    assert stack.received("POST", "/api/matters/*") == []  # a draft is not sent

    assert priya.post(f"/api/v2/public/time/entry/{entry_id}/submit").status_code == 200

    call = only(stack.received("POST", "/api/matters/*"))
    assert call["path"] == "/api/matters/PMS-260101/time" and call["status"] == 201
    assert call["body"] == {
        "operateTimeEntryId": entry_id,
        "feeEarner": PRIYA,
        "minutes": 25,
        "date": "2026-03-02",
        "narrative": "Drafting the estate accounts",
        "activityCode": "A103",
    }
    (posted,) = [
        t for t in stack.pms_json("/api/matters/PMS-260101/time")["timeEntries"] if t["operateTimeEntryId"] == entry_id
    ]
    assert posted["feeEarner"] == "PS" and posted["minutes"] == 25 and posted["value"] == 135.42  # 25 min at £325/h
    comments = stack.operate.ok("GET", f"{V1}/{ESTATE_MATTER}/comments")["rows"]
    assert [c["comment"] for c in comments if posted["timeEntryId"] in c["comment"]] == [
        f"Time entry {entry_id} (25 min, Priya Shah) posted to the PMS as {posted['timeEntryId']} on PMS-260101, "
        "value 135.42"
    ]
    stack.stopped("time-submitted")

    hannah = stack.user("hannah.whitfield")  # approving is not submitting: nothing more goes to the PMS
    assert hannah.post(f"/api/time/entry/{entry_id}/state/approve").status_code == 200
    assert len(stack.received("POST", "/api/matters/*")) == 1


def test_invoices_are_sent_to_the_pms_as_their_status_changes(stack):
    """Issued: the invoice is posted and its PMS id written back; part-paid and paid: the status is sent."""
    created = stack.operate.ok(
        "POST",
        V1,
        {
            "workItem": {"sharedoTypeSystemName": "invoice", "title": "Final invoice - supplier framework agreement"},
            "parentSharedoId": FRAMEWORK_MATTER,
            "participants": [{"roleSystemName": "client", "odsId": BRIGHTWATER}],
            "keyDates": {"kd-invoice-due-date": "2026-04-01T00:00:00Z"},
        },
        status=201,
    )
    invoice = created["workItem"]["id"]
    stack.operate.ok(
        "POST",
        f"{V1}/{invoice}/attributes",
        {"netAmount": "2500.00", "vatAmount": "500.00", "grossAmount": "3000.00", "currency": "GBP"},
    )
    assert stack.received(None, "/api/*") == []  # a draft is not sent

    stack.move(invoice, "invoice-issued")
    call = only(stack.received(None, "/api/*"))
    assert (call["method"], call["path"], call["status"]) == ("POST", "/api/matters/PMS-260105/invoices", 201)
    assert call["body"] == {
        "operateInvoiceId": invoice,
        "netAmount": 2500,
        "vatAmount": 500,
        "issuedDate": "2026-03-02",
        "narrative": "Final invoice - supplier framework agreement",
        "dueDate": "2026-04-01",
    }
    pms_invoice = stack.attributes(invoice)["pmsInvoiceReference"]
    issued = stack.pms_json(f"/api/invoices/{pms_invoice}")
    assert issued["operateInvoiceId"] == invoice and issued["status"] == "issued" and issued["grossAmount"] == 3000.0

    stack.forget_requests()
    stack.operate.ok("POST", f"{V1}/{invoice}/attributes/amountPaid", {"value": "1000.00"})
    stack.move(invoice, "invoice-part-paid")
    call = only(stack.received(None, "/api/*"))
    assert (call["method"], call["path"], call["status"]) == ("PUT", f"/api/invoices/{pms_invoice}/status", 200)
    assert call["body"] == {"status": "part-paid", "amountPaid": 1000}
    part_paid = stack.pms_json(f"/api/invoices/{pms_invoice}")
    assert part_paid["status"] == "part-paid" and part_paid["outstanding"] == 2000.0

    stack.forget_requests()
    stack.move(invoice, "invoice-paid")
    call = only(stack.received(None, "/api/*"))
    assert (call["method"], call["path"], call["body"]) == (
        "PUT",
        f"/api/invoices/{pms_invoice}/status",
        {"status": "paid"},
    )
    paid = stack.pms_json(f"/api/invoices/{pms_invoice}")
    assert paid["status"] == "paid" and paid["outstanding"] == 0.0
    assert [e["state"] for e in stack.executions("invoice-status")] == ["STOPPED"] * 3


# ------------------------------------------------------------------------------------------------
# API: the PMS -> Clio Operate
# ------------------------------------------------------------------------------------------------


def test_receive_new_matters_from_the_pms(stack):
    """A matter incepted in the PMS arrives through Operate's API with its reference; nothing is sent back."""
    pms_side = stack.operate
    created = pms_side.ok(
        "POST",
        V1,
        {
            "workItem": {
                "sharedoTypeSystemName": "matter-commercial",
                "title": "Kestrel Software - reseller agreement",
                "description": "Incepted in the PMS",
            },
            "participants": [
                {"roleSystemName": "client", "odsId": KESTREL},
                {"roleSystemName": "fee-earner", "odsId": DANIEL},
                {"roleSystemName": "primary-owner", "odsId": DANIEL},
            ],
            "keyDates": {"kd-instruction-date": "2026-03-02T00:00:00Z"},
        },
        status=201,
    )["workItem"]
    matter = created["id"]
    pms_side.ok(
        "POST",
        f"{V1}/{matter}/attributes",
        {"pmsReference": "PMS-269001", "billingArrangements": "Fixed fee", "estimatedFees": "2500"},
    )
    stack.move(matter, "matter-open")

    found = pms_side.ok(
        "POST",
        f"{V1}/findByQuery",
        {
            "search": {"attributes": [{"key": "pmsReference", "value": "PMS-269001"}]},
            "enrich": [{"path": "title"}, {"path": "phase.systemName"}, {"path": "roles.client.ods.name"}],
        },
    )
    assert found["totalCount"] == 1 and found["results"][0]["id"] == matter
    assert found["results"][0]["data"] == {
        "title": "Kestrel Software - reseller agreement",
        "phase.systemName": "matter-open",
        "roles.client.ods.name": "Kestrel Software",
    }
    execution = stack.stopped("matter-inception")  # the inception plan saw the reference and sent nothing
    assert any("already has PMS reference PMS-269001" in line for line in stack.log(execution))
    assert stack.received("POST", "/api/matters") == []


def test_payment_details_from_the_pms_mark_the_request_paid(stack):
    """The PMS pays the disbursement and PUTs the payment details; a plan moves the request to paid."""
    stack.move(SEARCH_FEE, "payment-request-approved")
    disbursement_id = stack.attributes(SEARCH_FEE)["pmsDisbursementId"]
    paid = stack.pms.put(f"/api/disbursements/{disbursement_id}", json={"paymentReference": "BACS-CLEARVIEW-5531"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    stack.forget_requests()

    response = stack.operate.put(
        f"/api/v1/public/finance/paymentRequest/{SEARCH_FEE}",
        {
            "paymentDetails": {
                "amount": paid.json()["grossAmount"],
                "paidDate": "2026-03-02T09:00:00Z",
                "reference": "BACS-CLEARVIEW-5531",
                "method": "BACS",
            }
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["paymentDetails"]["reference"] == "BACS-CLEARVIEW-5531"

    assert stack.phase(SEARCH_FEE) == "payment-request-paid"
    (moved,) = [e for e in stack.events("sharedo-phase-changed") if e["Data"]["toPhase"] == "payment-request-paid"]
    assert moved["Data"]["fromPhase"] == "payment-request-approved"
    assert moved["Data"]["reason"] == "Paid by the PMS, reference BACS-CLEARVIEW-5531"
    execution = stack.stopped("payment-paid")
    assert any(
        "PR-00001 paid: reference BACS-CLEARVIEW-5531, amount 294.00" in line
        and f"PMS disbursement {disbursement_id}" in line
        for line in stack.log(execution)
    ), stack.log(execution)
    assert stack.received(None, "/api/*") == []  # Operate had nothing to tell the PMS
    assert len(stack.executions("payment-approved")) == 1


def test_suppliers_are_mastered_in_the_pms(stack):
    """Suppliers the PMS holds are created in Operate through the public API; the UI's route refuses them."""
    suppliers = stack.pms_json("/api/suppliers")["suppliers"]
    new = [s for s in suppliers if s["operateOdsId"] is None]
    assert [s["name"] for s in new] == ["HM Land Registry", "HM Courts & Tribunals Service"]

    created = {}
    for supplier in new:
        org = {"name": supplier["name"], "externalReference": supplier["supplierId"], "tags": ["supplier"]}
        refused = stack.operate.post("/api/ods/organisation", org)  # the UI's own route, with every permission
        assert refused.status_code == 403 and "mastered in the PMS" in refused.json()["title"], refused.text
        response = stack.operate.post("/api/v2/public/organisation", org)
        assert response.status_code == 201, response.text
        created[supplier["supplierId"]] = response.json()["id"]

    land_registry = created["SUP-0004"]
    read = stack.operate.ok("GET", f"/api/public/v1/organisation/{land_registry}")
    assert read["name"] == "HM Land Registry" and read["externalReference"] == "SUP-0004"
    assert read["tags"] == ["supplier"]
    renamed = stack.operate.put(f"/api/v2/public/organisation/{land_registry}", {"name": "HM Land Registry (HMLR)"})
    assert renamed.status_code == 200 and renamed.json()["tags"] == ["supplier"], renamed.text
    assert stack.operate.post("/api/v2/public/organisation", {**org, "name": "again"}).status_code == 409

    events = [(e["eventType"], e["Data"]["odsId"]) for e in stack.events("ods-entity-created")]
    events += [(e["eventType"], e["Data"]["odsId"]) for e in stack.events("ods-entity-updated")]
    assert events == [
        ("ods-entity-created", created["SUP-0004"]),
        ("ods-entity-created", created["SUP-0005"]),
        ("ods-entity-updated", land_registry),
    ]
    search = stack.user("priya.shah").post(
        "/api/ods/_search", {"searchString": "Land Registry", "odsEntityTypes": ["organisation"]}
    )
    assert search.status_code == 200, search.text
    assert [json.loads(row["result"])["id"] for row in search.json()["rows"]] == [land_registry]


def test_actual_fees_from_the_pms_alert_at_80_and_100_percent(stack):
    """The PMS sends a matter's billed fees as they grow; Operate alerts once at 80 % and once at 100 %."""
    fees_url = f"{V1}/{LEASE_MATTER}/finance/fees"

    def push_actual_fees() -> dict[str, Any]:  # what the PMS's workflow does after recording fees
        actual = stack.pms_json("/api/matters/PMS-260103/actual-fees")["actualFees"]
        return stack.operate.ok("PUT", fees_url, {"actualFees": actual})

    def bill(n: int, net: float) -> None:  # an invoice raised in the PMS itself (the PMS wants an Operate id)
        body = {"operateInvoiceId": f"raised-in-pms-{n}", "netAmount": net, "vatAmount": net / 5}
        assert stack.pms.post("/api/matters/PMS-260103/invoices", json=body).status_code == 201

    assert push_actual_fees()["percentOfEstimate"] == 30.0  # 2400 of 8000, as seeded on both sides
    bill(1, 4000)
    at_80 = push_actual_fees()
    assert at_80["actualFees"] == "6400.00" and at_80["lastAlert"] == "80%" and at_80["percentOfEstimate"] == 80.0
    bill(2, 1000)
    assert push_actual_fees()["lastAlert"] == "80%"  # 92.5 %: no new alert
    bill(3, 600)
    at_100 = push_actual_fees()
    assert at_100["actualFees"] == "8000.00" and at_100["lastAlert"] == "100%"
    assert push_actual_fees()["percentOfEstimate"] == 100.0  # sent again: no second alert

    alerts = stack.events("actual-fees-threshold-crossed")
    assert [(e["Data"]["sharedoId"], e["Data"]["threshold"], e["Data"]["actualFees"]) for e in alerts] == [
        (LEASE_MATTER, 80, "6400.00"),
        (LEASE_MATTER, 100, "8000.00"),
    ]
    notes = [c["comment"] for c in stack.operate.ok("GET", f"{V1}/{LEASE_MATTER}/comments")["rows"]]
    assert sorted(n.split(" (")[0] for n in notes if "of the estimate" in n) == [
        "Actual fees 6400.00 have reached 80% of the estimate 8000.00",
        "Actual fees 8000.00 have reached 100% of the estimate 8000.00",
    ]


# ------------------------------------------------------------------------------------------------
# Widgets: Clio Operate -> the PMS's API, live, through the proxy with the user's own token
# ------------------------------------------------------------------------------------------------


def widget_get(user: Operate, matter: str, report: str, **query: str) -> dict[str, Any]:
    """What a matter-portal widget does: read the matter's pmsReference, then ask the PMS through the proxy."""
    reference = user.ok("GET", f"{V1}/{matter}/attributes/pmsReference")["value"]
    response = user.get(f"/api/proxy/demo-pms/_/api/matters/{reference}/{report}", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_wip_widget_shows_the_pms_balances(stack):
    """The WIP widget shows what the PMS holds, and follows time sent to it."""
    priya = stack.user("priya.shah")
    wip = widget_get(priya, ESTATE_MATTER, "wip")
    assert wip == stack.pms_json("/api/matters/PMS-260101/wip")
    assert wip["unbilledMinutes"] == 438 and wip["total"] > 0
    proxied = stack.received("GET", "/api/matters/PMS-260101/wip")[0]
    assert proxied["headers"]["X-Api-Key"] == "<redacted>"  # the proxy put the PMS key in...
    assert "Authorization" not in proxied["headers"]  # ...and Priya's Operate token never reaches the PMS

    entry = priya.post(
        "/api/v2/public/time/entry",
        {
            "sharedoId": ESTATE_MATTER,
            "odsId": PRIYA,
            "durationSeconds": 3600,
            "segments": [{"id": "activity", "timeCodeId": "A106"}, {"id": "narrative", "segmentValue": "Call"}],
        },
    ).json()
    assert priya.post(f"/api/v2/public/time/entry/{entry['id']}/submit").status_code == 200
    after = widget_get(priya, ESTATE_MATTER, "wip")
    assert after == stack.pms_json("/api/matters/PMS-260101/wip")
    assert after["unbilledMinutes"] == wip["unbilledMinutes"] + 60
    assert after["unbilledTime"] == pytest.approx(wip["unbilledTime"] + 325.0)


def test_aged_debt_widget_follows_the_one_clock(stack):
    """The aged-debt widget matches the PMS; 31 days on Operate's clock move an invoice to the next bucket."""
    priya = stack.user("priya.shah")

    def bucket(report: dict[str, Any], invoice: str) -> tuple[str, int]:
        (row,) = [r for r in report["invoices"] if r["invoiceId"] == invoice]
        return row["bucket"], row["daysOverdue"]

    before = widget_get(priya, FRAMEWORK_MATTER, "aged-debt", detail="true")
    assert before == stack.pms_json("/api/matters/PMS-260105/aged-debt", detail="true")
    assert bucket(before, "PMS-INV-40031") == ("0-30", 5)  # INV-00001 in Operate
    assert {b["label"]: b["amount"] for b in before["buckets"]} == {"0-30": 3600.0, "31-60": 0, "61-90": 0, "90+": 0}

    stack.operate.ok("POST", "/api/_emulator/clock", {"advance": "P31D"})

    after = widget_get(priya, FRAMEWORK_MATTER, "aged-debt", detail="true")  # Priya's token expired: renewed
    assert after == stack.pms_json("/api/matters/PMS-260105/aged-debt", detail="true")
    assert after["asOf"] == "2026-04-02T09:00:00.000Z"
    assert bucket(after, "PMS-INV-40031") == ("31-60", 36)
    assert {b["label"]: b["amount"] for b in after["buckets"]} == {"0-30": 0, "31-60": 3600.0, "61-90": 0, "90+": 0}


# ------------------------------------------------------------------------------------------------
# Faults: the PMS fails, the execution errors with a clear message, a retry sends nothing twice
# ------------------------------------------------------------------------------------------------

DISBURSEMENTS = "/api/matters/PMS-260102/disbursements"


def disbursements_for(stack: Stack, payment_request: str) -> list[dict[str, Any]]:
    found = stack.pms_json(DISBURSEMENTS)["disbursements"]
    return [d for d in found if d["operatePaymentRequestId"] == payment_request]


def assert_errored_and_unchanged(stack: Stack, *fragments: str) -> dict[str, Any]:
    execution = stack.only_execution("payment-approved")
    assert execution["state"] == "ERRORED", execution
    message = execution["lastErrored"]
    assert "Sending PR-00001 to the PMS as a disbursement on PMS-260102 failed" in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "pmsDisbursementId" not in stack.attributes(SEARCH_FEE)
    assert stack.phase(SEARCH_FEE) == "payment-request-approved"
    return execution


def test_a_pms_5xx_errors_the_execution_and_a_retry_sends_one_disbursement(stack):
    fault = stack.pms.post(
        "/_fake/faults", json={"route": "/api/matters/*/disbursements", "method": "POST", "status": 503}
    )
    assert fault.status_code == 201, fault.text
    stack.move(SEARCH_FEE, "payment-request-approved")

    execution = assert_errored_and_unchanged(stack, "503 ServiceUnavailable", "injected fault")
    assert disbursements_for(stack, SEARCH_FEE) == []  # the route never ran

    assert stack.pms.delete("/_fake/faults").status_code == 200
    retried = stack.retry(execution)
    assert retried["state"] == "STOPPED", retried
    (disbursement,) = disbursements_for(stack, SEARCH_FEE)
    assert stack.attributes(SEARCH_FEE)["pmsDisbursementId"] == disbursement["disbursementId"]
    assert [r["status"] for r in stack.received("POST", DISBURSEMENTS)] == [503, 201]


def test_a_slow_pms_is_a_504_and_a_retry_after_it_recovers_duplicates_nothing(stack):
    stack.point_pms(timeout_seconds=0.3)
    fault = stack.pms.post(
        "/_fake/faults", json={"route": "/api/matters/*/disbursements", "method": "POST", "delaySeconds": 1.5}
    )
    assert fault.status_code == 201, fault.text
    stack.move(SEARCH_FEE, "payment-request-approved")

    execution = assert_errored_and_unchanged(stack, "504 GatewayTimeout", "did not answer within 0.3 s")
    # A slow PMS still does the work once it answers (to nobody): wait, bounded, for it to finish.
    deadline = time.monotonic() + 15
    while stack.received("POST", DISBURSEMENTS)[0]["status"] is None:
        assert time.monotonic() < deadline, "the slow PMS request never finished"
        time.sleep(0.05)
    assert len(disbursements_for(stack, SEARCH_FEE)) == 1  # in the PMS, though Operate does not know it

    assert stack.pms.delete("/_fake/faults").status_code == 200
    retried = stack.retry(execution)
    assert retried["state"] == "STOPPED", retried
    (disbursement,) = disbursements_for(stack, SEARCH_FEE)  # idempotent on operatePaymentRequestId
    assert stack.attributes(SEARCH_FEE)["pmsDisbursementId"] == disbursement["disbursementId"]
    # the resend carries the first attempt's Idempotency-Key: the PMS answers it with its first answer, acting once
    sent = stack.received("POST", DISBURSEMENTS)
    assert [r["status"] for r in sent] == [201, 201]
    keys = [{k.lower(): v for k, v in r["headers"].items()}.get("idempotency-key") for r in sent]
    assert keys[0] and keys[0] == keys[1], keys


def test_a_pms_answering_malformed_json_errors_the_execution_and_a_retry_duplicates_nothing(stack):
    fault = stack.pms.post(
        "/_fake/faults",
        json={"route": "/api/matters/*/disbursements", "method": "POST", "malformed": True, "times": 1},
    )
    assert fault.status_code == 201, fault.text
    stack.move(SEARCH_FEE, "payment-request-approved")

    execution = stack.only_execution("payment-approved")
    assert execution["state"] == "ERRORED", execution
    assert "PR-00001" in execution["lastErrored"], execution["lastErrored"]
    assert "pmsDisbursementId" not in stack.attributes(SEARCH_FEE)  # nothing written from a garbled answer
    assert len(disbursements_for(stack, SEARCH_FEE)) == 1  # the PMS did the work; only its answer was lost

    retried = stack.retry(execution)  # the fault was for one answer only
    assert retried["state"] == "STOPPED", retried
    (disbursement,) = disbursements_for(stack, SEARCH_FEE)  # still one: idempotent on operatePaymentRequestId
    assert stack.attributes(SEARCH_FEE)["pmsDisbursementId"] == disbursement["disbursementId"]


def test_a_pms_that_is_down_is_a_502_and_a_retry_once_it_is_back_succeeds(stack):
    stack.stop_pms()
    stack.move(SEARCH_FEE, "payment-request-approved")

    execution = assert_errored_and_unchanged(stack, "502 BadGateway", "unreachable")

    stack.start_pms()  # back, on another port: demo-pms is pointed at it again
    retried = stack.retry(execution)
    assert retried["state"] == "STOPPED", retried
    (disbursement,) = disbursements_for(stack, SEARCH_FEE)
    assert stack.attributes(SEARCH_FEE)["pmsDisbursementId"] == disbursement["disbursementId"]
    assert len(stack.received("POST", DISBURSEMENTS)) == 1


# ------------------------------------------------------------------------------------------------
# An emulator problem these tests ran into (worked around in the `stack` fixture)
# ------------------------------------------------------------------------------------------------

CLOSE_AFTER_SERVED_PLANS = """
import dataclasses, tempfile, threading
from datetime import datetime, timezone
from pathlib import Path
import httpx
from werkzeug.serving import make_server
from emulator.app import create_app
from emulator.settings import Settings
from pms_adapters.fakes.demo_pms.server import build_server

start = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()), demo=True, clock="virtual", clock_start=start))
em = app.extensions["operate"]
pms = build_server("127.0.0.1", 0, "demo-pms-key", clock=em.clock)
threading.Thread(target=pms.serve_forever, daemon=True).start()
service = em.linked_services.services["demo-pms"]
em.linked_services.add(dataclasses.replace(service, base_url=f"http://127.0.0.1:{pms.server_port}"))
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=60, trust_env=False) as operate:
    grant = {"grant_type": "client_credentials", "scope": "sharedo"}
    token = operate.post("/connect/token", data=grant, auth=("demo-client", "demo-secret")).json()["access_token"]
    operate.headers["Authorization"] = f"Bearer {token}"
    entry = operate.post("/api/v2/public/time/entry", json={
        "sharedoId": "3c000000-0000-4000-8000-000000000001", "odsId": "1a000000-0000-4000-8000-000000000001",
        "startDateTime": "2026-03-02T09:00:00Z", "durationSeconds": 1500,
        "segments": [{"id": "activity", "timeCodeId": "A103"}, {"id": "narrative", "segmentValue": "Drafting"}],
    }).json()
    assert operate.post(f"/api/v2/public/time/entry/{entry['id']}/submit").status_code == 200
    states = [e["state"] for e in operate.get("/api/executionengine/plans/executing").json()]
server.shutdown(); server.server_close(); pms.shutdown(); pms.server_close()
print("plans ran on a server thread:", states, flush=True)
em.close()
print("closed cleanly", flush=True)
"""


def test_the_emulator_closes_cleanly_after_plans_ran_on_a_server_thread():
    """Emulator.close() must not crash the process when plans ran on a server's request thread (as they do under
    `operate serve` and in every test that serves the app on a port). Run in a child process: it segfaults."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", CLOSE_AFTER_SERVED_PLANS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "plans ran on a server thread: ['STOPPED']" in done.stdout, done.stdout + done.stderr[-3000:]
    assert done.returncode == 0 and "closed cleanly" in done.stdout, (
        f"EMULATOR BUG: Emulator.close() killed the process (return code {done.returncode}; -11 is SIGSEGV) after "
        "a SmartPlan ran on a server thread. smartplans.runtime.Runtime creates its MiniRacer (V8) context lazily on "
        "whichever thread first runs a step (here a werkzeug request thread; under `operate serve` the dispatcher "
        "or resume thread) and Runtime.close() frees it from the thread calling Emulator.close(); V8 then crashes "
        "in Isolate teardown (v8::internal::MainAllocator::FreeLinearAllocationArea). `operate serve --demo` "
        "segfaults the same way on SIGTERM once the time-submitted plan has run.\n"
        f"stdout: {done.stdout[-1000:]}\nstderr (tail): {done.stderr[-1500:]}"
    )
