"""`DemoPmsAdapter` against the demo PMS: every `PmsAdapter` method, every kind of failure as `PmsError`,
and the same adapter straight at the PMS, over a loopback server, and through Operate's proxy."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from emulator.linked_services import LinkedService
from pms_adapters.base import (
    AGEING_BUCKETS,
    InvoiceDetails,
    MatterInception,
    PaymentRequest,
    PmsAdapter,
    PmsError,
    TimeEntry,
)
from pms_adapters.demo import DemoPmsAdapter
from pms_adapters.fakes.demo_pms import create_app
from tests.conftest import client_token
from tests.helpers.loopback import serving
from tests.pms.conftest import KEY, START, TODAY


@pytest.fixture
def pms_app(clock):
    return create_app(clock=clock)


@pytest.fixture
def backend(pms_app):
    return pms_app.extensions["demo_pms"]


@pytest.fixture
def adapter(pms_app):
    with httpx.Client(
        transport=httpx.WSGITransport(app=pms_app), base_url="http://pms.test", headers={"X-API-Key": KEY}
    ) as client:
        yield DemoPmsAdapter(client)


@pytest.fixture
def pms_url(pms_app):
    with serving(pms_app) as url:
        yield url


def inception(operate_id: str = "3c000000-0000-4000-8000-000000000011") -> MatterInception:
    return MatterInception(
        operate_id=operate_id,
        title="Kestrel Software - employment tribunal claim (Hughes)",
        client_name="Kestrel Software",
        fee_earner="priya.shah",
        billing_arrangements="Hourly rates",
        priority=7,
        estimated_fees=Decimal("12000"),
    )


def test_it_is_a_pms_adapter(adapter):
    assert isinstance(adapter, PmsAdapter)


def test_matter_inception_is_idempotent(adapter):
    first = adapter.open_matter(inception())
    assert first.created is True and first.pms_reference.startswith("PMS-")
    again = adapter.open_matter(inception())
    assert again.created is False and again.pms_reference == first.pms_reference
    matter = adapter.get_matter(first.pms_reference)
    assert matter.title == "Kestrel Software - employment tribunal claim (Hughes)"
    assert matter.client_id == "CLI-0006" and matter.client_name == "Kestrel Software"
    assert matter.fee_earner == "PS" and matter.status == "open" and matter.priority == 7
    assert matter.operate_id == "3c000000-0000-4000-8000-000000000011"


def test_a_seeded_matter(adapter):
    matter = adapter.get_matter("PMS-260104")
    assert matter.title == "Northgate Logistics v Carrow Haulage - debt recovery"
    assert matter.billing_arrangements == "Hourly rates" and matter.client_name == "Northgate Logistics"


def test_disbursements_are_sent_once_and_read_back_when_paid(adapter, backend):
    request = PaymentRequest(
        operate_payment_request_id="5e000000-0000-4000-8000-000000000003",  # new: PR-00002 is in the seed
        amount=Decimal("1750.00"),
        vat_amount=Decimal("350.00"),
        description="Counsel's fee - advice on quantum",
        supplier_id="2b000000-0000-4000-8000-000000000005",
        supplier_invoice_reference="AC/2026/0142",
        incurred_date=date(2026, 2, 27),
    )
    sent = adapter.send_disbursement("PMS-260104", request)
    assert sent.created is True and sent.status == "awaiting-payment" and sent.paid_date is None
    again = adapter.send_disbursement("PMS-260104", request)
    assert again.created is False and again.disbursement_id == sent.disbursement_id

    backend.pay_disbursement(sent.disbursement_id, payment_reference="BACS ASHWORTH 5602")
    paid = adapter.get_disbursement(sent.disbursement_id)
    assert paid.status == "paid" and paid.payment_reference == "BACS ASHWORTH 5602" and paid.paid_date == TODAY
    wip = adapter.wip("PMS-260104")
    assert wip.unbilled_disbursements == Decimal("3993.50")  # 38.50 + 455.00 + 1,750.00 (PR-00002) seeded, + 1,750.00


def test_time_entries(adapter):
    entry = TimeEntry("te-77", fee_earner="DO", minutes=45, work_date=date(2026, 3, 2), narrative="Drafting ET3")
    sent = adapter.send_time_entry("PMS-260107", entry)
    assert sent.created is True and sent.value == Decimal("165.00")  # 45 minutes at £220 an hour
    assert adapter.send_time_entry("PMS-260107", entry).created is False
    wip = adapter.wip("PMS-260107")
    assert [(r.fee_earner, r.unbilled_minutes, r.unbilled_time) for r in wip.fee_earners] == [
        ("DO", 72 + 45, Decimal("264.00") + Decimal("165.00"))
    ]


def test_wip_by_fee_earner(adapter):
    wip = adapter.wip("PMS-260106")
    assert wip.pms_reference == "PMS-260106" and wip.currency == "GBP"
    rows = {r.fee_earner: r for r in wip.fee_earners}
    assert rows["PS"].name == "Priya Shah" and rows["PS"].unbilled_minutes == 102
    assert rows["PS"].unbilled_time == Decimal("552.50") and rows["PS"].unbilled_disbursements == Decimal("24.00")
    assert wip.total == wip.unbilled_time + wip.unbilled_disbursements
    assert wip.total == sum((r.unbilled_time + r.unbilled_disbursements for r in wip.fee_earners), Decimal(0))


def test_invoices_and_their_status(adapter):
    invoice = InvoiceDetails("inv-9", net_amount=Decimal("1000"), vat_amount=Decimal("200"), narrative="Interim")
    sent = adapter.send_invoice("PMS-260103", invoice)
    assert sent.created is True and sent.status == "issued"
    assert sent.gross_amount == Decimal("1200.00") and sent.outstanding == Decimal("1200.00")
    assert sent.due_date == TODAY + timedelta(days=30)
    assert adapter.send_invoice("PMS-260103", invoice).invoice_id == sent.invoice_id

    part = adapter.update_invoice_status(sent.invoice_id, "part-paid", amount_paid=Decimal("450"))
    assert (
        part.status == "part-paid" and part.amount_paid == Decimal("450.00") and part.outstanding == Decimal("750.00")
    )
    paid = adapter.update_invoice_status(sent.invoice_id, "paid")
    assert paid.status == "paid" and paid.outstanding == 0
    with pytest.raises(PmsError) as refused:
        adapter.update_invoice_status(sent.invoice_id, "cancelled")
    assert refused.value.status == 409 and "cannot become cancelled" in refused.value.message


def test_a_draft_invoice_billing_the_wip(adapter):
    draft = adapter.send_invoice(
        "PMS-260101", InvoiceDetails("inv-10", net_amount=Decimal("1347.50"), status="draft", bill_wip=True)
    )
    assert draft.status == "draft"
    assert adapter.wip("PMS-260101").unbilled_time == 0
    assert adapter.actual_fees("PMS-260101").actual_fees == Decimal("1850.00")  # a draft is not billed yet
    issued = adapter.update_invoice_status(draft.invoice_id, "issued")
    assert issued.status == "issued"
    assert adapter.actual_fees("PMS-260101").actual_fees == Decimal("3197.50")


def test_aged_debt_for_a_matter_and_a_client(adapter, clock):
    matter = adapter.aged_debt_for_matter("PMS-260104")
    assert matter.pms_reference == "PMS-260104" and matter.as_of == START
    assert list(matter.buckets) == list(AGEING_BUCKETS)
    assert matter.buckets == {
        "0-30": Decimal("0.00"),
        "31-60": Decimal("0.00"),
        "61-90": Decimal("2640.00"),
        "90+": Decimal("2100.00"),
    }
    assert matter.counts == {"0-30": 0, "31-60": 0, "61-90": 1, "90+": 1} and matter.invoices == ()

    client = adapter.aged_debt_for_client("CLI-0004", detail=True)
    assert client.client_id == "CLI-0004" and client.total == Decimal("5940.00")
    assert [(i.invoice_id, i.bucket) for i in client.invoices] == [
        ("PMS-INV-40012", "90+"),
        ("PMS-INV-40024", "61-90"),
        ("PMS-INV-40033", "0-30"),
    ]
    assert client.invoices[2].days_overdue == 20 and client.invoices[2].outstanding == Decimal("1200.00")

    later = adapter.aged_debt_for_client("CLI-0004", as_of=START + timedelta(days=31))
    assert later.buckets["31-60"] == Decimal("1200.00") and later.buckets["0-30"] == 0
    clock.advance(timedelta(days=31))
    assert adapter.aged_debt_for_client("CLI-0004").buckets == later.buckets


def test_not_yet_due_is_part_of_the_first_bucket(adapter):
    aged = adapter.aged_debt_for_matter("PMS-260102", detail=True)
    assert aged.not_yet_due == Decimal("720.00") and aged.buckets["0-30"] == Decimal("720.00")
    assert aged.invoices[0].days_overdue == -10


def test_actual_fees(adapter):
    fees = adapter.actual_fees("PMS-260109")
    assert fees.actual_fees == Decimal("4750.00")  # the Operate work item's actualFees attribute
    assert fees.paid == Decimal("3700.00") and fees.unbilled_time == 0 and fees.currency == "GBP"


def test_suppliers(adapter):
    suppliers = {s.supplier_id: s for s in adapter.suppliers()}
    assert suppliers["SUP-0003"].name == "Clearview Property Searches"
    assert suppliers["SUP-0003"].category == "search-provider" and suppliers["SUP-0003"].payment_terms_days == 14
    assert suppliers["SUP-0002"].operate_ods_id == "2b000000-0000-4000-8000-000000000005"
    assert suppliers["SUP-0004"].vat_number is None


# --- failures are PmsError ------------------------------------------------------------------------------


def test_refusals_keep_the_pms_status_and_message(adapter):
    with pytest.raises(PmsError) as missing:
        adapter.wip("PMS-000000")
    assert missing.value.status == 404 and "PMS-000000" in missing.value.message
    with pytest.raises(PmsError) as invalid:
        adapter.send_time_entry("PMS-260101", TimeEntry("te-bad", fee_earner="PS", minutes=0))
    assert invalid.value.status == 400 and "minutes" in invalid.value.message
    with pytest.raises(PmsError) as clash:
        adapter.send_time_entry("PMS-260101", TimeEntry("te-1", fee_earner="PS", minutes=6))
        adapter.send_time_entry("PMS-260102", TimeEntry("te-1", fee_earner="PS", minutes=6))
    assert clash.value.status == 409


def test_a_reference_cannot_change_the_route(adapter):
    with pytest.raises(PmsError) as odd:
        adapter.actual_fees("../suppliers")
    assert odd.value.status == 404


def test_a_missing_key_is_a_401(pms_app):
    with (
        httpx.Client(transport=httpx.WSGITransport(app=pms_app), base_url="http://pms.test") as client,
        pytest.raises(PmsError) as refused,
    ):
        DemoPmsAdapter(client).suppliers()
    assert refused.value.status == 401 and "X-API-Key" in refused.value.message


def test_a_slow_pms_is_a_504(pms_url, backend):
    backend.add_fault("/api/suppliers", delay=2, times=1)
    # Generous for connecting; impatient only for the answer, which the fault holds back 2 s.
    with (
        httpx.Client(
            base_url=pms_url, headers={"X-API-Key": KEY}, timeout=httpx.Timeout(5, read=0.2), trust_env=False
        ) as client,
        pytest.raises(PmsError) as slow,
    ):
        DemoPmsAdapter(client).suppliers()
    assert slow.value.status == 504 and "in time" in slow.value.message


def test_a_failing_pms_keeps_its_5xx(adapter, backend):
    backend.add_fault("/api/matters/*/actual-fees", status=503, times=1)
    with pytest.raises(PmsError) as failing:
        adapter.actual_fees("PMS-260101")
    assert failing.value.status == 503 and "injected fault" in failing.value.message
    assert adapter.actual_fees("PMS-260101").actual_fees == Decimal("1850.00")


def test_malformed_json_is_a_502_and_a_retry_is_safe(adapter, backend):
    backend.add_fault("/api/matters/<ref>/time", method="POST", malformed=True, times=1)
    entry = TimeEntry("te-mangled", fee_earner="TB", minutes=30)
    with pytest.raises(PmsError) as mangled:
        adapter.send_time_entry("PMS-260102", entry)
    assert mangled.value.status == 502 and "malformed JSON" in mangled.value.message
    retried = adapter.send_time_entry("PMS-260102", entry)
    assert retried.created is False and retried.value == Decimal("60.00")


def test_an_unreachable_pms_is_a_502():
    # The port stays bound (so no one else can take it) but never listens: connecting is refused, for sure.
    with (
        socket.socket() as closed,
        httpx.Client(base_url="http://127.0.0.1:1", timeout=5, trust_env=False) as client,
        pytest.raises(PmsError) as down,
    ):
        closed.bind(("127.0.0.1", 0))
        client.base_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        DemoPmsAdapter(client).suppliers()
    assert down.value.status == 502 and "cannot reach" in down.value.message


def test_an_answer_of_the_wrong_shape_is_a_502():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"suppliers": [{"name": "no id"}]})

    with (
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://pms.test") as client,
        pytest.raises(PmsError) as odd,
    ):
        DemoPmsAdapter(client).suppliers()
    assert odd.value.status == 502 and "supplierId" in odd.value.message


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (
            lambda a: a.wip("PMS-1"),
            {
                "pmsReference": "PMS-1",
                "feeEarners": [
                    {
                        "feeEarner": "PS",
                        "name": "Priya Shah",
                        "unbilledMinutes": "lots",
                        "unbilledTime": 1,
                        "unbilledDisbursements": 0,
                    }
                ],
                "unbilledTime": 1,
                "unbilledDisbursements": 0,
                "total": 1,
            },
        ),
        (
            lambda a: a.aged_debt_for_client("CLI-1"),
            {
                "asOf": "2026-03-02T09:00:00Z",
                "buckets": [{"label": label, "amount": 0, "count": "many"} for label in AGEING_BUCKETS],
                "total": 0,
                "notYetDue": 0,
            },
        ),
    ],
    ids=["wip-minutes", "aged-debt-count"],
)
def test_a_non_numeric_count_is_a_502_not_a_value_error(call, answer):
    """`int("lots")` raised ValueError straight out of the adapter; every failure must be PmsError."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    with (
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://pms.test") as client,
        pytest.raises(PmsError) as odd,
    ):
        call(DemoPmsAdapter(client))
    assert odd.value.status == 502 and "wrong kind" in odd.value.message


