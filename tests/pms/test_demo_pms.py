"""The demo PMS as a product: its HTTP API over a real loopback server (and in process where that is enough),
the official demo's contract, faults, the request log, and ageing on a virtual clock."""

from __future__ import annotations

import json
import queue
import re
import socket
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from emulator.kernel.clock import Clock
from pms_adapters.fakes.demo_pms import DemoPmsBackend, DemoPmsError, create_app
from pms_adapters.fakes.demo_pms.server import main as server_main
from tests.helpers.loopback import serving
from tests.helpers.paths import ROOT
from tests.pms.conftest import KEY, START, TODAY

SEED = ROOT / "emulator" / "demo_solution" / "seed" / "workitems.json"


@pytest.fixture
def pms_app(clock):
    return create_app(clock=clock)


@pytest.fixture
def backend(pms_app) -> DemoPmsBackend:
    return pms_app.extensions["demo_pms"]


@pytest.fixture
def pms(pms_app):
    """In process: the whole WSGI app, no socket."""
    with httpx.Client(
        transport=httpx.WSGITransport(app=pms_app), base_url="http://pms.test", headers={"X-API-Key": KEY}
    ) as client:
        yield client


@pytest.fixture
def pms_url(pms_app):
    with serving(pms_app) as url:
        yield url


@pytest.fixture
def live(pms_url):
    """Over a real loopback server, as a browser, a plan or Operate's proxy would reach it."""
    with httpx.Client(base_url=pms_url, headers={"X-API-Key": KEY}, timeout=5, trust_env=False) as client:
        yield client


def bucket(report: dict, label: str) -> dict:
    return next(b for b in report["buckets"] if b["label"] == label)


def new_pms_matter(client: httpx.Client, operate_id: str = "3c000000-0000-4000-8000-0000000000aa", **extra) -> dict:
    body = {
        "operateId": operate_id,
        "title": "Kestrel Software - employment tribunal claim (Hughes)",
        "clientName": "Kestrel Software",
        "feeEarner": "PS",
        **extra,
    }
    response = client.post("/api/matters", json=body)
    assert response.status_code == 201, response.text
    return response.json()


# --- auth and the shape of errors -----------------------------------------------------------------


def test_the_served_demo_pms_takes_the_official_samples_api_key_header_over_kept_alive_connections():
    from pms_adapters.fakes.demo_pms.server import build_server

    server = build_server("127.0.0.1", 0, KEY)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        local_ports = []
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", trust_env=False) as client:
            for header in ("API_KEY", "X-API-Key"):
                response = client.get("/api/suppliers", headers={header: KEY})
                assert response.status_code == 200, (header, response.text)
                assert response.headers.get("connection", "").lower() != "close"
                local_ports.append(response.extensions["network_stream"].get_extra_info("client_addr")[1])
        assert local_ports[0] == local_ports[1]  # the second request went over the first one's connection
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_every_api_route_needs_the_api_key(pms_url):
    with httpx.Client(base_url=pms_url, trust_env=False) as anonymous:
        missing = anonymous.get("/api/suppliers")
        wrong = anonymous.get("/api/matters/PMS-260101", headers={"X-API-Key": "not-the-key"})
        official = anonymous.post("/api/matter", json={"priority": 9})
        right = anonymous.get("/api/suppliers", headers={"X-API-Key": KEY})
    assert missing.status_code == 401
    assert missing.json()["message"] == "missing the X-API-Key (or API_KEY) header"
    assert wrong.status_code == 401 and "X-API-Key" in wrong.json()["message"]
    assert official.status_code == 401
    assert right.status_code == 200


def test_the_key_is_configurable_and_the_index_needs_none(clock):
    app = create_app(clock=clock, api_key="s3cret")
    with serving(app) as url, httpx.Client(base_url=url, trust_env=False) as client:
        assert client.get("/api/suppliers", headers={"X-API-Key": KEY}).status_code == 401
        assert client.get("/api/suppliers", headers={"X-API-Key": "s3cret"}).status_code == 200
        index = client.get("/").json()
    assert {"methods": ["GET"], "path": "/api/matters/<ref>/wip"} in index["routes"]
    with pytest.raises(ValueError):
        create_app(api_key="")


def test_unknown_routes_and_methods_answer_json(pms):
    missing = pms.get("/api/nothing-here")
    assert missing.status_code == 404 and "GET /api/nothing-here" in missing.json()["message"]
    wrong_method = pms.delete("/api/suppliers")
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == 405


# --- seeded books ---------------------------------------------------------------------------------


def test_seeded_matters_are_the_operate_demo_matters(pms):
    """Every pmsReference in the Operate demo seed is a matter here, for the same work item, with the same
    actual fees, so widgets and work items agree out of the box."""
    seeded = [w for w in json.loads(SEED.read_text()) if (w.get("attributes") or {}).get("pmsReference")]
    assert len(seeded) == 9
    for work_item in seeded:
        ref = work_item["attributes"]["pmsReference"]
        matter = pms.get(f"/api/matters/{ref}").json()
        assert matter["operateId"] == work_item["id"]
        assert matter["title"] == work_item["workItem"]["title"]
        assert matter["billingArrangements"] == work_item["attributes"]["billingArrangements"]
        fees = pms.get(f"/api/matters/{ref}/actual-fees").json()
        assert fees["actualFees"] == float(work_item["attributes"]["actualFees"])
        assert fees["estimatedFees"] == float(work_item["attributes"]["estimatedFees"])
    closed = pms.get("/api/matters/PMS-260108").json()
    assert closed["status"] == "closed" and closed["clientName"] == "Margaret Ellison"


def test_reference_data_lists(pms):
    suppliers = pms.get("/api/suppliers").json()["suppliers"]
    assert [s["name"] for s in suppliers][:3] == [
        "Redpost Couriers",
        "Ashworth Chambers",
        "Clearview Property Searches",
    ]
    assert suppliers[1]["operateOdsId"] == "2b000000-0000-4000-8000-000000000005"
    earners = {f["code"]: f for f in pms.get("/api/fee-earners").json()["feeEarners"]}
    assert earners["PS"]["hourlyRate"] == 325.0 and earners["PS"]["userName"] == "priya.shah"
    clients = {c["clientId"]: c["name"] for c in pms.get("/api/clients").json()["clients"]}
    assert clients["CLI-0004"] == "Northgate Logistics"


