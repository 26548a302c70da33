"""Seed 002's PMS → Operate patterns, driven only from the PMS side, on the one virtual clock.

The demo PMS (in process, `fake = "demo"`) incepts matters, pays disbursements, receives invoice payments
and keeps suppliers; its delivery worker (`pms_adapters/fakes/demo_pms/delivery.py`, a cron job on the emulator's
scheduler) sends each to Operate's public API with the PMS's own OAuth client (`demo-pms`, client
credentials). Each test acts on the PMS (its API, its CLI or its web page) and moves the clock: nothing
calls Operate by hand. Hostile cases: users trying a transition the solution reserves for the
integration, supplier tags spelled every way, and deliveries that fail (Operate down or refusing).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pms_adapters.fakes.demo_pms.app import create_app as create_pms
from tests.helpers.paths import ROOT

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
    from tests.helpers.web_support import hidden, sign_in

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


# -- 3. invoice receipts recorded in the PMS move the Operate invoice on ---------------------------------

FRAMEWORK_INVOICE = "6f000000-0000-4000-8000-000000000001"  # INV-00001 = PMS-INV-40031, issued, gross 3,600


def test_receipts_in_the_pms_move_the_operate_invoice_to_part_paid_then_paid(operate, pms):
    assert _phase(operate, FRAMEWORK_INVOICE) == "invoice-issued"
    pms.call("POST", "/api/invoices/PMS-INV-40031/payments", {"amount": 1000, "reference": "BACS KESTREL 1"}, 201)
    operate.advance("PT1M")
    assert _phase(operate, FRAMEWORK_INVOICE) == "invoice-part-paid"
    assert operate.attribute(FRAMEWORK_INVOICE, "amountPaid") == "1000.00"

    book = pms.call(
        "POST", "/api/invoices/PMS-INV-40031/payments", {"amount": 2600, "reference": "BACS KESTREL 2"}, 201
    )
    assert book["status"] == "paid" and book["outstanding"] == 0
    operate.advance("PT1M")

    paid = operate.assert_event("sharedo-phase-changed", sharedoId=FRAMEWORK_INVOICE, toPhase="invoice-paid")
    assert paid["Data"]["fromPhase"] == "invoice-part-paid" and "3600.00 received in the PMS" in paid["Data"]["reason"]
    assert _phase(operate, FRAMEWORK_INVOICE) == "invoice-paid"
    assert operate.attribute(FRAMEWORK_INVOICE, "amountPaid") == "3600.00"
    # Operate's invoice plan ran on each move and told the PMS what it already knew: nothing changed there.
    runs = operate.executions(plan="invoice-status", sharedo_id=FRAMEWORK_INVOICE)
    assert [e["state"] for e in runs] == ["STOPPED", "STOPPED"], operate.describe()
    invoice = pms.call("GET", "/api/invoices/PMS-INV-40031")
    assert invoice["status"] == "paid" and [r["amount"] for r in invoice["receipts"]] == [1000, 2600]
    assert [d["state"] for d in pms.deliveries(kind="invoice")] == ["delivered", "delivered"]
    operate.advance("PT1H")
    assert len([e for e in operate.events("sharedo-phase-changed") if e["Data"]["sharedoId"] == FRAMEWORK_INVOICE]) == 2


# -- 7. suppliers created or changed in the PMS reach the ODS through the public API ---------------------


def _organisations(operate, external_reference: str) -> list[dict[str, Any]]:
    import json

    with operate.emulator.store.read() as conn:
        rows = conn.execute("SELECT body FROM ods WHERE kind='organisation'").fetchall()
    return [o for o in (json.loads(r[0]) for r in rows) if o.get("externalReference") == external_reference]


def test_a_supplier_created_then_changed_in_the_pms_is_created_then_updated_in_operate(operate, pms):
    new = pms.call("POST", "/api/suppliers", {"name": "Swift Process Servers", "category": "other",
                                             "vatNumber": "GB300400500", "paymentTermsDays": 14}, 201)  # fmt: skip
    supplier = new["supplierId"]
    assert supplier == "SUP-0006" and new["operateOdsId"] is None
    operate.advance("PT1M")
    (org,) = _organisations(operate, supplier)
    assert org["name"] == "Swift Process Servers" and org["tags"] == ["supplier"] and org["vatNumber"] == "GB300400500"
    operate.assert_event("ods-entity-created", odsId=org["id"])
    assert pms.call("GET", f"/api/suppliers/{supplier}")["operateOdsId"] == org["id"]

    pms.call("PUT", f"/api/suppliers/{supplier}", {"name": "Swift Process Servers Ltd", "paymentTermsDays": 30})
    operate.advance("PT1M")
    (changed,) = _organisations(operate, supplier)
    assert changed["id"] == org["id"] and changed["name"] == "Swift Process Servers Ltd"
    assert changed["paymentTermsDays"] == 30 and changed["tags"] == ["supplier"]
    operate.assert_event("ods-entity-updated", odsId=org["id"])
    assert [d["state"] for d in pms.deliveries(kind="supplier")] == ["delivered", "delivered"]
    # A seeded supplier Operate already holds is updated in place, by the ODS id the PMS knows.
    pms.call("PUT", "/api/suppliers/SUP-0003", {"paymentTermsDays": 21})
    operate.advance("PT1M")
    (clearview,) = _organisations(operate, "SUP-0003")
    assert clearview["id"] == "2b000000-0000-4000-8000-000000000006" and clearview["paymentTermsDays"] == 21
    # The PMS refuses what it cannot file, naming the field; nothing is queued.
    refused = pms.client.post("/api/suppliers", json={"category": "other"}, headers=PMS_KEY)
    assert refused.status_code == 400 and refused.json["field"] == "name"
    refused = pms.client.put("/api/suppliers/SUP-0006", json={"category": "wizard"}, headers=PMS_KEY)
    assert refused.status_code == 400 and refused.json["field"] == "category"
    assert pms.client.put("/api/suppliers/SUP-9999", json={}, headers=PMS_KEY).status_code == 404
    assert len(pms.deliveries(kind="supplier")) == 3


# -- deliveries that fail: Operate down, refusing, or an answer lost -- retried with a bound, never twice ---


class Network(httpx.BaseTransport):
    """The wire between the PMS and Operate (the real app behind it): `down` refuses every connection;
    `lose(method, path, n)` lets Operate do the next n matching calls but loses their answers, as a
    connection reset after the server committed does; `refuse(method, path, status, n)` answers for
    Operate's load balancer with `status`, without reaching it. A path ending in `*` matches any path
    containing what comes before the `*`; any other path matches itself only."""

    def __init__(self, app: Any) -> None:
        self.app = httpx.WSGITransport(app=app)
        self.down = False
        self.rules: list[list[Any]] = []
        self.seen: list[tuple[str, str, int | None]] = []

    def lose(self, method: str, path_part: str, times: int = 1) -> None:
        self.rules.append([method, path_part, "lose", times])

    def refuse(self, method: str, path_part: str, status: int, times: int = 1) -> None:
        self.rules.append([method, path_part, status, times])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.seen.append((request.method, request.url.path, None))
            raise httpx.ConnectError("connection refused", request=request)
        for rule in self.rules:
            method, part, what, times = rule
            path = request.url.path
            matches = part[:-1] in path if part.endswith("*") else part == path
            if times > 0 and request.method == method and matches:
                rule[3] -= 1
                if what == "lose":
                    response = self.app.handle_request(request)
                    response.read()
                    self.seen.append((request.method, request.url.path, response.status_code))
                    raise httpx.ReadError("connection reset before the answer arrived", request=request)
                self.seen.append((request.method, request.url.path, what))
                return httpx.Response(what, json={"title": f"Operate is unavailable ({what})"}, request=request)
        response = self.app.handle_request(request)
        self.seen.append((request.method, request.url.path, response.status_code))
        return response


@pytest.fixture
def network(operate):
    """The PMS's worker talks to Operate over `Network`; put back on the direct line afterwards."""
    from emulator.integrations.demo_pms import IN_PROCESS_URL
    from pms_adapters.fakes.demo_pms.delivery import OperateApi

    wire = Network(operate.app)
    deliveries = operate.emulator.pms_deliveries
    worker = deliveries.workers["demo-pms"]
    worker.connect(OperateApi(IN_PROCESS_URL, "demo-pms", "demo-pms-secret", transport=wire))
    try:
        yield wire
    finally:
        deliveries.connect(operate.app)


