"""The built-in finance widgets on Clio Manage, in Debian's chromium: a solution whose linked service
`clio` is a fake Clio in process (`fake = "clio"`), connected with the fake's own tokens, and a matter
carrying the `clioIntegrationId` of a Clio matter. The figures a fee earner sees are checked against
ones worked out here from the fake's records; every answer the fake gives is checked against Clio's
OpenAPI document."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest

from smartplans.testing import harness, solution_from_demo
from tests.helpers.clio_connection import CLIO_TOML, SERVICE, FakeClioConnection
from tests.helpers.clio_openapi import Conformance

WIP = "OperateFinance.WipWidget"
AGED = "OperateFinance.AgedDebtWidget"
MATTER = "3c000000-0000-4000-8000-000000000001"  # a demo matter; here it is linked to a Clio matter
CONFIG = {"pms": "clio", "linkedService": SERVICE, "referencePath": "attributes.clioIntegrationId"}
OVERDUE = (-20, 15, 50, 80, 120)  # days past due of the bills the test adds: every bucket, one not yet due


def money(cents: int) -> str:
    return f"£{cents / 100:,.2f}"


def cents(value: float) -> int:
    return round(value * 100)


def hours(seconds: float) -> str:
    text = f"{seconds / 3600:,.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " h"


def bucket_of(days: int) -> str:
    return "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"


@pytest.fixture(scope="module")
def clio_solution(tmp_path_factory):
    return solution_from_demo(tmp_path_factory.mktemp("clio") / "solution", toml=CLIO_TOML)


@pytest.fixture
def operate(request, clio_solution):
    """The plugin's emulator, for the solution with the Clio linked service (reset for each test)."""
    return harness(request.config, clio_solution)


@pytest.fixture
def connection(operate):
    """A fresh fake Clio behind the `clio` service for each test, connected; answers checked as they go."""
    em = operate.emulator
    conformance = Conformance()
    em.linked_services.mount_clio(SERVICE, em.clock, observer=conformance)
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    yield connection
    em.linked_services.token_providers.pop(SERVICE, None)
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"


def unbilled(backend, matter_id: int) -> list[dict]:
    return [
        a
        for a in backend.activities.values()
        if (a["matter"] or {}).get("id") == matter_id and not a["billed"] and not a["non_billable"]
    ]


@pytest.fixture
def clio_matter(operate, connection):
    """A Clio matter with unbilled time and expenses by two users and more than one page of activities, whose
    client owes bills in every bucket; the Operate matter carries its id."""
    backend = connection.backend
    matter_id = next(
        m
        for m in backend.matters
        if {a["type"] for a in unbilled(backend, m)} == {"TimeEntry", "ExpenseEntry"}
        and len({a["user"]["id"] for a in unbilled(backend, m)}) > 1
    )
    users = sorted(backend.users)
    for i in range(205):  # a second page of activities for the widget to follow
        entry = {"type": "TimeEntry", "date": "2026-01-02", "quantity": 360 * (1 + i % 5), "matter": {"id": matter_id}}
        backend.create_activity(entry, users[i % 2])
    today = operate.now.date()
    for days in OVERDUE:
        fee = backend.create_activity(
            {"type": "ExpenseEntry", "date": "2025-06-01", "price": 100.0 + days, "matter": {"id": matter_id}},
            users[0],
        )
        backend.bill_matter(matter_id, issued_at=today - timedelta(days=30 + days), activities=[fee["id"]])
    operate.set_attributes(MATTER, {"clioIntegrationId": str(matter_id)})
    return matter_id