def test_reset_gives_back_every_seeded_figure(live):
    """What a tester relies on between runs: after any changes, POST /_fake/reset answers every report, list
    and invoice exactly as the freshly started PMS did."""

    def books() -> dict:
        out: dict = {"clients": live.get("/api/clients").json(), "matters": live.get("/api/matters").json()}
        for client in out["clients"]["clients"]:
            out[client["clientId"]] = live.get(f"/api/clients/{client['clientId']}/aged-debt?detail=true").json()
        for matter in out["matters"]["matters"]:
            ref = matter["pmsReference"]
            for what in ("wip", "actual-fees", "invoices", "time", "disbursements", "aged-debt?detail=true"):
                out[f"{ref}/{what}"] = live.get(f"/api/matters/{ref}/{what}").json()
        return out

    fresh = books()
    assert len(fresh["matters"]["matters"]) == 9 and fresh["CLI-0004"]["total"] == 5940.0
    new_pms_matter(live, clientName="Hughes & Daughters Ltd")
    live.post("/api/matters/PMS-260106/invoices", json={"operateInvoiceId": "i-r", "netAmount": 10, "billWip": True})
    live.post("/api/invoices/PMS-INV-40033/payments", json={"amount": 200, "reference": "r-1"})
    live.post("/api/matters/PMS-260101/time", json={"operateTimeEntryId": "t-r", "feeEarner": "PS", "minutes": 6})
    changed = books()
    assert changed != fresh and changed["CLI-0004"]["total"] == 5740.0
    live.post("/_fake/reset")
    assert books() == fresh


# --- matter inception -----------------------------------------------------------------------------


def test_matter_inception_and_no_duplicates(live):
    created = new_pms_matter(live, billingArrangements="Hourly rates", priority=6, estimatedFees="9500")
    ref = created["pmsReference"]
    assert re.fullmatch(r"PMS-26\d{4}", ref) and ref not in {f"PMS-2601{n:02d}" for n in range(1, 10)}
    assert created["clientId"] == "CLI-0006" and created["feeEarnerName"] == "Priya Shah"
    assert created["estimatedFees"] == 9500.0 and created["status"] == "open"

    again = live.post(
        "/api/matters",
        json={
            "operateId": created["operateId"],
            "title": "Sent twice",
            "clientName": "Kestrel Software",
            "feeEarner": "PS",
        },
    )
    assert again.status_code == 200
    assert again.json()["pmsReference"] == ref and again.json()["title"] == created["title"]
    found = live.get("/api/matters", params={"operateId": created["operateId"]}).json()["matters"]
    assert [m["pmsReference"] for m in found] == [ref]
    assert live.get(f"/api/matters/{ref}").json()["title"] == created["title"]


def test_inception_finds_people_by_operate_names_and_makes_new_clients(pms):
    by_user = new_pms_matter(pms, "op-1", feeEarner="daniel.okafor", clientId="1a000000-0000-4000-8000-000000000007")
    assert by_user["feeEarner"] == "DO" and by_user["clientName"] == "Fiona Tulloch"
    newcomer = new_pms_matter(pms, "op-2", clientName="Hughes & Daughters Ltd")
    assert newcomer["clientId"] == "CLI-0007" and newcomer["clientName"] == "Hughes & Daughters Ltd"
    mine = pms.get("/api/matters", params={"clientId": "CLI-0007"}).json()["matters"]
    assert [m["pmsReference"] for m in mine] == [newcomer["pmsReference"]]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"title": "T", "clientName": "C", "feeEarner": "PS"}, "operateId", "operateId is required"),
        ({"operateId": "x", "clientName": "C", "feeEarner": "PS"}, "title", "title is required"),
        ({"operateId": "x", "title": "T", "feeEarner": "PS"}, "clientName", "clientName is required"),
        ({"operateId": "x", "title": "T", "clientName": "C"}, "feeEarner", "feeEarner is required"),
        ({"operateId": "x", "title": "T", "clientName": "C", "feeEarner": "ZZ"}, "feeEarner", "known codes: PS"),
        ({"operateId": "x", "title": "T", "clientId": "CLI-9999", "feeEarner": "PS"}, "clientId", "no client"),
        ({"operateId": "x", "title": "T", "clientName": "C", "feeEarner": "PS", "priority": "high"}, "priority", ""),
        (
            {"operateId": "x", "title": "T", "clientName": "C", "feeEarner": "PS", "confidential": "yes"},
            "confidential",
            "",
        ),
        ({"operateId": "x", "title": 12.5, "clientName": "C", "feeEarner": "PS"}, "title", "must be a string"),
        ({"operateId": "x", "title": "T" * 501, "clientName": "C", "feeEarner": "PS"}, "title", "longer than 500"),
    ],
)
def test_inception_refusals_name_the_field(pms, body, field, words):
    response = pms.post("/api/matters", json=body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert words in response.json()["message"]


def test_a_body_that_is_not_a_json_object_is_refused(pms):
    for content in (b"not json", b"[1, 2]", b""):
        response = pms.post("/api/matters", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert "JSON object" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/matters/PMS-999999"),
        ("GET", "/api/matters/PMS-999999/wip"),
        ("GET", "/api/matters/PMS-999999/aged-debt"),
        ("GET", "/api/matters/PMS-999999/actual-fees"),
        ("GET", "/api/matters/PMS-999999/invoices"),
        ("GET", "/api/matters/PMS-999999/time"),
        ("GET", "/api/matters/PMS-999999/disbursements"),
        ("POST", "/api/matters/PMS-999999/time"),
        ("POST", "/api/matters/PMS-999999/disbursements"),
        ("POST", "/api/matters/PMS-999999/invoices"),
        ("GET", "/api/clients/CLI-9999/aged-debt"),
        ("GET", "/api/disbursements/PMS-DSB-1"),
        ("PUT", "/api/disbursements/PMS-DSB-1"),
        ("GET", "/api/invoices/PMS-INV-1"),
        ("PUT", "/api/invoices/PMS-INV-1/status"),
        ("POST", "/api/invoices/PMS-INV-1/payments"),
    ],
)
def test_unknown_references_are_404(pms, method, path):
    response = pms.request(method, path, json={})
    assert response.status_code == 404
    assert response.json()["message"].startswith("no ")


# --- disbursements (approved payment requests) ----------------------------------------------------