def _incept(pms: Pms, title: str = "Kestrel - data room review") -> str:
    body = {"title": title, "clientId": "CLI-0006", "feeEarner": "PS"}
    return pms.call("POST", "/api/matters/incept", body, status=201)["pmsReference"]


def _matters_for(operate, ref: str) -> list[str]:
    found = operate.api().post(f"{V1}/findByQuery", {"search": {"externalReference": ref}}).json["results"]
    return [r["id"] for r in found]


def test_a_delivery_while_operate_is_down_is_retried_on_the_clock_then_given_up(operate, pms, network):
    from pms_adapters.fakes.demo_pms.outbox import MAX_ATTEMPTS, RETRY_MINUTES

    ref = _incept(pms)
    network.down = True
    operate.advance("PT1M")
    (item,) = pms.deliveries(kind="matter")
    assert item["state"] == "pending" and item["attempts"] == 1 and "cannot reach Operate" in item["lastError"]
    # Each wait is on the clock: one more attempt per wait, none in between.
    for attempt, wait in enumerate(RETRY_MINUTES[:-1], start=2):
        operate.advance(f"PT{wait - 1}M") if wait > 1 else None
        assert pms.deliveries(kind="matter")[0]["attempts"] == attempt - 1
        operate.advance("PT1M")
        assert pms.deliveries(kind="matter")[0]["attempts"] == attempt
    operate.advance(f"PT{RETRY_MINUTES[-1]}M")
    (item,) = pms.deliveries(kind="matter")
    assert item["state"] == "failed" and item["attempts"] == MAX_ATTEMPTS and item["nextAttemptAt"] is None
    tried = len(network.seen)
    operate.advance("P1D")
    assert len(network.seen) == tried  # given up: no more calls
    assert _matters_for(operate, ref) == [] and not operate.events("sharedo-created")

    # Operate is back; someone retries the delivery from the PMS's controls: one matter, open and linked.
    network.down = False
    assert pms.client.post(f"/_fake/deliveries/{item['id']}/retry").status_code == 200
    operate.advance("PT1M")
    (work_item,) = _matters_for(operate, ref)
    assert delivered(pms, "matter", ref)["operateId"] == work_item
    assert operate.attribute(work_item, "pmsReference") == ref and _phase(operate, work_item) == "matter-open"
    operate.assert_pms_received("POST", "/api/matters", count=0)


