"""What the emulator's pages read of plan executions: the list, one run's steps with their log lines and host
calls, a work item's runs and the phases a run waits on. Only the SmartPlans area queries its tables; the
pages ask here (a page at a time, capped where a run can grow without bound)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from emulator.kernel.paging import Paged, TableReads, equal_to, paged


@dataclass
class ExecutionShown:
    """One run as its page shows it: the execution row, its steps in order, and per step its first log lines
    and host calls (rows) with how many more there were past the caps."""

    execution: sqlite3.Row
    steps: list[sqlite3.Row]
    logs: dict[str, list[sqlite3.Row]] = field(default_factory=dict)
    calls: dict[str, list[sqlite3.Row]] = field(default_factory=dict)
    more: dict[str, dict[str, int]] = field(default_factory=dict)
    waiting_on: dict[str, str] = field(default_factory=dict)


class ExecutionReads(TableReads):
    """Reads of the executions' tables for the pages; the engine (smartplans/executions/records.py) writes them."""

    table = "plan_executions"

    def page(self, page: int, size: int, *, state: str = "", plan: str = "") -> Paged:
        """The runs, newest first, of one state and one plan or all."""
        where, args = equal_to({"state": state, "plan": plan})
        sql = (
            "SELECT id, plan, plan_title, state, start_time, end_time, work_item_id, last_error "
            f"FROM plan_executions WHERE 1=1{where} ORDER BY rowid DESC"
        )
        with self.store.read() as conn:
            return paged(conn, sql, args, page, size)

    def of_work_item(self, work_item_id: str, limit: int) -> list[sqlite3.Row]:
        """A work item's latest runs, newest first."""
        with self.store.read() as conn:
            return conn.execute(
                "SELECT id, plan, plan_title, state, start_time, end_time, last_error FROM plan_executions "
                "WHERE work_item_id=? ORDER BY rowid DESC LIMIT ?",
                (work_item_id, limit),
            ).fetchall()

    def record(self, execution_id: str, *, logs_shown: int, calls_shown: int) -> ExecutionShown | None:
        """One run with its steps, each step's first `logs_shown` log lines and `calls_shown` host calls (the
        rest counted), and the phase each waiting step waits for; None when there is no such run."""
        with self.store.read() as conn:
            ex = conn.execute("SELECT * FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
            if ex is None:
                return None
            steps = conn.execute(
                "SELECT * FROM execution_steps WHERE execution_id=? ORDER BY seq", (ex["id"],)
            ).fetchall()
            ids = [s["id"] for s in steps]
            found = ExecutionShown(ex, steps)
            found.logs = {i: [] for i in ids}
            found.calls = {i: [] for i in ids}
            found.more = {i: {"logs": 0, "calls": 0} for i in ids}  # not shown: past the caps
            if ids:
                marks = ",".join("?" * len(ids))
                sql = f"SELECT * FROM step_logs WHERE step_id IN ({marks}) ORDER BY step_id, seq"
                _capped(conn.execute(sql, ids), found.logs, found.more, "logs", logs_shown)
                sql = f"SELECT * FROM step_calls WHERE step_id IN ({marks}) ORDER BY step_id, idx"
                _capped(conn.execute(sql, ids), found.calls, found.more, "calls", calls_shown)
            waiting = conn.execute("SELECT step_id, phase FROM runtime_triggers WHERE execution_id=?", (ex["id"],))
            found.waiting_on = {r["step_id"]: r["phase"] for r in waiting}
        return found

    def rerun_of(self, execution_id: str) -> tuple[str, str] | None:
        """(execution, step) the run is a rerun of; None for a run that is no rerun (or no run)."""
        row = self.store.row("SELECT rerun_of, rerun_step FROM plan_executions WHERE id=?", (execution_id,))
        return (row["rerun_of"], row["rerun_step"]) if row and row["rerun_of"] else None

    def recording(self, execution_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """One run as a test saves it (smartplans/recordings.py): the execution (id, plan, ev) and each step that
        ended, in order, with the ctx it started with and left, the steps it scheduled, its host calls (request and
        recorded answer), its log lines ("Level: message") and its error; None when there is no such run."""
        with self.store.read() as conn:
            ex = conn.execute("SELECT id, plan, ev FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
            if ex is None:
                return None
            rows = conn.execute(
                "SELECT * FROM execution_steps WHERE execution_id=? AND state IN ('COMPLETED', 'ERRORED') ORDER BY seq",
                (execution_id,),
            ).fetchall()
            steps = []
            for r in rows:
                calls = conn.execute(
                    "SELECT request, response FROM step_calls WHERE step_id=? ORDER BY idx", (r["id"],)
                )
                logs = [  # the last attempt's lines only: a replay runs the step once
                    f"{level}: {message}"
                    for level, message in conn.execute(
                        "SELECT log_level, log_message FROM step_logs WHERE step_id=? AND seq >= ? ORDER BY seq",
                        (r["id"], r["log_from"] or 1),
                    )
                ]
                if r["state"] == "ERRORED" and logs:
                    logs.pop()  # the engine's line for the failure itself: the step's `error` says it
                steps.append(
                    {
                        "id": r["id"],
                        "step": r["step"],
                        "status": "completed" if r["state"] == "COMPLETED" else "error",
                        "error": (_json(r["error"]) or {}).get("message"),
                        "started": r["started"],
                        "ctx_in": _json(r["ctx_in"]),
                        "ctx_out": _json(r["ctx_out"]) if r["state"] == "COMPLETED" else None,
                        "triggers": _json(r["triggers"]) or [],
                        "calls": [{"request": json.loads(c[0]), "response": json.loads(c[1])} for c in calls],
                        "logs": logs,
                    }
                )
        return {"id": ex["id"], "plan": ex["plan"], "ev": json.loads(ex["ev"])}, steps


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _capped(
    rows: Any, into: dict[str, list[sqlite3.Row]], more: dict[str, dict[str, int]], what: str, cap: int
) -> None:
    """Each step's rows up to `cap`; the rest only counted in `more[step][what]`."""
    for r in rows:
        if len(into[r["step_id"]]) >= cap:
            more[r["step_id"]][what] += 1
            continue
        into[r["step_id"]].append(r)