def test_an_approved_payment_request_becomes_one_disbursement(live):
    body = {
        "operatePaymentRequestId": "5e000000-0000-4000-8000-000000000003",  # a new one (PR-00002 is seeded here)
        "amount": 1750.00,
        "vatAmount": "350.00",
        "description": "Counsel's fee - advice on quantum",
        "supplierId": "2b000000-0000-4000-8000-000000000005",  # the payee's Operate ODS id
        "supplierInvoiceReference": "AC/2026/0142",
    }
    before = live.get("/api/matters/PMS-260104/wip").json()
    first = live.post("/api/matters/PMS-260104/disbursements", json=body)
    assert first.status_code == 201
    disb = first.json()
    assert disb["disbursementId"].startswith("PMS-DSB-")
    assert disb["status"] == "awaiting-payment" and disb["supplierName"] == "Ashworth Chambers"
    assert disb["grossAmount"] == 2100.0 and disb["feeEarner"] == "PS"

    again = live.post("/api/matters/PMS-260104/disbursements", json=body)
    assert again.status_code == 200 and again.json()["disbursementId"] == disb["disbursementId"]
    listed = live.get("/api/matters/PMS-260104/disbursements").json()["disbursements"]
    assert [d["operatePaymentRequestId"] for d in listed].count(body["operatePaymentRequestId"]) == 1
    after = live.get("/api/matters/PMS-260104/wip").json()
    assert after["unbilledDisbursements"] == before["unbilledDisbursements"] + 1750.0

    elsewhere = live.post("/api/matters/PMS-260103/disbursements", json=body)
    assert elsewhere.status_code == 409 and "PMS-260104" in elsewhere.json()["message"]