def test_a_lost_answer_or_a_refusal_mid_delivery_never_makes_a_second_matter(operate, pms, network):
    ref = _incept(pms)
    network.lose("POST", "/api/v1/public/workItem", times=1)  # Operate creates it; the PMS never hears
    operate.advance("PT1M")
    (item,) = pms.deliveries(kind="matter")
    assert item["state"] == "pending" and "connection reset" in item["lastError"]
    assert len(_matters_for(operate, ref)) == 1  # made, but unlinked so far
    network.refuse("PUT", "/phase*", 503, times=1)  # the next attempt fails later, at the open
    operate.advance("PT1M")
    (item,) = pms.deliveries(kind="matter")
    assert item["state"] == "pending" and "503" in item["lastError"] and item["attempts"] == 2
    operate.advance("PT2M")
    (work_item,) = _matters_for(operate, ref)  # still one: each attempt found the one made before
    assert delivered(pms, "matter", ref)["attempts"] == 3
    assert [m for m, p, _ in network.seen if m == "POST" and p == V1] == ["POST"]
    assert len(operate.events("sharedo-created")) == 1
    assert (
        _phase(operate, work_item) == "matter-open" and pms.call("GET", f"/api/matters/{ref}")["operateId"] == work_item
    )
    operate.assert_execution("matter-inception", sharedo_id=work_item)
    operate.assert_pms_received("POST", "/api/matters", count=0)


def test_a_lost_answer_never_makes_a_second_supplier_nor_a_second_payment(operate, pms, network):
    supplier = pms.call("POST", "/api/suppliers", {"name": "Swift Process Servers"}, 201)["supplierId"]
    network.lose("POST", "/api/v2/public/organisation", times=1)
    operate.advance("PT1M")
    assert len(_organisations(operate, supplier)) == 1 and pms.deliveries(kind="supplier")[0]["state"] == "pending"
    operate.advance("PT1M")
    (org,) = _organisations(operate, supplier)
    assert delivered(pms, "supplier", supplier)["operateId"] == org["id"]
    assert len([e for e in operate.events("ods-entity-created") if e["Data"]["odsId"] == org["id"]]) == 1

    operate.move(SEARCH_FEE, "payment-request-approved")
    disbursement = operate.attribute(SEARCH_FEE, "pmsDisbursementId")
    pms.call("PUT", f"/api/disbursements/{disbursement}", {"paymentReference": "BACS-1"})
    network.lose("PUT", "/finance/paymentRequest/*", times=1)
    operate.advance("PT1M")
    operate.advance("PT1M")
    assert delivered(pms, "payment", disbursement)["attempts"] == 2
    assert len(operate.events("payment-details-updated")) == 1  # the retry saw the payment there already
    operate.assert_execution("payment-paid", sharedo_id=SEARCH_FEE)