def expected_debt(backend, client_id: int, today) -> dict:
    bills = [
        b
        for b in backend.bills.values()
        if b["client"]["id"] == client_id and b["state"] == "awaiting_payment" and b["balance"] > 0
    ]
    buckets: dict[str, list[dict]] = defaultdict(list)
    for bill in bills:
        bill = dict(bill, overdue=(today - date.fromisoformat(bill["due_at"])).days)
        buckets[bucket_of(bill["overdue"])].append(bill)
    everything = [b for rows in buckets.values() for b in rows]
    return {
        "total": sum(cents(b["balance"]) for b in everything),
        "buckets": buckets,
        "oldest": max(everything, key=lambda b: (b["overdue"], b["number"])),
    }


def test_the_enrich_path_reads_the_clio_id_from_the_work_item(operate, clio_matter):
    answer = operate.api("priya.shah").post(
        "/api/v1/public/workItem/findByQuery",
        {"search": {"workItemIds": [MATTER]}, "enrich": [{"path": "attributes.clioIntegrationId"}]},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["results"][0]["data"]["attributes.clioIntegrationId"] == str(clio_matter)


def test_wip_shows_the_unbilled_work_by_fee_earner_walking_every_page(operate, connection, clio_matter, widget_page):
    backend = connection.backend
    work = unbilled(backend, clio_matter)
    assert len(work) > 200
    by_user: dict[int, dict] = defaultdict(lambda: {"time": 0, "disb": 0, "seconds": 0.0})
    for a in work:
        row = by_user[a["user"]["id"]]
        if a["type"] == "TimeEntry":
            row["time"] += cents(a["total"])
            row["seconds"] += a["quantity"]
        else:
            row["disb"] += cents(a["total"])
    time, disb = sum(r["time"] for r in by_user.values()), sum(r["disb"] for r in by_user.values())

    page = widget_page(WIP, work_item=MATTER, config=CONFIG)

    text = page.text()
    assert f"Total WIP\n{money(time + disb)}" in text
    assert f"Unbilled time\n{money(time)}" in text and f"Unbilled disbursements\n{money(disb)}" in text
    assert hours(sum(r["seconds"] for r in by_user.values())) in text
    rows = page.page.locator(".of-fee-earners tbody tr")
    assert rows.count() == len(by_user)
    for user_id, figures in by_user.items():
        row = rows.filter(has_text=backend.users[user_id]["name"]).inner_text()
        assert money(figures["time"] + figures["disb"]) in row and hours(figures["seconds"]) in row
    matter = backend.matters[clio_matter]
    assert page.page.locator(".of-ref").inner_text() == matter["display_number"]
    attorney = (matter["responsible_attorney"] or {}).get("id")
    if attorney:
        assert backend.users[attorney]["name"] in page.page.locator(".of-head").inner_text()
    calls = [u.split("127.0.0.1", 1)[1].split("/", 1)[1] for u in page.requests if "/api/proxy/" in u]
    assert len([c for c in calls if c.startswith("api/proxy/clio/_/api/v4/activities.json")]) == 2  # two pages
    assert page.offsite_requests() == []
    page.assert_no_console_errors()


def test_aged_debt_shows_the_clients_bills_in_buckets_on_the_emulators_clock(
    operate, connection, clio_matter, widget_page
):
    backend = connection.backend
    client_id = backend.matters[clio_matter]["client"]["id"]
    debt = expected_debt(backend, client_id, operate.now.date())
    assert set(debt["buckets"]) == {"0-30", "31-60", "61-90", "90+"}

    page = widget_page(AGED, work_item=MATTER, config=CONFIG)

    text = page.text()
    assert f"Total outstanding\n{money(debt['total'])}" in text
    assert f"On this matter\n{money(debt['total'])}" in text  # the client's bills are all this matter's
    assert backend.contacts[client_id]["name"] in page.page.locator(".of-client").inner_text()
    for label in ("0-30", "31-60", "61-90", "90+"):
        bills = debt["buckets"][label]
        row = page.page.locator(f'.of-bucket[data-bucket="{label}"]').inner_text()
        assert money(sum(cents(b["balance"]) for b in bills)) in row
        assert (f"{len(bills)} invoice" + ("" if len(bills) == 1 else "s")) in row
    oldest = page.page.locator(".of-oldest").inner_text()
    assert debt["oldest"]["number"] in oldest and f"{debt['oldest']['overdue']} days overdue" in oldest
    page.page.locator('.of-bucket[data-bucket="0-30"] button').click()
    listed = page.page.locator(".of-bucket-invoices .of-invoice-row")
    assert listed.count() == len(debt["buckets"]["0-30"])
    assert "—" in page.page.locator(".of-bucket-invoices").inner_text()  # the bill not yet due
    page.assert_no_console_errors()

    operate.advance("P31D")  # past the fake's 30-day tokens too: the connection renews once, in the proxy
    later = expected_debt(backend, client_id, operate.now.date())
    page = widget_page(AGED, work_item=MATTER, config=CONFIG)
    assert f"{later['oldest']['overdue']} days overdue" in page.page.locator(".of-oldest").inner_text()
    assert later["oldest"]["overdue"] == debt["oldest"]["overdue"] + 31
    for label, bills in later["buckets"].items():
        row = page.page.locator(f'.of-bucket[data-bucket="{label}"]').inner_text()
        assert money(sum(cents(b["balance"]) for b in bills)) in row
    assert connection.refreshes == 1


@pytest.mark.parametrize("widget", [WIP, AGED])
def test_clio_failing_shows_the_error_state_then_try_again_recovers(connection, clio_matter, widget_page, widget):
    connection.backend.switches.fail_next = 1000  # the fake's 5xx switch: every call answers 503
    page = widget_page(widget, work_item=MATTER, config=CONFIG)
    error = page.page.locator(".of-error")
    assert "The PMS is unavailable (503)." in error.inner_text()
    assert page.page.locator(".of-totals").count() == 0
    failed = [e["text"] for e in page.harness_log("error")]
    assert failed and all(" 503 " in line and "/api/proxy/clio/_/api/v4/" in line for line in failed), failed
    page.assert_no_console_errors(allow_failed_requests=True)
    connection.backend.switches.fail_next = 0
    page.page.locator(".of-error button", has_text="Try again").click()
    page.page.wait_for_selector(".of-totals", timeout=10_000)
    assert "£" in page.page.locator(".of-totals").inner_text()


def test_not_connected_says_where_to_connect(operate, connection, clio_matter, widget_page):
    operate.emulator.linked_services.token_providers.pop(SERVICE)
    page = widget_page(WIP, work_item=MATTER, config=CONFIG)
    assert "The PMS could not be reached or failed (502 Bad Gateway)." in page.page.locator(".of-error").inner_text()
    assert "connect Clio in Settings > Integrations" in page.page.locator(".of-error-detail").inner_text()


def test_a_matter_without_a_clio_id_is_not_linked(connection, widget_page):
    page = widget_page(AGED, work_item=MATTER, config=CONFIG)
    assert "is not linked to the PMS yet" in page.text()
    page.assert_no_console_errors()


def test_a_clio_id_that_is_no_number_is_an_error_not_a_blank(operate, connection, widget_page):
    operate.set_attributes(MATTER, {"clioIntegrationId": "MAT-1"})
    page = widget_page(WIP, work_item=MATTER, config=CONFIG)
    assert "The widget failed: the Clio matter id on this work item (MAT-1) is not a whole number" in (
        page.page.locator(".of-error").inner_text()
    )


def test_the_demo_scenarios_say_they_cannot_drive_a_fake_clio(connection, widget_page):
    with pytest.raises(AssertionError, match="(?s)answered 400: .*drives the demo PMS fake, but linked service 'clio'"):
        widget_page(WIP, work_item=MATTER, config=CONFIG, scenario="pms-error")
    page = widget_page(WIP, work_item=MATTER, config=CONFIG, scenario="ok")  # no faults to set: it applies
    assert "is not linked to the PMS yet" in page.text()
