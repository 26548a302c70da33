"""ClioPmsAdapter against the in-process fake Clio: every figure is worked out here from the fake's own
records (its activities and bills), never copied from the adapter; every answer the fake gives is
checked against Clio's OpenAPI document."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from pms_adapters.base import AGEING_BUCKETS, PaymentRequest, PmsAdapter, PmsError, TimeEntry
from pms_adapters.clio.adapter import PAGE_SIZE, ClioPmsAdapter, marker
from pms_adapters.fakes.clio.app import create_app
from pms_adapters.fakes.clio.models import ClioBackend
from pms_adapters.registry import adapter_class
from tests.conftest import START
from tests.helpers.clio_openapi import Conformance

CENT = Decimal("0.01")


def money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def bucket_of(days: int) -> str:
    """The ageing buckets as the finance table names them, written out again here."""
    return "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"


@pytest.fixture
def backend(clock):
    return ClioBackend(clock, matters=300, rate_limit=10**6)


@pytest.fixture
def http(backend):
    conformance = Conformance()
    token = backend.issue_token(min(backend.users))["access_token"]
    with httpx.Client(
        base_url="http://127.0.0.1:8767",
        transport=httpx.WSGITransport(app=create_app(backend, observer=conformance)),
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"


@pytest.fixture
def adapter(http, clock):
    return ClioPmsAdapter(http, now=clock.now)


def unbilled(backend, matter_id: int) -> list[dict]:
    return [
        a
        for a in backend.activities.values()
        if (a["matter"] or {}).get("id") == matter_id and not a["billed"] and not a["non_billable"]
    ]


def a_matter_with_mixed_wip(backend) -> int:
    for matter_id in backend.matters:
        work = unbilled(backend, matter_id)
        if {a["type"] for a in work} == {"TimeEntry", "ExpenseEntry"} and len({a["user"]["id"] for a in work}) > 1:
            return matter_id
    raise AssertionError("the seed has no matter with unbilled time and expenses by two users")


def test_it_is_the_clio_adapter_of_the_registry(adapter):
    assert adapter_class("clio") is ClioPmsAdapter
    assert isinstance(adapter, PmsAdapter)


def test_wip_sums_the_unbilled_activities_by_user(backend, adapter):
    matter_id = a_matter_with_mixed_wip(backend)
    work = unbilled(backend, matter_id)
    expected: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "time": Decimal(0), "disb": Decimal(0)})
    for a in work:
        row = expected[str(a["user"]["id"])]
        if a["type"] == "TimeEntry":
            row["seconds"] += a["quantity"]
            row["time"] += money(a["total"])
        else:
            row["disb"] += money(a["total"])

    wip = adapter.wip(str(matter_id))

    assert wip.pms_reference == str(matter_id)
    assert {e.fee_earner: (e.unbilled_minutes, e.unbilled_time, e.unbilled_disbursements) for e in wip.fee_earners} == {
        user: (round(r["seconds"] / 60), r["time"], r["disb"]) for user, r in expected.items()
    }
    assert {e.name for e in wip.fee_earners} == {backend.users[int(u)]["name"] for u in expected}
    assert wip.unbilled_time == sum(r["time"] for r in expected.values())
    assert wip.unbilled_disbursements == sum(r["disb"] for r in expected.values())
    assert wip.total == wip.unbilled_time + wip.unbilled_disbursements
    # The same total as Clio's own roll-up of the matter's unbilled work.
    rollup = {r["id"]: r for r in backend.billable_matters()}[matter_id]
    assert wip.total == money(rollup["unbilled_amount"])
    assert all(isinstance(e.unbilled_time, Decimal) for e in wip.fee_earners)


def test_wip_walks_every_page_of_a_busy_matter(backend, adapter):
    matter_id = a_matter_with_mixed_wip(backend)
    user = sorted(backend.users)[2]
    for i in range(PAGE_SIZE + 30):  # more than one page of activities
        backend.create_activity(
            {"type": "TimeEntry", "date": "2026-01-02", "quantity": 360 + i, "matter": {"id": matter_id}}, user
        )
    work = unbilled(backend, matter_id)
    assert len(work) > PAGE_SIZE
    wip = adapter.wip(str(matter_id))
    assert wip.total == sum(money(a["total"]) for a in work)
    mine = next(e for e in wip.fee_earners if e.fee_earner == str(user))
    assert mine.unbilled_minutes == round(sum(a["quantity"] for a in work if a["user"]["id"] == user) / 60)


def test_a_matter_with_nothing_unbilled_has_zero_wip(backend, adapter):
    matter_id = next(m for m in backend.matters if not unbilled(backend, m))
    wip = adapter.wip(str(matter_id))
    assert wip.total == Decimal("0.00") and wip.fee_earners == ()


def test_aged_debt_for_every_client_is_the_bills_awaiting_payment_bucketed_by_due_date(backend, adapter, clock):
    today = clock.now().date()
    owing: dict[int, list[dict]] = defaultdict(list)
    for bill in backend.bills.values():
        if bill["state"] == "awaiting_payment" and bill["balance"] > 0:
            owing[bill["client"]["id"]].append(bill)
    assert len(owing) > 10
    seen_buckets = set()
    for client_id, bills in owing.items():
        debt = adapter.aged_debt_for_client(str(client_id), detail=True)
        amounts = dict.fromkeys(AGEING_BUCKETS, Decimal(0))
        counts = dict.fromkeys(AGEING_BUCKETS, 0)
        for bill in bills:
            days = (today - date.fromisoformat(bill["due_at"])).days
            amounts[bucket_of(days)] += money(bill["balance"])
            counts[bucket_of(days)] += 1
            seen_buckets.add(bucket_of(days))
        assert debt.buckets == amounts and debt.counts == counts, client_id
        assert debt.total == sum(money(b["balance"]) for b in bills)
        assert debt.not_yet_due == sum(
            (money(b["balance"]) for b in bills if date.fromisoformat(b["due_at"]) > today), Decimal(0)
        )
        assert debt.client_id == str(client_id) and debt.as_of == clock.now()
        assert [i.invoice_id for i in debt.invoices] == [
            b["number"] for b in sorted(bills, key=lambda b: (b["due_at"], b["number"]))
        ]
    assert seen_buckets == set(AGEING_BUCKETS)  # the seed reaches every bucket


def test_a_client_s_bills_add_up_and_move_buckets_as_the_clock_runs(backend, adapter, clock):
    matter_id = a_matter_with_mixed_wip(backend)
    matter = backend.matters[matter_id]
    today = clock.now().date()
    made = []
    for days_ago in (10, 50, 80, 130):  # one bill due in each bucket, beside whatever the seed gave
        backend.create_activity(
            {"type": "ExpenseEntry", "date": "2026-01-01", "price": 100 + days_ago, "matter": {"id": matter_id}},
            min(backend.users),
        )
        made.append(backend.bill_matter(matter_id, issued_at=today - timedelta(days=days_ago)))
    bills = [
        b
        for b in backend.bills.values()
        if b["client"]["id"] == matter["client"]["id"] and b["state"] == "awaiting_payment" and b["balance"] > 0
    ]
    for when in (clock.now(), clock.now() + timedelta(days=31)):
        debt = adapter.aged_debt_for_client(str(matter["client"]["id"]), as_of=when)
        expected = dict.fromkeys(AGEING_BUCKETS, Decimal(0))
        for bill in bills:
            expected[bucket_of((when.date() - date.fromisoformat(bill["due_at"])).days)] += money(bill["balance"])
        assert debt.buckets == expected and debt.invoices == ()
    on_matter = adapter.aged_debt_for_matter(str(matter_id), detail=True)
    assert on_matter.pms_reference == str(matter_id)
    assert {i.invoice_id for i in on_matter.invoices} >= {b["number"] for b in made}
    assert all(i.pms_reference == str(matter_id) for i in on_matter.invoices)
    assert on_matter.invoices[0].days_overdue == max(i.days_overdue for i in on_matter.invoices)
    clock.advance(timedelta(days=20))  # no as_of: the adapter's clock, here the backend's (tokens last 30 days)
    later = adapter.aged_debt_for_matter(str(matter_id), detail=True)
    assert [i.days_overdue for i in later.invoices] == [i.days_overdue + 20 for i in on_matter.invoices]
    assert [i.bucket for i in later.invoices] == [bucket_of(i.days_overdue) for i in later.invoices]


def test_actual_fees_are_the_time_billed_on_issued_bills(backend, adapter):
    matter_id = next(m for m in backend.matters if any(b["matters"][0]["id"] == m for b in backend.bills.values()))
    bills = [b for b in backend.bills.values() if b["matters"][0]["id"] == matter_id]
    issued = [b for b in bills if b["state"] in ("awaiting_payment", "paid")]
    billed_time = [
        a for a in backend.activities.values() if a["type"] == "TimeEntry" and (a["bill"] or {}).get("id") in
        {b["id"] for b in issued}
    ]  # fmt: skip
    fees = adapter.actual_fees(str(matter_id))
    assert fees.actual_fees == sum((money(a["total"]) for a in billed_time), Decimal(0))
    assert fees.paid == sum((money(b["paid"]) for b in issued), Decimal(0))
    assert fees.unbilled_time == sum(
        (money(a["total"]) for a in unbilled(backend, matter_id) if a["type"] == "TimeEntry"), Decimal(0)
    )


def test_get_matter_reads_the_clio_matter(backend, adapter):
    matter = next(m for m in backend.matters.values() if m["responsible_attorney"])
    found = adapter.get_matter(str(matter["id"]))
    assert found.pms_reference == str(matter["id"]) and found.title == matter["description"]
    assert found.client_id == str(matter["client"]["id"])
    assert found.client_name == backend.contacts[matter["client"]["id"]]["name"]
    assert found.fee_earner == backend.users[matter["responsible_attorney"]["id"]]["name"]
    assert found.status == matter["status"].lower() and found.billing_arrangements == "hourly"


def test_time_is_sent_as_a_time_entry_once_per_operate_id(backend, adapter):
    matter_id = a_matter_with_mixed_wip(backend)
    user = backend.users[sorted(backend.users)[1]]
    before = adapter.wip(str(matter_id)).unbilled_time
    entry = TimeEntry("te-7f3a", fee_earner=user["initials"], minutes=48, work_date=date(2026, 1, 2), narrative="Call")
    sent = adapter.send_time_entry(str(matter_id), entry)
    made = backend.activities[int(sent.time_entry_id)]
    assert made["type"] == "TimeEntry" and made["quantity"] == 48 * 60 and made["date"] == "2026-01-02"
    assert made["user"]["id"] == user["id"] and made["note"] == f"Call {marker('te-7f3a')}"
    assert sent.created and sent.value == money(round(0.8 * backend.rates[user["id"]], 2))
    assert adapter.wip(str(matter_id)).unbilled_time == before + sent.value
    count = len(backend.activities)
    again = adapter.send_time_entry(str(matter_id), entry)
    assert (again.time_entry_id, again.value, again.created) == (sent.time_entry_id, sent.value, False)
    assert len(backend.activities) == count
    by_name = adapter.send_time_entry(str(matter_id), TimeEntry("te-2", fee_earner=user["name"].upper(), minutes=6))
    assert backend.activities[int(by_name.time_entry_id)]["user"]["id"] == user["id"]
    assert backend.activities[int(by_name.time_entry_id)]["date"] == START.date().isoformat()


def test_a_disbursement_is_sent_as_an_expense_entry_once_per_operate_id(backend, adapter):
    matter_id = a_matter_with_mixed_wip(backend)
    before = adapter.wip(str(matter_id)).unbilled_disbursements
    payment = PaymentRequest(
        "pr-91", amount=Decimal("240.00"), description="Counsel's fee", vat_amount=Decimal("48.00"),
        supplier_invoice_reference="INV-88", incurred_date=date(2026, 1, 3),
    )  # fmt: skip
    sent = adapter.send_disbursement(str(matter_id), payment)
    made = backend.activities[int(sent.disbursement_id)]
    assert made["type"] == "ExpenseEntry" and made["total"] == 240.0 and made["date"] == "2026-01-03"
    assert made["note"] == "Counsel's fee (supplier invoice INV-88) (VAT 48.00 GBP) [Operate pr-91]"
    assert sent.created and sent.status == "unbilled"
    assert adapter.wip(str(matter_id)).unbilled_disbursements == before + Decimal("240.00")
    again = adapter.send_disbursement(str(matter_id), payment)
    assert again.disbursement_id == sent.disbursement_id and not again.created


def test_bad_references_and_unknown_people_are_refused_before_clio_is_asked(backend, adapter):
    for bad in ("MAT-1", "", "1.5", "١٢"):
        with pytest.raises(PmsError, match="a Clio matter id is a whole number") as caught:
            adapter.wip(bad)
        assert caught.value.status == 400
    with pytest.raises(PmsError, match="Clio has no user 'Nobody Here'") as caught:
        adapter.send_time_entry(str(next(iter(backend.matters))), TimeEntry("te-x", "Nobody Here", 6))
    assert caught.value.status == 422
    with pytest.raises(PmsError, match="minutes must be a whole number above 0"):
        adapter.send_time_entry(str(next(iter(backend.matters))), TimeEntry("te-y", "AS", 0))


def test_an_unknown_matter_is_a_404_not_zero(adapter):
    with pytest.raises(PmsError, match="Matter 42 was not found") as caught:
        adapter.wip("42")
    assert caught.value.status == 404
    with pytest.raises(PmsError) as caught:
        adapter.aged_debt_for_matter("42")
    assert caught.value.status == 404


@pytest.mark.parametrize("method", ["open_matter", "get_disbursement", "send_invoice", "update_invoice_status"])
def test_what_clio_cannot_take_from_operate_is_a_501_saying_why(adapter, method):
    call = getattr(adapter, method)
    with pytest.raises(PmsError, match="Clio Manage cannot do") as caught:
        call(*([None] * (call.__code__.co_argcount - 1 - len(call.__defaults__ or ()))))
    assert caught.value.status == 501
    with pytest.raises(PmsError, match="no supplier list") as caught:
        adapter.suppliers()
    assert caught.value.status == 501


def test_clio_s_failures_come_out_as_pms_errors(backend, adapter):
    matter_id = str(next(iter(backend.matters)))
    backend.switches.fail_next = 1
    with pytest.raises(PmsError) as caught:
        adapter.get_matter(matter_id)
    assert caught.value.status == 503 and "told to fail" in caught.value.message
    backend.revoke_tokens()
    with pytest.raises(PmsError, match="connect Clio again in Settings > Integrations") as caught:
        adapter.get_matter(matter_id)
    assert caught.value.status == 401


def test_a_rate_limited_call_says_when_to_try_again(clock):
    backend = ClioBackend(clock, matters=5, rate_limit=2)
    token = backend.issue_token(min(backend.users))["access_token"]
    conformance = Conformance()
    http = httpx.Client(
        base_url="http://127.0.0.1:8767",
        transport=httpx.WSGITransport(app=create_app(backend, observer=conformance)),
        headers={"Authorization": f"Bearer {token}"},
    )
    adapter = ClioPmsAdapter(http, now=clock.now)
    matter_id = str(next(iter(backend.matters)))
    adapter.get_matter(matter_id)
    adapter.get_matter(matter_id)
    with pytest.raises(PmsError, match=r"rate limit was reached; try again in 60 s") as caught:
        adapter.get_matter(matter_id)
    assert caught.value.status == 429
    assert conformance.seen == 3 and conformance.problems == []