def test_operate_refusing_the_pms_client_is_a_failed_delivery_that_says_so(operate, pms):
    from emulator.integrations.demo_pms import IN_PROCESS_URL
    from pms_adapters.fakes.demo_pms.delivery import OperateApi

    worker = operate.emulator.pms_deliveries.workers["demo-pms"]
    worker.connect(
        OperateApi(IN_PROCESS_URL, "demo-pms", "not-the-secret", transport=httpx.WSGITransport(app=operate.app))
    )
    try:
        ref = _incept(pms)
        operate.advance("PT1M")
        (item,) = pms.deliveries(kind="matter")
        assert "Operate refused the PMS's client 'demo-pms'" in item["lastError"] and item["state"] == "pending"
        assert _matters_for(operate, ref) == []
    finally:
        operate.emulator.pms_deliveries.connect(operate.app)
    operate.advance("PT1M")
    assert len(_matters_for(operate, ref)) == 1


# -- the PMS's own command line: `operate pms open-matter`, `add-supplier`, `deliveries` -------------------


@pytest.fixture
def pms_url(operate):
    """The demo PMS the emulator mounts, on a loopback port (as `operate serve --demo` serves it)."""
    import threading

    from emulator.kernel.http_server import WsgiServer

    server = WsgiServer(create_pms(operate.pms), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        stopper.join(timeout=10)
        thread.join(timeout=10)
        server.server_close()


def cli(*args: str) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", "pms", *args], capture_output=True, text=True, timeout=120
    )


def test_the_pms_command_line_opens_a_matter_and_adds_a_supplier_that_reach_operate(operate, pms_url):
    import json

    matter = ["--title", "Tulloch - probate", "--client-id", "CLI-0003", "--fee-earner", "daniel.okafor"]
    opened = cli(
        "open-matter", "--pms-url", pms_url, *matter, "--practice-area", "private-client", "--estimate", "2500"
    )
    assert opened.returncode == 0, opened.stderr
    ref = json.loads(opened.stdout)["pmsReference"]
    assert "sends this to Operate within a minute" in opened.stderr
    added = cli("add-supplier", "--pms-url", pms_url, "--name", "Swift Process Servers", "--category", "other")
    assert added.returncode == 0, added.stderr
    supplier = json.loads(added.stdout)["supplierId"]
    pending = cli("deliveries", "--pms-url", pms_url, "--state", "pending")
    assert [(d["kind"], d["subject"]) for d in json.loads(pending.stdout)["deliveries"]] == [
        ("matter", ref),
        ("supplier", supplier),
    ]
    operate.advance("PT1M")

    (work_item,) = _matters_for(operate, ref)
    item = operate.work_item(work_item)["workItem"]
    assert item["sharedoTypeSystemName"] == "matter-private-client" and item["phaseSystemName"] == "matter-open"
    assert operate.attribute(work_item, "pmsReference") == ref
    operate.assert_execution("matter-inception", sharedo_id=work_item)
    operate.assert_pms_received("POST", "/api/matters", count=0)
    (org,) = _organisations(operate, supplier)
    assert org["tags"] == ["supplier"]
    done = json.loads(cli("deliveries", "--pms-url", pms_url, "--state", "delivered").stdout)["deliveries"]
    assert {d["operateId"] for d in done} == {work_item, org["id"]}

    refused = cli("open-matter", "--pms-url", pms_url, "--title", "x", "--client-id", "CLI-0003", "--fee-earner", "ZZ")
    assert refused.returncode == 1 and "feeEarner: no fee earner 'ZZ'" in refused.stderr


# -- the PMS's page in the emulator: open a matter there, watch the delivery -------------------------------


