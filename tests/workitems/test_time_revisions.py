"""Send Time Entries to the PMS (seed 002), over time: a revised entry submitted again revises the PMS's entry,
the plan notices a PMS answer that does not hold what it sent, and time recorded on a task reaches the task's
matter (or the user is told, on the task, why it did not).

The demo's `time-submitted` plan against the real demo PMS fake in process (`operate` fixture).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ESTATE = "3c000000-0000-4000-8000-000000000001"  # MAT-00001, PMS-260101, Priya Shah (£325/h)
ASSET_TASK = "4d000000-0000-4000-8000-000000000005"  # TSK-00005, under MAT-00001
PRIYA = "1a000000-0000-4000-8000-000000000001"
TIME = "/api/v2/public/time/entry"
PLAN = "time-submitted"


def record(operate, work_item: str, seconds: int, narrative: str = "Drafting the estate accounts") -> str:
    priya = operate.api("priya.shah")
    response = priya.post(
        TIME,
        {
            "sharedoId": work_item,
            "odsId": PRIYA,
            "startDateTime": "2026-01-05T09:00:00Z",
            "durationSeconds": seconds,
            "segments": [{"id": "activity", "timeCodeId": "A103"}, {"id": "narrative", "segmentValue": narrative}],
        },
    )
    assert response.status_code == 201, response.json
    entry_id = response.json["id"]
    assert priya.post(f"{TIME}/{entry_id}/submit").status_code == 200
    return entry_id


def revise(operate, entry_id: str, seconds: int) -> None:
    """What a fee earner does in Operate: revise the submitted entry, change it, submit it again."""
    hannah, priya = operate.api("hannah.whitfield"), operate.api("priya.shah")
    assert hannah.post(f"/api/time/entry/{entry_id}/state/revise").status_code == 200
    assert priya.put(f"{TIME}/{entry_id}", {"durationSeconds": seconds}).status_code == 200
    assert priya.post(f"{TIME}/{entry_id}/submit").status_code == 200


def pms_entries(operate, entry_id: str, reference: str = "PMS-260101") -> list[dict[str, Any]]:
    return [t for t in operate.pms.time_entries_json(reference) if t["operateTimeEntryId"] == entry_id]


def comments(operate, item: str, entry_id: str) -> list[str]:
    rows = operate.api().get(f"/api/v1/public/workItem/{item}/comments?rowsPerPage=100").json["rows"]
    return [c["comment"] for c in rows if entry_id in c["comment"]]


def test_a_revised_entry_submitted_again_revises_the_pms_entry(operate):
    wip_before = Decimal(str(operate.pms.wip("PMS-260101")["unbilledTime"]))
    entry_id = record(operate, ESTATE, 75 * 60)
    (posted,) = pms_entries(operate, entry_id)
    assert (posted["minutes"], posted["value"], posted["revision"]) == (75, 406.25, 0)

    revise(operate, entry_id, 90 * 60)

    (revised,) = pms_entries(operate, entry_id)  # still one PMS entry for one Operate entry, the same id
    assert revised["timeEntryId"] == posted["timeEntryId"]
    assert (revised["minutes"], revised["value"], revised["revision"]) == (90, 487.5, 1)
    assert [(r["minutes"], r["value"]) for r in revised["revisions"]] == [(75, 406.25)]
    wip_after = Decimal(str(operate.pms.wip("PMS-260101")["unbilledTime"]))
    assert wip_after - wip_before == Decimal("487.5")  # WIP holds the revised value, not both
    operate.assert_execution(PLAN, "STOPPED", count=2)
    assert comments(operate, ESTATE, entry_id)[0] == (
        f"Time entry {entry_id} (90 min, Priya Shah) posted to the PMS as {posted['timeEntryId']} on PMS-260101, "
        "value 487.5 (revision 1, was 75 min, value 406.25)"
    )


def test_resubmitting_an_unchanged_entry_changes_nothing_in_the_pms(operate):
    entry_id = record(operate, ESTATE, 75 * 60)
    revise(operate, entry_id, 75 * 60)
    (entry,) = pms_entries(operate, entry_id)
    assert (entry["minutes"], entry["revision"]) == (75, 0)
    statuses = [r["status"] for r in operate.pms_requests("POST", "/api/matters/PMS-260101/time")]
    assert statuses == [201, 200]
    operate.assert_execution(PLAN, "STOPPED", count=2)


def test_a_pms_answer_that_does_not_hold_the_revision_fails_naming_the_difference(operate):
    entry_id = record(operate, ESTATE, 75 * 60)
    (stale,) = pms_entries(operate, entry_id)
    # a PMS that answers 200 with the entry as it was, as one ignoring revisions would
    operate.mock_host_call("POST", "/api/proxy/demo-pms/_/api/matters/*/time", status=200, body=stale)
    revise(operate, entry_id, 90 * 60)

    failed = [e for e in operate.executions(plan=PLAN) if e["state"] != "STOPPED"]
    assert len(failed) == 1 and failed[0]["state"] == "ERRORED", operate.describe()
    assert "does not hold what was sent: minutes 75 (sent 90)" in failed[0]["lastErrored"], operate.describe()
    assert not [c for c in comments(operate, ESTATE, entry_id) if "90 min" in c]  # never reported as posted


def test_billed_time_cannot_be_revised_and_the_plan_says_so(operate):
    entry_id = record(operate, ESTATE, 75 * 60)
    invoice, _ = operate.pms.add_invoice(
        "PMS-260101", operate_id="billed-in-the-pms", net_amount=Decimal("406.25"), bill_wip=True
    )
    revise(operate, entry_id, 90 * 60)

    (entry,) = pms_entries(operate, entry_id)
    assert (entry["minutes"], entry["invoiceId"]) == (75, invoice.invoice_id)
    (refused,) = [r for r in operate.pms_requests("POST", "/api/matters/PMS-260101/time") if r["status"] == 409]
    failed = [e for e in operate.executions(plan=PLAN) if e["state"] == "ERRORED"]
    assert len(failed) == 1, operate.describe()
    assert f"is billed on invoice {invoice.invoice_id}" in failed[0]["lastErrored"], operate.describe()
    assert refused["body"]["minutes"] == 90


def test_time_recorded_on_a_task_goes_to_the_tasks_matter(operate):
    entry_id = record(operate, ASSET_TASK, 30 * 60, "Chasing the bank valuations")
    (posted,) = pms_entries(operate, entry_id)
    assert (posted["minutes"], posted["narrative"]) == (30, "Chasing the bank valuations")
    operate.assert_execution(PLAN, "STOPPED", sharedo_id=ASSET_TASK)
    assert comments(operate, ASSET_TASK, entry_id) == [
        f"Time entry {entry_id} (30 min, Priya Shah) posted to the PMS as {posted['timeEntryId']} on PMS-260101, "
        "value 162.5"
    ]


def test_time_on_a_task_under_no_matter_is_not_sent_and_the_task_says_why(operate):
    task = operate.create_work_item("task", "Read the new practice directions")
    entry_id = record(operate, task["id"], 30 * 60)
    assert operate.pms_requests("POST", "/api/matters/*") == []
    (execution,) = operate.executions(plan=PLAN)
    assert execution["state"] == "ERRORED" and "not on a matter" in execution["lastErrored"]
    assert comments(operate, task["id"], entry_id) == [
        f"Time entry {entry_id} on {task['reference']} was not sent to the PMS: it is not on a matter or under "
        "one, so the time has nowhere to go in the PMS"
    ]