def test_the_pms_pays_a_disbursement(pms):
    disb = pms.post(
        "/api/matters/PMS-260102/disbursements",
        json={"operatePaymentRequestId": "pr-1", "amount": 245, "description": "Searches", "supplierId": "SUP-0003"},
    ).json()
    paid = pms.put(f"/api/disbursements/{disb['disbursementId']}", json={"paymentReference": "BACS 77812"})
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"
    assert paid.json()["paidDate"] == TODAY.isoformat() and paid.json()["paymentMethod"] == "BACS"
    assert pms.get(f"/api/disbursements/{disb['disbursementId']}").json()["paymentReference"] == "BACS 77812"
    resent = pms.put(f"/api/disbursements/{disb['disbursementId']}", json={"paymentReference": "BACS 77812"})
    assert resent.status_code == 200
    clash = pms.put(f"/api/disbursements/{disb['disbursementId']}", json={"paymentReference": "CHQ 1"})
    assert clash.status_code == 409 and clash.json()["field"] == "paymentReference"
    no_ref = pms.put(f"/api/disbursements/{disb['disbursementId']}", json={"paidDate": "2026-03-01"})
    assert no_ref.status_code == 400 and no_ref.json()["field"] == "paymentReference"
    bad_method = pms.put(
        f"/api/disbursements/{disb['disbursementId']}", json={"paymentReference": "x", "paymentMethod": "gold"}
    )
    assert bad_method.status_code == 400 and bad_method.json()["field"] == "paymentMethod"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"operatePaymentRequestId": None}, "operatePaymentRequestId"),
        ({"amount": None}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"vatAmount": -1}, "vatAmount"),
        ({"currency": "USD"}, "currency"),
        ({"supplierId": "SUP-9999"}, "supplierId"),
        ({"supplierId": None}, "supplierId"),
        ({"description": None}, "description"),
        ({"incurredDate": "last Tuesday"}, "incurredDate"),
        ({"feeEarner": "nobody"}, "feeEarner"),
    ],
)
def test_disbursement_refusals_name_the_field(pms, change, field):
    body = {"operatePaymentRequestId": "pr-x", "amount": 10, "description": "Courier", "supplierId": "SUP-0001"}
    body.update(change)
    response = pms.post("/api/matters/PMS-260104/disbursements", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


# --- time ---------------------------------------------------------------------------------------------


def test_submitted_time_is_posted_once_and_shows_in_wip(live):
    before = {r["feeEarner"]: r for r in live.get("/api/matters/PMS-260103/wip").json()["feeEarners"]}
    body = {"operateTimeEntryId": "te-1", "feeEarner": "TB", "minutes": 36, "date": "2026-03-02", "narrative": "Plan"}
    first = live.post("/api/matters/PMS-260103/time", json=body)
    assert first.status_code == 201
    entry = first.json()
    assert entry["timeEntryId"].startswith("PMS-TIM-")
    assert entry["value"] == 72.0 and entry["hourlyRate"] == 120.0  # 36 minutes at £120 an hour
    assert entry["billed"] is False

    again = live.post("/api/matters/PMS-260103/time", json=body)
    assert again.status_code == 200 and again.json()["timeEntryId"] == entry["timeEntryId"]
    entries = live.get("/api/matters/PMS-260103/time").json()["timeEntries"]
    assert [e["operateTimeEntryId"] for e in entries].count("te-1") == 1

    wip = live.get("/api/matters/PMS-260103/wip").json()
    rows = {r["feeEarner"]: r for r in wip["feeEarners"]}
    assert "TB" not in before and rows["TB"]["unbilledMinutes"] == 36 and rows["TB"]["unbilledTime"] == 72.0
    assert rows["PS"] == before["PS"]
    assert wip["total"] == pytest.approx(sum(r["total"] for r in rows.values()))


def test_wip_by_fee_earner_for_a_seeded_matter(pms):
    wip = pms.get("/api/matters/PMS-260101/wip").json()
    rows = {r["feeEarner"]: r for r in wip["feeEarners"]}
    assert list(rows) == ["PS", "TB"]  # billed time is not WIP
    assert rows["PS"]["unbilledMinutes"] == 138 and rows["PS"]["unbilledTime"] == 747.5
    assert rows["PS"]["unbilledDisbursements"] == 300.0  # the probate application fee
    assert rows["TB"]["unbilledTime"] == 600.0
    assert wip["unbilledTime"] == 1347.5 and wip["total"] == 1647.5 and wip["currency"] == "GBP"


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"minutes": 0}, "minutes", 400),
        ({"minutes": 1441}, "minutes", 400),
        ({"minutes": 6.5}, "minutes", 400),
        ({"minutes": None}, "minutes", 400),
        ({"feeEarner": "Hannah Whitfield"}, "feeEarner", 400),
        ({"operateTimeEntryId": ""}, "operateTimeEntryId", 400),
        ({"date": "2026-02-30"}, "date", 400),
        ({"hourlyRate": -1}, "hourlyRate", 400),
    ],
)
def test_time_refusals_name_the_field(pms, change, field, status):
    body = {"operateTimeEntryId": "te-x", "feeEarner": "PS", "minutes": 30, **change}
    response = pms.post("/api/matters/PMS-260101/time", json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field


def test_a_closed_matter_takes_no_new_time(pms):
    response = pms.post(
        "/api/matters/PMS-260108/time", json={"operateTimeEntryId": "t", "feeEarner": "DO", "minutes": 6}
    )
    assert response.status_code == 409 and "closed" in response.json()["message"]


# --- invoices -------------------------------------------------------------------------------------------


def test_an_invoice_bills_the_wip_and_counts_as_actual_fees(live):
    fees_before = live.get("/api/matters/PMS-260106/actual-fees").json()
    body = {"operateInvoiceId": "inv-1", "netAmount": 2500, "vatAmount": 500, "billWip": True, "narrative": "Interim"}
    created = live.post("/api/matters/PMS-260106/invoices", json=body)
    assert created.status_code == 201
    invoice = created.json()
    assert invoice["invoiceId"] == "PMS-INV-40034" and invoice["status"] == "issued"
    assert invoice["grossAmount"] == 3000.0 and invoice["outstanding"] == 3000.0
    assert invoice["issuedDate"] == TODAY.isoformat()
    assert invoice["dueDate"] == (TODAY + timedelta(days=30)).isoformat()
    assert invoice["clientId"] == "CLI-0003"

    again = live.post("/api/matters/PMS-260106/invoices", json=body)
    assert again.status_code == 200 and again.json()["invoiceId"] == invoice["invoiceId"]
    wip = live.get("/api/matters/PMS-260106/wip").json()
    assert wip["total"] == 0 and wip["feeEarners"] == []
    fees = live.get("/api/matters/PMS-260106/actual-fees").json()
    assert fees["actualFees"] == fees_before["actualFees"] + 2500
    assert fees["unbilledTime"] == 0
    listed = [i["invoiceId"] for i in live.get("/api/matters/PMS-260106/invoices").json()["invoices"]]
    assert listed.count(invoice["invoiceId"]) == 1


def test_invoice_status_moves_like_operates_invoice_phases(pms):
    draft = pms.post(
        "/api/matters/PMS-260107/invoices",
        json={
            "operateInvoiceId": "inv-2",
            "netAmount": 1000,
            "vatAmount": 200,
            "status": "draft",
            "dueDate": "2026-04-01",
        },
    ).json()
    invoice_id = draft["invoiceId"]
    aged = pms.get("/api/matters/PMS-260107/aged-debt").json()
    assert aged["total"] == 0  # a draft is not owed yet

    def move(status: str, **extra):
        return pms.put(f"/api/invoices/{invoice_id}/status", json={"status": status, **extra})

    assert move("issued").json()["status"] == "issued"
    assert pms.get("/api/matters/PMS-260107/aged-debt").json()["total"] == 1200.0
    assert move("part-paid").json()["field"] == "amountPaid"
    assert move("part-paid", amountPaid=1200).json()["field"] == "amountPaid"  # that is paid, not part-paid
    part = move("part-paid", amountPaid=500)
    assert part.json()["status"] == "part-paid" and part.json()["outstanding"] == 700.0
    assert pms.get("/api/matters/PMS-260107/aged-debt").json()["total"] == 700.0
    assert move("part-paid", amountPaid=500).status_code == 200  # resent: nothing changes
    assert move("part-paid", amountPaid=400).status_code == 409  # money cannot flow back
    paid = move("paid")
    assert paid.json()["status"] == "paid" and paid.json()["outstanding"] == 0 and paid.json()["amountPaid"] == 1200.0
    assert move("paid").status_code == 200
    assert pms.get("/api/matters/PMS-260107/aged-debt").json()["total"] == 0

    refused = move("cancelled")
    assert refused.status_code == 409 and "paid" in refused.json()["message"]
    assert move("refunded").json()["field"] == "status"
    assert move("part-paid", amountPaid=100).status_code == 409


def test_a_draft_can_be_cancelled_and_is_not_a_fee(pms):
    created = pms.post(
        "/api/matters/PMS-260107/invoices", json={"operateInvoiceId": "inv-3", "netAmount": 50, "status": "draft"}
    )
    assert (
        pms.put(f"/api/invoices/{created.json()['invoiceId']}/status", json={"status": "cancelled"}).status_code == 200
    )
    assert pms.get("/api/matters/PMS-260107/actual-fees").json()["actualFees"] == 900.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"operateInvoiceId": None}, "operateInvoiceId"),
        ({"netAmount": None}, "netAmount"),
        ({"netAmount": "1,000"}, "netAmount"),
        ({"status": "paid"}, "status"),
        ({"dueDate": "2026-01-01", "issuedDate": "2026-02-01"}, "dueDate"),
        ({"billWip": "yes"}, "billWip"),
    ],
)
def test_invoice_refusals_name_the_field(pms, change, field):
    body = {"operateInvoiceId": "inv-x", "netAmount": 100, **change}
    response = pms.post("/api/matters/PMS-260101/invoices", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


# --- aged debt ------------------------------------------------------------------------------------------


def test_aged_debt_for_a_client_by_due_date(live):
    report = live.get("/api/clients/CLI-0004/aged-debt", params={"detail": "true"}).json()
    assert report["clientName"] == "Northgate Logistics" and report["asOf"] == "2026-03-02T09:00:00.000Z"
    assert [(b["label"], b["amount"], b["count"]) for b in report["buckets"]] == [
        ("0-30", 1200.0, 1),
        ("31-60", 0.0, 0),
        ("61-90", 2640.0, 1),
        ("90+", 2100.0, 1),  # 3,600 gross less a 1,500 part-payment
    ]
    assert report["total"] == 5940.0 and report["invoiceCount"] == 3
    rows = {r["invoiceId"]: r for r in report["invoices"]}
    assert rows["PMS-INV-40012"]["daysOverdue"] == 120 and rows["PMS-INV-40012"]["amountPaid"] == 1500.0
    by_ods = live.get("/api/clients/2b000000-0000-4000-8000-000000000001/aged-debt").json()
    assert by_ods["total"] == report["total"] and "invoices" not in by_ods


def test_the_seeded_books_have_debt_in_every_bucket(pms):
    totals = {label: 0.0 for label in ("0-30", "31-60", "61-90", "90+")}
    for client in pms.get("/api/clients").json()["clients"]:
        report = pms.get(f"/api/clients/{client['clientId']}/aged-debt").json()
        for row in report["buckets"]:
            totals[row["label"]] += row["amount"]
    assert all(amount > 0 for amount in totals.values()), totals
    not_due = pms.get("/api/matters/PMS-260102/aged-debt").json()
    assert not_due["notYetDue"] == 720.0 and bucket(not_due, "0-30")["amount"] == 720.0


def test_an_invoice_moves_bucket_when_the_clock_moves(live, clock):
    """PMS-INV-40033 fell due 20 days ago: 0-30 today, 31-60 after 31 more days of virtual time."""
    today = live.get("/api/matters/PMS-260103/aged-debt").json()
    assert bucket(today, "0-30")["amount"] == 1200.0 and bucket(today, "31-60")["amount"] == 0
    clock.advance(timedelta(days=31))
    later = live.get("/api/matters/PMS-260103/aged-debt", params={"detail": "true"}).json()
    assert bucket(later, "0-30")["amount"] == 0 and bucket(later, "31-60")["amount"] == 1200.0
    assert later["invoices"][0]["daysOverdue"] == 51 and later["invoices"][0]["bucket"] == "31-60"
    assert later["asOf"] == "2026-04-02T09:00:00.000Z"


def test_as_of_ages_against_another_day(pms):
    at = (START + timedelta(days=41)).isoformat()
    report = pms.get("/api/matters/PMS-260103/aged-debt", params={"asOf": at}).json()
    assert bucket(report, "61-90")["amount"] == 1200.0  # 20 + 41 = 61 days past due
    bad = pms.get("/api/matters/PMS-260103/aged-debt", params={"asOf": "next week"})
    assert bad.status_code == 400 and bad.json()["field"] == "asOf"
    assert pms.get("/api/matters/PMS-260103/aged-debt", params={"detail": "maybe"}).json()["field"] == "detail"


def test_part_payments_reduce_what_is_outstanding(live):
    before = live.get("/api/clients/CLI-0004/aged-debt").json()
    paid = live.post("/api/invoices/PMS-INV-40033/payments", json={"amount": 200, "reference": "BACS NORTHGATE 2301"})
    assert paid.status_code == 201
    assert paid.json()["status"] == "part-paid" and paid.json()["outstanding"] == 1000.0
    assert paid.json()["receipts"][-1] == {
        "amount": 200.0,
        "receivedDate": "2026-03-02",
        "reference": "BACS NORTHGATE 2301",
    }
    after = live.get("/api/clients/CLI-0004/aged-debt").json()
    assert after["total"] == before["total"] - 200
    assert bucket(after, "0-30")["amount"] == 1000.0

    too_much = live.post("/api/invoices/PMS-INV-40033/payments", json={"amount": 1000.01})
    assert too_much.status_code == 400 and too_much.json()["field"] == "amount"
    rest = live.post("/api/invoices/PMS-INV-40033/payments", json={"amount": "1000.00"})
    assert rest.json()["status"] == "paid"
    assert bucket(live.get("/api/clients/CLI-0004/aged-debt").json(), "0-30")["count"] == 0
    closed = live.post("/api/invoices/PMS-INV-40033/payments", json={"amount": 1})
    assert closed.status_code == 409


def test_a_receipt_is_recorded_once_per_reference(live):
    """A retried payment (the same reference) changes nothing; the same reference for another amount is 409."""
    path = "/api/invoices/PMS-INV-40033/payments"
    first = live.post(path, json={"amount": 200, "reference": "BACS NG 1"})
    assert first.status_code == 201 and first.json()["outstanding"] == 1000.0
    again = live.post(path, json={"amount": "200.00", "reference": "BACS NG 1"})
    assert again.status_code == 200 and again.json() == first.json()
    clash = live.post(path, json={"amount": 250, "reference": "BACS NG 1"})
    assert clash.status_code == 409 and clash.json()["field"] == "reference" and "200.0" in clash.json()["message"]
    rest = live.post(path, json={"amount": 1000, "reference": "BACS NG 2"})
    assert rest.status_code == 201 and rest.json()["status"] == "paid"
    resent = live.post(path, json={"amount": 1000, "reference": "BACS NG 2"})  # paid now, still a safe retry
    assert resent.status_code == 200 and resent.json() == rest.json()
    invoice = live.get("/api/invoices/PMS-INV-40033").json()
    assert [r["reference"] for r in invoice["receipts"]] == ["BACS NG 1", "BACS NG 2"]
    assert invoice["amountPaid"] == 1200.0
    aged = live.get("/api/clients/CLI-0004/aged-debt").json()
    assert bucket(aged, "0-30")["amount"] == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/invoices/PMS-INV-40033/payments", {"amount": 0.004}, "amount"),
        ("/api/invoices/PMS-INV-40033/payments", {"amount": "0.0049", "reference": "tiny"}, "amount"),
        ("/api/matters/PMS-260101/invoices", {"operateInvoiceId": "i-0", "netAmount": 0.004}, "netAmount"),
        (
            "/api/matters/PMS-260101/time",
            {"operateTimeEntryId": "t", "feeEarner": "PS", "minutes": 6, "hourlyRate": 0.001},
            "hourlyRate",
        ),
    ],
)
def test_amounts_that_round_to_no_pence_are_refused(pms, path, body, field):
    before = pms.get("/api/invoices/PMS-INV-40033").json()
    response = pms.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field and "0 pence" in response.json()["message"]
    assert pms.get("/api/invoices/PMS-INV-40033").json() == before
    assert pms.get("/api/matters/PMS-260101/invoices").json()["invoices"][-1]["operateInvoiceId"] != "i-0"