def test_a_matter_opened_on_the_pms_page_reaches_operate_and_the_page_shows_the_delivery(operate):
    from tests.helpers.web_support import hidden, sign_in

    browser = operate.app.test_client()
    page = sign_in(browser, "priya.shah", "/pms/demo-pms")
    assert 'id="open-matter"' in page.text and "Nothing yet: the PMS owes Operate nothing." in page.text
    form = {"csrf": hidden(page.text, "csrf"), "title": "Ellison - <b>lease</b> review", "clientId": "CLI-0001",
            "feeEarner": "TB", "practiceArea": "private-client"}  # fmt: skip
    posted = browser.post("/pms/demo-pms/matters", data=form)
    assert posted.status_code == 303
    after = browser.get(posted.location).text
    (ref,) = [m.reference for m in operate.pms.matters.values() if m.title == "Ellison - <b>lease</b> review"]
    assert f"opened {ref} in the PMS" in after and 'data-state="pending"' in after
    assert "<b>lease</b>" not in after  # the title is text on the page
    operate.advance("PT1M")
    (work_item,) = _matters_for(operate, ref)
    assert _phase(operate, work_item) == "matter-open" and operate.attribute(work_item, "pmsReference") == ref
    page = browser.get("/pms/demo-pms").text
    assert 'data-state="delivered"' in page and f'href="/workitems/{work_item}"' in page
    bad = browser.post("/pms/demo-pms/matters", data={**form, "feeEarner": "ZZ"})
    assert "400: feeEarner: no fee earner" in browser.get(bad.location).text
    anonymous = operate.app.test_client()
    refused = anonymous.post("/pms/demo-pms/matters", data=form)
    assert refused.status_code == 403  # no CSRF cookie, no sign-in: nothing opened
    assert len([m for m in operate.pms.matters.values() if m.title == form["title"]]) == 1