# --- the same adapter over a socket and through Operate's proxy -----------------------------------------------


def test_over_a_real_loopback_server(pms_url):
    with httpx.Client(base_url=pms_url, headers={"X-API-Key": KEY}, timeout=5, trust_env=False) as client:
        adapter = DemoPmsAdapter(client)
        ref = adapter.open_matter(inception()).pms_reference
        assert adapter.send_time_entry(ref, TimeEntry("te-live", fee_earner="PS", minutes=60)).value == Decimal(
            "325.00"
        )
        assert adapter.wip(ref).total == Decimal("325.00")


def test_through_operates_proxy_with_the_emulators_clock(em, app):
    """Operate injects the key; the adapter only holds an Operate token and the proxy's base URL."""
    pms_app = create_app(clock=em.clock)
    em.linked_services.add(
        LinkedService(
            name="pms", base_url="http://127.0.0.1:8766", auth="api-key", api_key_header="X-API-Key", api_key=KEY
        ),
        transport=httpx.WSGITransport(app=pms_app),
    )
    with httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://localhost/api/proxy/pms/_",
        headers={"Authorization": f"Bearer {client_token(app)}"},
    ) as client:
        adapter = DemoPmsAdapter(client)
        ref = adapter.open_matter(inception("3c000000-0000-4000-8000-000000000012")).pms_reference
        assert adapter.get_matter(ref).client_name == "Kestrel Software"
        before = adapter.aged_debt_for_matter("PMS-260103")
        em.clock.advance(timedelta(days=31))
        client.headers["Authorization"] = f"Bearer {client_token(app)}"  # a month on, the old token has expired
        after = adapter.aged_debt_for_matter("PMS-260103")
        with pytest.raises(PmsError) as missing:
            adapter.wip("PMS-000000")
    assert before.buckets["0-30"] == after.buckets["31-60"] == Decimal("1200.00")
    assert missing.value.status == 404
    received = pms_app.extensions["demo_pms"].requests(method="POST")
    assert received[0]["path"] == "/api/matters"
    assert received[0]["headers"]["X-Api-Key"] == "<redacted>"
    assert "Authorization" not in received[0]["headers"]  # the caller's Operate token stops at the proxy


def test_a_linked_service_names_its_adapter_and_gets_one_with_credentials(tmp_path):
    import pytest

    from emulator.core import Emulator
    from emulator.settings import Settings
    from emulator.solution.loading import SolutionError
    from pms_adapters.demo.adapter import DemoPmsAdapter
    from smartplans.testing import mount_demo_pms, solution_from_demo

    em = Emulator(Settings(data_dir=tmp_path / "d", demo=True))
    backend = mount_demo_pms(em)
    adapter = em.linked_services.adapter("demo-pms")
    assert isinstance(adapter, DemoPmsAdapter)
    assert adapter.get_matter("PMS-260102").pms_reference == "PMS-260102"
    assert backend.requests()[-1]["headers"]["X-Api-Key"] == "<redacted>"  # the key was sent, and not logged
    em.close()
    bad = solution_from_demo(
        tmp_path / "bad", toml='[linked_services.other]\nbase_url = "http://127.0.0.1:1"\nadapter = "sage"\n'
    )
    with pytest.raises(SolutionError, match="adapter 'sage' is unknown; known: \\['clio', 'demo'\\]"):
        Emulator(Settings(data_dir=tmp_path / "e", solution=bad))