def test_zero_pence_is_refused_in_library_mode_too(backend):
    with pytest.raises(DemoPmsError) as receipt:
        backend.record_receipt("PMS-INV-40033", Decimal("0.004"))
    assert receipt.value.status == 400 and receipt.value.field == "amount"
    with pytest.raises(DemoPmsError) as invoice:
        backend.add_invoice("PMS-260101", operate_id="i-0", net_amount=Decimal("0.004"))
    assert invoice.value.field == "netAmount"


def test_ten_thousand_invoices_age_in_one_pass(backend, pms):
    """A big client: every invoice lands in the right bucket (the pass is one loop over open invoices only)."""
    ref = "PMS-260105"  # Brightwater Foods (CLI-0005)
    seeded = pms.get("/api/clients/CLI-0005/aged-debt").json()
    for n in range(10_000):
        issued = TODAY - timedelta(days=n % 120 + 30)
        backend.add_invoice(
            ref,
            operate_id=f"bulk-{n}",
            net_amount=Decimal("100.00"),
            vat_amount=Decimal("20.00"),
            issued_date=issued,
            due_date=issued + timedelta(days=30),
        )
    report = pms.get("/api/clients/CLI-0005/aged-debt").json()
    assert report["invoiceCount"] == seeded["invoiceCount"] + 10_000
    added = {row["label"]: row["count"] - bucket(seeded, row["label"])["count"] for row in report["buckets"]}
    # days past due run 0..119 in turn (83 full turns, then 0..39): per turn 31 land in 0-30, 30 in 31-60,
    # 30 in 61-90 and 29 in 90+; the last 40 add 31 to 0-30 and 9 to 31-60
    assert added == {"0-30": 83 * 31 + 31, "31-60": 83 * 30 + 9, "61-90": 83 * 30, "90+": 83 * 29}
    assert report["total"] == pytest.approx(seeded["total"] + 10_000 * 120.0)