def test_the_readme_table_of_the_ten_patterns_names_tests_that_exist():
    import ast
    import re

    root = ROOT
    readme = (root / "README.md").read_text("utf-8")
    section = readme.split("### The ten finance patterns", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| pattern")]
    assert len(rows) == 11  # the ten, with the invoice status coming back as a row of its own
    for row in rows:
        (test,) = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row)
        tree = ast.parse((root / test[0]).read_text("utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert test[1] in names, f"README names {test[0]}::{test[1]}, which does not exist"


# -- Fees - Actual Fees: billing in the PMS sends the matter's balance; Operate alerts at 80 % and 100 % -----

LEASE_MATTER = "3c000000-0000-4000-8000-000000000003"  # MAT-00003 = PMS-260103, estimate 8,000, actual 2,400


def test_fees_billed_in_the_pms_reach_operate_and_alert_at_80_then_100_percent(operate, pms):
    fees = f"{V1}/{LEASE_MATTER}/finance/fees"
    before = operate.api().get(fees).json
    assert (float(before["estimatedFees"]), float(before["actualFees"])) == (8000, 2400)
    assert pms.call("GET", "/api/matters/PMS-260103/actual-fees")["actualFees"] == 2400
    # The finance team bills the matter in the PMS: 6,400 billed, 80 % of the estimate.
    pms.call("POST", "/api/matters/PMS-260103/invoices", {"operateInvoiceId": "pms-bill-1", "netAmount": 4000}, 201)
    operate.advance("PT1M")
    assert operate.api().get(fees).json["actualFees"] == "6400.00"
    alert = operate.assert_event("actual-fees-threshold-crossed", sharedoId=LEASE_MATTER, threshold=80)
    assert alert["Data"]["actualFees"] == "6400.00"
    pms.call("POST", "/api/matters/PMS-260103/invoices", {"operateInvoiceId": "pms-bill-2", "netAmount": 1600}, 201)
    operate.advance("PT1M")
    operate.assert_event("actual-fees-threshold-crossed", sharedoId=LEASE_MATTER, threshold=100)
    assert operate.api().get(fees).json["lastAlert"] == "100%"
    assert [d["state"] for d in pms.deliveries(kind="fees")] == ["delivered", "delivered"]
    operate.advance("PT1H")
    assert len(operate.events("actual-fees-threshold-crossed")) == 2  # once each, nothing sent again


def test_a_failed_delivery_is_shown_on_the_pms_page_and_sent_again_from_there(operate, pms, network):
    from tests.helpers.web_support import hidden, sign_in

    ref = _incept(pms)
    network.down = True
    for _ in range(6):  # each wait is at most 30 minutes: one attempt per move
        operate.advance("PT30M")
    (item,) = pms.deliveries(kind="matter")
    assert item["state"] == "failed" and item["attempts"] == 6
    browser = operate.app.test_client()
    page = sign_in(browser, "priya.shah", "/pms/demo-pms")
    assert f'data-delivery="{item["id"]}" data-state="failed"' in page.text and "Send again" in page.text
    assert "cannot reach Operate" in page.text
    network.down = False
    sent = browser.post(f"/pms/demo-pms/deliveries/{item['id']}/retry", data={"csrf": hidden(page.text, "csrf")})
    assert "is pending" in browser.get(sent.location).text
    operate.advance("PT1M")
    (work_item,) = _matters_for(operate, ref)
    assert delivered(pms, "matter", ref)["operateId"] == work_item
    missing = browser.post("/pms/demo-pms/deliveries/DLV-404/retry", data={"csrf": hidden(page.text, "csrf")})
    assert "404: no delivery" in browser.get(missing.location).text


def test_a_pms_client_the_solution_does_not_register_is_named_at_load(tmp_path):
    import shutil

    from emulator.app import create_app
    from emulator.settings import Settings
    from emulator.solution.loading import SolutionError, demo_solution_path

    root = tmp_path / "sol"
    shutil.copytree(demo_solution_path(), root)
    toml = root / "operate.toml"
    toml.write_text(toml.read_text().replace('operate_client_id = "demo-pms"', 'operate_client_id = "nobody"'))
    with pytest.raises(SolutionError, match=r"operate_client_id 'nobody' is no client in \[clients\]"):
        create_app(Settings(data_dir=tmp_path / "d", solution=root))


def test_an_answer_of_an_unexpected_shape_is_a_counted_failed_attempt_not_a_loop(operate, pms, network):
    ref = _incept(pms)
    network.refuse("POST", V1, 201, times=1)  # "201" with a body that is no work item
    operate.advance("PT1M")
    (item,) = pms.deliveries(kind="matter")
    assert item["state"] == "pending" and item["attempts"] == 1 and "unexpected KeyError" in item["lastError"]
    operate.advance("PT1M")
    (work_item,) = _matters_for(operate, ref)
    assert delivered(pms, "matter", ref)["operateId"] == work_item


COUNSEL_FEE = "5e000000-0000-4000-8000-000000000002"  # PR-00002, approved, under MAT-00004 (PMS-260104)


def test_paying_the_approved_counsel_fee_in_the_pms_alone_marks_it_paid_in_operate(operate, pms):
    """Everything from the PMS side: the disbursement Operate's plan would have posted (or the seed holds)
    is the PMS's own record, paid by its finance team; Operate hears of it only from the PMS's worker."""
    body = {"operatePaymentRequestId": COUNSEL_FEE, "amount": 1750, "vatAmount": 350, "supplierId": "SUP-0002",
            "description": "Counsel's fee - advice on quantum", "supplierInvoiceReference": "AC/2026/0142"}  # fmt: skip
    response = pms.client.post("/api/matters/PMS-260104/disbursements", json=body, headers=PMS_KEY)
    assert response.status_code in (200, 201), response.json  # 200: the seed already holds it
    disbursement = response.json["disbursementId"]
    pms.call("PUT", f"/api/disbursements/{disbursement}", {"paymentReference": "CHAPS-5521", "paymentMethod": "CHAPS"})
    operate.advance("PT1M")

    operate.assert_event("payment-details-updated", sharedoId=COUNSEL_FEE, paymentReference="CHAPS-5521")
    operate.assert_event("sharedo-phase-changed", sharedoId=COUNSEL_FEE, toPhase="payment-request-paid")
    operate.assert_execution("payment-paid", sharedo_id=COUNSEL_FEE)
    record = operate.api().get(f"/api/v1/public/finance/paymentRequest/{COUNSEL_FEE}").json
    assert record["phaseSystemName"] == "payment-request-paid"
    assert record["paymentDetails"] == {"amount": "2100.00", "paidDate": record["paymentDetails"]["paidDate"],
                                        "reference": "CHAPS-5521", "method": "CHAPS"}  # fmt: skip
    assert pms.call("GET", f"/api/disbursements/{disbursement}")["status"] == "paid"
    assert delivered(pms, "payment", disbursement)["operateId"] == COUNSEL_FEE
