"""`operate pms push-suppliers` / `push-actual-fees` against a served emulator and a served demo PMS."""

from __future__ import annotations

import json
import socket

import httpx

from tests.helpers.pms_push import push

KEY = {"X-API-Key": "demo-pms-key"}


def organisations(em) -> dict[str, dict]:
    with em.store.read() as conn:
        rows = conn.execute("SELECT body FROM ods WHERE kind='organisation'").fetchall()
    return {d["name"]: d for d in (json.loads(r[0]) for r in rows)}


def test_push_suppliers_creates_then_updates_then_leaves_alone(both):
    url, pms_url, em = both
    first = push("push-suppliers", url, pms_url)
    assert first.returncode == 0, first.stderr
    assert "[1/5]" in first.stdout and "created 2, updated 3, unchanged 0, failed 0" in first.stdout
    orgs = organisations(em)
    assert orgs["HM Land Registry"]["tags"] == ["supplier"] and orgs["HM Land Registry"]["externalReference"]
    assert "supplier" in orgs["Clearview Property Searches"]["tags"]
    again = push("push-suppliers", url, pms_url)
    assert "created 0, updated 0, unchanged 5, failed 0" in again.stdout


def test_push_actual_fees_sends_each_linked_matter_and_reports_alerts(both):
    url, pms_url, em = both
    matter = "3c000000-0000-4000-8000-000000000002"  # MAT-00002 = PMS-260102
    with httpx.Client(base_url=pms_url, headers=KEY, timeout=10, trust_env=False) as pms:
        seeded = pms.get("/api/matters/PMS-260102/actual-fees").json()["actualFees"]
        assert float(em.finance.fees(matter)["actualFees"]) == seeded  # the demo starts in step
        # The finance team bills the matter in the PMS: its actual fees move on, Operate's do not (yet).
        billed = pms.post(
            "/api/matters/PMS-260102/invoices", json={"operateInvoiceId": "push-test-1", "netAmount": 1234.5}
        )
        assert billed.status_code == 201, billed.text
        pms_fees = pms.get("/api/matters/PMS-260102/actual-fees").json()["actualFees"]
    assert pms_fees == seeded + 1234.5
    assert float(em.finance.fees(matter)["actualFees"]) == seeded

    result = push("push-actual-fees", url, pms_url)
    assert result.returncode == 0, result.stderr
    assert "MAT-00002 = PMS-260102: actual fees" in result.stdout
    assert "failed 0" in result.stdout
    assert float(em.finance.fees(matter)["actualFees"]) == pms_fees  # Operate now holds the PMS's figure


def test_push_says_clearly_when_operate_is_not_there(both):
    _, pms_url, _ = both
    # A port bound for the length of the test and never listening: a connection there is refused, for sure.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
        result = push("push-suppliers", nowhere, pms_url)
    assert result.returncode == 2 and f"cannot reach Operate at {nowhere}" in result.stderr