# --- the official demo's contract (sharedo-tech/forum2024-02-S3 PMSApi) --------------------------------


def test_official_demo_matter_inception(live):
    refused = live.post("/api/matter", json={"priority": 4, "confidential": False, "billingArrangements": "Fixed fee"})
    assert refused.status_code == 400
    assert refused.json()["message"] == "Can only incept matters with priority 5 or above in PMS"
    assert refused.json()["field"] == "priority"
    assert live.post("/api/matter", json={"confidential": True}).status_code == 400  # no priority binds as 0

    created = live.post(
        "/api/matter", json={"priority": 10, "confidential": True, "billingArrangements": "No win, no fee"}
    )
    assert created.status_code == 200
    assert list(created.json()) == ["pmsReference"]
    ref = created.json()["pmsReference"]
    assert live.get(f"/api/matters/{ref}").json()["billingArrangements"] == "No win, no fee"
    as_text = live.post("/api/matter", json={"priority": "7"})  # .NET's web JSON reads numbers from strings
    assert as_text.status_code == 200 and as_text.json()["pmsReference"] != ref


def test_official_demo_financials(live):
    ref = live.post("/api/matter", json={"priority": 6}).json()["pmsReference"]
    assert live.get(f"/api/matter/{ref}/financials").json() == {"balance": 0}
    assert live.post(f"/api/matter/{ref}/financials", json={"delta": 500}).json() == {"balance": 500}
    assert live.post(f"/api/matter/{ref}/financials", json={"delta": -120.5}).json() == {"balance": 379.5}
    assert live.get(f"/api/matter/{ref}/financials").json() == {"balance": 379.5}
    audit = live.get(f"/api/matter/{ref}/financials/audit").json()
    assert [sorted(row) for row in audit] == [["balance", "delta", "timeStamp"]] * 2
    assert [(row["delta"], row["balance"]) for row in audit] == [(500, 500), (-120.5, 379.5)]
    assert audit[0]["timeStamp"] == "2026-03-02T09:00:00.000Z"


def test_official_demo_financials_take_any_reference_like_the_original(pms):
    """The original keeps balances by whatever id it is sent, so a plan's reference never 404s here either."""
    assert pms.get("/api/matter/MTR_240220141726/financials").json() == {"balance": 0}
    assert pms.get("/api/matter/MTR_240220141726/financials/audit").json() == []
    seeded = pms.get("/api/matter/PMS-260101/financials/audit").json()
    assert [row["balance"] for row in seeded] == [500, 1000]
    missing = pms.post("/api/matter/PMS-260101/financials", json={})
    assert missing.status_code == 400 and missing.json()["field"] == "delta"
    assert pms.post("/api/matter/PMS-260101/financials", json={"delta": "ten"}).json()["field"] == "delta"


# --- faults -----------------------------------------------------------------------------------------------


def test_a_slow_route_makes_a_caller_time_out_then_recovers(live):
    added = live.post("/_fake/faults", json={"route": "/api/matters/*/wip", "delaySeconds": 2, "times": 1})
    assert added.status_code == 201 and added.json()["remaining"] == 1
    with pytest.raises(httpx.ReadTimeout):  # only this call is impatient: it waits 0.2 s for an answer 2 s away
        live.get("/api/matters/PMS-260101/wip", timeout=httpx.Timeout(5, read=0.2))
    assert live.get("/api/matters/PMS-260101/wip").status_code == 200  # used up after one request
    assert live.get("/_fake/faults").json()["faults"] == []


def test_a_failing_route_answers_5xx_n_times(live):
    live.post("/_fake/faults", json={"route": "/api/matters/<ref>/time", "method": "POST", "status": 503, "times": 2})
    body = {"operateTimeEntryId": "te-retry", "feeEarner": "PS", "minutes": 12}
    first = live.post("/api/matters/PMS-260101/time", json=body)
    assert first.status_code == 503 and "fault-1" in first.json()["message"]
    assert live.get("/api/matters/PMS-260101/time").status_code == 200  # GET is not faulted
    assert live.post("/api/matters/PMS-260101/time", json=body).status_code == 503
    assert live.post("/api/matters/PMS-260101/time", json=body).status_code == 201
    entries = live.get("/api/matters/PMS-260101/time").json()["timeEntries"]
    assert [e["operateTimeEntryId"] for e in entries].count("te-retry") == 1  # the failures changed nothing


def test_malformed_json_still_makes_the_change(live):
    """The answer is mangled, not the work: a retry must rely on idempotency."""
    live.post("/_fake/faults", json={"route": "/api/matters/PMS-260101/disbursements", "malformed": True, "times": 1})
    body = {"operatePaymentRequestId": "pr-mangled", "amount": 12, "description": "Courier", "supplierId": "SUP-0001"}
    mangled = live.post("/api/matters/PMS-260101/disbursements", json=body)
    assert mangled.status_code == 201
    with pytest.raises(json.JSONDecodeError):
        json.loads(mangled.text)
    retried = live.post("/api/matters/PMS-260101/disbursements", json=body)
    assert retried.status_code == 200 and retried.json()["operatePaymentRequestId"] == "pr-mangled"


def test_a_fault_without_times_lasts_until_cleared(live):
    live.post("/_fake/faults", json={"route": "/api/**", "method": "get", "status": 500})
    assert [live.get("/api/suppliers").status_code for _ in range(3)] == [500, 500, 500]
    assert live.get("/_fake/faults").json()["faults"][0]["hits"] == 3
    assert live.delete("/_fake/faults").status_code == 200
    assert live.get("/api/suppliers").status_code == 200


def test_one_fault_can_be_removed_by_id(pms):
    keep = pms.post("/_fake/faults", json={"route": "/api/suppliers", "status": 502}).json()
    drop = pms.post("/_fake/faults", json={"route": "/api/clients", "status": 502}).json()
    assert pms.delete(f"/_fake/faults/{drop['id']}").status_code == 200
    assert [f["id"] for f in pms.get("/_fake/faults").json()["faults"]] == [keep["id"]]
    assert pms.get("/api/clients").status_code == 200 and pms.get("/api/suppliers").status_code == 502
    assert pms.delete("/_fake/faults/fault-99").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"route": "/api/suppliers", "delaySeconds": 31}, "delaySeconds"),
        ({"route": "/api/suppliers", "delaySeconds": -1}, "delaySeconds"),
        ({"route": "/api/suppliers", "status": 404}, "status"),
        ({"route": "/api/suppliers"}, "delaySeconds"),
        ({"route": "api/suppliers", "status": 500}, "route"),
        ({"status": 500}, "route"),
        ({"route": "/api/suppliers", "status": 500, "method": "FETCH"}, "method"),
        ({"route": "/api/suppliers", "status": 500, "times": 0}, "times"),
        ({"route": "/api/suppliers", "malformed": "yes"}, "malformed"),
    ],
)
def test_fault_refusals_name_the_field(pms, body, field):
    response = pms.post("/_fake/faults", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_library_mode_faults_and_reset(backend, pms):
    backend.add_fault("/api/suppliers", status=504, times=1)
    assert pms.get("/api/suppliers").status_code == 504
    assert pms.get("/api/suppliers").status_code == 200
    backend.add_fault("/api/clients", malformed=True)
    with pytest.raises(json.JSONDecodeError):
        pms.get("/api/clients").json()
    backend.clear_faults()
    assert pms.get("/api/clients").json()["clients"]


# --- the request log and reset ----------------------------------------------------------------------------


def test_every_request_is_recorded_without_the_key(live):
    live.post(
        "/api/matters/PMS-260101/time?source=plan",
        json={"operateTimeEntryId": "te-log", "feeEarner": "PS", "minutes": 6},
    )
    live.get("/api/suppliers", headers={"X-API-Key": "wrong"})
    log = live.get("/_fake/requests").json()
    assert log["count"] == 2  # the log's own routes are not recorded
    posted, refused = log["requests"]
    assert posted["method"] == "POST" and posted["path"] == "/api/matters/PMS-260101/time"
    assert posted["query"] == {"source": "plan"} and posted["queryString"] == "source=plan"
    assert posted["body"] == {"operateTimeEntryId": "te-log", "feeEarner": "PS", "minutes": 6}
    assert posted["headers"]["X-Api-Key"] == "<redacted>" and posted["status"] == 201
    assert posted["at"] == "2026-03-02T09:00:00.000Z"
    assert refused["status"] == 401 and refused["headers"]["X-Api-Key"] == "<redacted>"
    assert KEY not in json.dumps(log)

    only_posts = live.get("/_fake/requests", params={"method": "POST"}).json()["requests"]
    assert [r["path"] for r in only_posts] == ["/api/matters/PMS-260101/time"]
    by_prefix = live.get("/_fake/requests", params={"path": "/api/sup*"}).json()["requests"]
    assert [r["status"] for r in by_prefix] == [401]
    assert live.delete("/_fake/requests").status_code == 200
    assert live.get("/_fake/requests").json()["count"] == 0


def test_reset_restores_the_seeded_books(live, clock):
    ref = new_pms_matter(live)["pmsReference"]
    live.post("/api/invoices/PMS-INV-40033/payments", json={"amount": 1200})
    live.post("/_fake/faults", json={"route": "/api/suppliers", "status": 500})
    clock.advance(timedelta(days=10))
    assert live.post("/_fake/reset").json() == {"reset": True, "at": "2026-03-12T09:00:00.000Z"}
    assert live.get(f"/api/matters/{ref}").status_code == 404
    assert live.get("/api/suppliers").status_code == 200
    assert live.get("/_fake/requests").json()["count"] == 2  # only the two calls since the reset
    # re-seeded from the new today: the same invoice is again 20 days past due, unpaid
    detail = live.get("/api/matters/PMS-260103/aged-debt", params={"detail": "true"}).json()
    assert detail["invoices"][0]["invoiceId"] == "PMS-INV-40033" and detail["invoices"][0]["daysOverdue"] == 20


def test_the_request_log_is_bounded_in_count_and_body_size(clock, monkeypatch):
    """Over HTTP: the log keeps the latest MAX_RECORDED requests, and no recorded body, JSON or not, is longer
    than MAX_RECORDED_BODY characters; a small JSON body is still kept as JSON."""
    from pms_adapters.fakes.demo_pms import app as app_module
    from pms_adapters.fakes.demo_pms import models

    monkeypatch.setattr(models, "MAX_RECORDED", 6)  # the deque's length is read when a backend is made
    limit = app_module.MAX_RECORDED_BODY
    big_json = {"operateTimeEntryId": "te-big", "feeEarner": "PS", "minutes": 6, "narrative": "x" * (2 * limit)}
    with (
        serving(create_app(clock=clock)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=10, trust_env=False) as client,
    ):
        for n in range(3):
            client.get(f"/api/matters/PMS-26010{n + 1}")
        client.post("/api/matters/PMS-260101/time", json=big_json)
        client.post("/api/matters/PMS-260101/time", content=b"y" * (limit + 10), headers={"Content-Type": "text/plain"})
        client.post("/api/matters/PMS-260101/time", json={"operateTimeEntryId": "te-small", "minutes": 6})
        client.post("/api/matters/PMS-260101/time", content=b"z" * limit)  # exactly the limit: kept whole
        log = client.get("/_fake/requests").json()
    assert log["count"] == 6
    assert [r["path"] for r in log["requests"][:2]] == ["/api/matters/PMS-260102", "/api/matters/PMS-260103"]
    big, text, small, exact = (r["body"] for r in log["requests"][2:])
    assert isinstance(big, str) and len(big) <= limit and big.startswith('{"operateTimeEntryId":"te-big"')
    assert big.endswith(f"<truncated: {len(json.dumps(big_json, separators=(',', ':')))} bytes>")
    assert isinstance(text, str) and len(text) <= limit and text.endswith(f"<truncated: {limit + 10} bytes>")
    assert small == {"operateTimeEntryId": "te-small", "minutes": 6}
    assert exact == "z" * limit
    bodies = [r["body"] for r in log["requests"] if r["body"] is not None]
    assert all(len(b if isinstance(b, str) else json.dumps(b)) <= limit for b in bodies)


def test_the_books_are_bounded(pms, backend):
    """Each kind of record stops at its limit with a 507 that says so; resending what exists still works."""
    backend.limits["matters"] = len(backend.matters) + 1
    first = new_pms_matter(pms, "op-cap-1")
    full = pms.post(
        "/api/matters",
        json={"operateId": "op-cap-2", "title": "T", "clientName": "Kestrel Software", "feeEarner": "PS"},
    )
    assert full.status_code == 507 and full.json()["message"].startswith("the demo PMS holds at most")
    assert pms.post("/api/matter", json={"priority": 9}).status_code == 507  # the official contract too
    again = pms.post(
        "/api/matters",
        json={"operateId": "op-cap-1", "title": "T", "clientName": "Kestrel Software", "feeEarner": "PS"},
    )
    assert again.status_code == 200 and again.json()["pmsReference"] == first["pmsReference"]
    backend.limits["matters"] = 100_000

    backend.limits["clients"] = len(backend.clients)
    stranger = {"operateId": "op-cap-3", "title": "T", "clientName": "Someone New", "feeEarner": "PS"}
    assert pms.post("/api/matters", json=stranger).status_code == 507
    assert new_pms_matter(pms, "op-cap-4")["clientName"] == "Kestrel Software"  # a client the PMS already has

    ref = first["pmsReference"]
    for kind, table, path, body in [
        ("time entries", backend.time_entries, "time", {"operateTimeEntryId": "t", "feeEarner": "PS", "minutes": 6}),
        (
            "disbursements",
            backend.disbursements,
            "disbursements",
            {"operatePaymentRequestId": "d", "amount": 5, "description": "Courier", "supplierId": "SUP-0001"},
        ),
        ("invoices", backend.invoices, "invoices", {"operateInvoiceId": "i", "netAmount": 5}),
    ]:
        backend.limits[kind] = len(table) + 1
        assert pms.post(f"/api/matters/{ref}/{path}", json=body).status_code == 201
        assert pms.post(f"/api/matters/{ref}/{path}", json=body).status_code == 200  # the same one again
        other = {k: (f"{v}-2" if k.startswith("operate") else v) for k, v in body.items()}
        refused = pms.post(f"/api/matters/{ref}/{path}", json=other)
        assert refused.status_code == 507 and kind in refused.json()["message"], kind
    assert DemoPmsBackend(Clock("virtual", START)).limits == dict.fromkeys(backend.limits, 100_000)


def test_reads_walk_the_books_under_the_lock(pms, backend):
    """Listing clients while another thread adds one raised "dictionary changed size during iteration":
    every read that walks shared books (and every serialised invoice) now holds the backend lock."""
    lock = backend._lock

    class Guarded(dict):
        def _check(self) -> None:
            assert lock._is_owned(), "walked the books without the lock"

        def __iter__(self):
            self._check()
            return super().__iter__()

        def values(self):
            self._check()
            return super().values()

        def items(self):
            self._check()
            return super().items()

    class GuardedList(list):
        def __iter__(self):
            assert lock._is_owned(), "read an invoice's receipts without the lock"
            return super().__iter__()

    with lock:
        for name in ("clients", "fee_earners", "supplier_index", "matters"):
            setattr(backend, name, Guarded(getattr(backend, name)))
        for invoice in backend.invoices.values():
            invoice.receipts = GuardedList(invoice.receipts)
    for path in (
        "/api/clients",
        "/api/fee-earners",
        "/api/suppliers",
        "/api/matters",
        "/api/invoices/PMS-INV-40012",
        "/api/matters/PMS-260104/invoices",
        "/api/clients/CLI-0004/aged-debt",
    ):
        response = pms.get(path)
        assert response.status_code == 200, (path, response.text)
    newcomer = new_pms_matter(pms, "op-lock", clientName="Concurrent Client Ltd", feeEarner="priya.shah")
    assert newcomer["clientName"] == "Concurrent Client Ltd"
    paid = pms.post("/api/invoices/PMS-INV-40033/payments", json={"amount": 1, "reference": "lock-1"})
    assert paid.status_code == 201, paid.text


# --- the server, for people ----------------------------------------------------------------------------


def test_server_prints_where_it_is_and_serves(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "pms_adapters.fakes.demo_pms.server", "--port", "0", "--api-key", "k-42"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline() if process.stdout else ""), daemon=True).start()
    try:
        try:
            line = lines.get(timeout=60)  # bounded: a server that never says where it is fails the test
        except queue.Empty:
            pytest.fail("the server printed nothing in 60 s")
        match = re.fullmatch(r"Demo PMS ready on (http://127\.0\.0\.1:(\d+)) \(X-API-Key: k-42\)\n", line)
        assert match, line
        with httpx.Client(base_url=match.group(1), trust_env=False, timeout=5) as client:
            assert client.get("/api/suppliers").status_code == 401
            assert client.get("/api/matters/PMS-260101", headers={"X-API-Key": "k-42"}).json()["clientId"] == "CLI-0001"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_server_refuses_a_busy_port(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert server_main(["--port", str(port)]) == 2
    assert "--port 0" in capsys.readouterr().err


def test_shared_clock_with_another_backend_is_refused(clock):
    with pytest.raises(ValueError):
        create_app(DemoPmsBackend(clock), clock=Clock("virtual", START))
    assert create_app(DemoPmsBackend(clock), clock=clock).extensions["demo_pms"].clock is clock


def test_dates_in_the_books_follow_the_clock(clock):
    backend = DemoPmsBackend(Clock("virtual", START + timedelta(days=365)))
    assert backend.get_invoice("PMS-INV-40033").due_date == date(2027, 2, 10)
    assert DemoPmsBackend(clock).get_invoice("PMS-INV-40033").due_date == date(2026, 2, 10)
