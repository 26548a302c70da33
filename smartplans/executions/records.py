"""Execution records: the rows of plan executions and their steps, the host calls each step made, the
log lines it wrote, the timers and phase triggers it waits on, and the reads the API and pages show.

Every write an execution makes goes through here, inside one transaction each, so what is recorded is
what happened (DESIGN decision 2: a host call's answer is committed before the step runs again).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from emulator.kernel.clock import LATEST, iso
from emulator.kernel.errors import ApiError, not_found
from emulator.kernel.store import dumps_ascii as dumps
from emulator.workitem_reads import WorkItemReads

from ..plans import Plan
from ..runtime import Limits, StepResult, cut

RUNNING, WAITING, STOPPED, ERRORED = "RUNNING", "WAITING", "STOPPED", "ERRORED"
TIMER_KIND = "plan-step"


def _maybe(value: Any) -> str | None:
    return None if value is None else dumps(value)


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def check_triggers(triggers: list[dict[str, Any]]) -> str | None:
    """What is wrong with the triggers a step asked for, in the plan author's words; None if nothing."""
    for t in triggers:
        step = t.get("step")
        if not isinstance(step, str) or not step:
            return "a trigger names no step"
        if t.get("kind") == "subprocess" and t.get("at") is not None:
            at = t["at"]
            try:
                due = datetime.fromtimestamp(at / 1000, tz=timezone.utc)
            except (TypeError, ValueError, OverflowError, OSError):
                due = None
            if due is None or due >= LATEST:
                return f"trigger.SubProcess({step!r}): the time it asks for ({at!r} ms) is not a usable date"
        if t.get("kind") == "on-phase" and not (t.get("phase") and t.get("sharedoId")):
            return f"an OnPhase trigger for step {step!r} needs a work item and a phase"
    return None


# The answer recorded for a host call while it is in flight: a row with it after a crash is a call that was sent
# (or was about to be) and whose answer was lost. Never handed to a plan: the call is made again.
SENT = dumps({"inFlight": True})


def _recorded(conn: sqlite3.Connection, step_id: str) -> list[dict[str, Any]]:
    """A step's recorded host calls in order (answered ones); `refetch` marks those a retry makes again."""
    rows = conn.execute(
        "SELECT request, response, refetch FROM step_calls WHERE step_id=? AND response<>? ORDER BY idx",
        (step_id, SENT),
    ).fetchall()
    calls = [{"request": json.loads(r[0]), "response": json.loads(r[1])} for r in rows]
    for call, row in zip(calls, rows, strict=True):
        if row[2]:
            call["refetch"] = True
    return calls


@dataclass
class Attempt:
    """One step about to run: everything it needs, so the common path reads nothing back."""

    execution_id: str
    plan: str
    ev: dict[str, Any]
    ctx: dict[str, Any]
    step_id: str
    step: str
    recorded: list[dict[str, Any]]
    started: str
    retrying: bool = False  # a later attempt (retry, or a restart mid-step): the path may differ


class ExecutionRecords:
    """The tables plan_executions, execution_steps, step_calls, step_logs and runtime_triggers (and the
    plan-step timers among the scheduler's jobs), written and read for one emulator's executions."""

    def __init__(
        self, *, store: Any, clock: Any, scheduler: Any, workitems: Any, plans: Mapping[str, Plan], limits: Limits
    ) -> None:
        """`plans` is the engine's own (live) map of loaded plans: an execution's read lists its plan's steps;
        `limits` cuts the log lines and errors that are stored."""
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.workitems = workitems
        self.plans = plans
        self.limits = limits

    # -- starting -------------------------------------------------------------------------------
    def started(self, trigger_id: str, event_number: int) -> bool:
        """Whether this trigger started an execution for this event already (an event is dispatched again
        after a restart)."""
        with self.store.read() as conn:
            return (
                conn.execute(
                    "SELECT 1 FROM plan_executions WHERE trigger_id=? AND event_number=?", (trigger_id, event_number)
                ).fetchone()
                is not None
            )

    def create(
        self,
        execution_id: str,
        plan_name: str,
        plan: Plan | None,
        ev: dict[str, Any],
        ctx: dict[str, Any],
        step: str,
        now: str,
        *,
        trigger_id: str | None,
        event_number: int | None,
        rerun_of: tuple[str, str] | None = None,
    ) -> str:
        """A new execution, RUNNING, with its first step RUNNING in the same transaction; the step's id.
        `rerun_of`: (execution, step) a rerun was made from."""
        sharedo_id = (ev.get("Data") or {}).get("sharedoId")
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO plan_executions (id, plan, plan_title, plan_type, state, start_time, end_time, "
                "work_item_id, trigger_id, event_number, ev, ctx, last_error, rerun_of, rerun_step) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    execution_id,
                    plan_name,
                    plan.title if plan else plan_name,
                    plan.plan_type if plan else "script",
                    RUNNING,
                    now,
                    None,
                    sharedo_id,
                    trigger_id,
                    event_number,
                    dumps(ev),
                    dumps(ctx),
                    None,
                    *(rerun_of or (None, None)),
                ),
            )
            return self._queue(tx, execution_id, step, None, state="RUNNING", started=now, seq=1, ctx_in=ctx)

    def _queue(
        self,
        tx: sqlite3.Connection,
        execution_id: str,
        step: str,
        due: str | None,
        state: str = "QUEUED",
        started: str | None = None,
        seq: int | None = None,
        ctx_in: dict[str, Any] | None = None,
    ) -> str:
        if seq is None:
            seq = tx.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM execution_steps WHERE execution_id=?", (execution_id,)
            ).fetchone()[0]
        step_id = str(uuid.uuid4())
        tx.execute(
            "INSERT INTO execution_steps (id, execution_id, seq, step, state, due_at, started, ended, attempts, error, "
            "ctx_in) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (step_id, execution_id, seq, step, state, due, started, None, 1 if started else 0, None, _maybe(ctx_in)),
        )
        return step_id

    # -- stepping -------------------------------------------------------------------------------
    def work_item_of(self, execution_id: str) -> str | None:
        """The work item an execution was started for (lower case), if any."""
        with self.store.read() as conn:
            row = conn.execute("SELECT work_item_id FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
        return str(row[0]).lower() if row and row[0] else None

    def ended(self, execution_id: str) -> dict[str, Any] | None:
        """What the on_ended listeners are told of an execution that stopped or errored; None otherwise."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT plan, state, last_error, work_item_id FROM plan_executions WHERE id=?", (execution_id,)
            ).fetchone()
        if row is None or row["state"] not in (STOPPED, ERRORED):
            return None  # WAITING (a timer, a phase) or gone with a reset
        item = WorkItemReads(self.store).titles([row["work_item_id"]]).get(row["work_item_id"], {})
        ended = {"id": execution_id, "plan": row["plan"], "state": row["state"], "workItem": item.get("reference")}
        ended["error"] = row["last_error"]
        return ended

    def open_step(self, execution_id: str) -> str | None:
        """The step an execution is on (the first QUEUED or RUNNING one), if any."""
        row = self.store.row(
            "SELECT id FROM execution_steps WHERE execution_id=? AND state IN ('QUEUED', 'RUNNING') "
            "ORDER BY seq LIMIT 1",
            (execution_id,),
        )
        return row["id"] if row else None

    def errored(self, execution_id: str, reason: str) -> None:
        """An execution ERRORED with no step to blame."""
        with self.store.transaction() as tx:
            tx.execute("UPDATE plan_executions SET state=?, last_error=? WHERE id=?", (ERRORED, reason, execution_id))

    def begin_next(self, execution_id: str) -> Attempt | None:
        """Mark the next queued step RUNNING; None when there is none or the execution has ended."""
        started = iso(self.clock.now())
        with self.store.transaction() as tx:
            ex = tx.execute("SELECT * FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
            row = tx.execute(
                "SELECT * FROM execution_steps WHERE execution_id=? AND state IN ('QUEUED', 'RUNNING') "
                "ORDER BY seq LIMIT 1",
                (execution_id,),
            ).fetchone()
            if ex is None or ex["state"] in (STOPPED, ERRORED) or row is None:
                return None
            # A step keeps the time of its first attempt: a retry or a restart replays it exactly.
            started = row["started"] or started
            tx.execute(  # the ctx it starts with: a retry's is its first attempt's (a failed step changes none)
                "UPDATE execution_steps SET state='RUNNING', started=?, attempts=attempts+1, "
                "ctx_in=COALESCE(ctx_in, ?) WHERE id=?",
                (started, ex["ctx"], row["id"]),
            )
            tx.execute("UPDATE plan_executions SET state=? WHERE id=?", (RUNNING, execution_id))
            recorded = _recorded(tx, row["id"])
            self._note_lost_answers(tx, row["id"])
            tx.execute(  # this attempt's log lines start here: an earlier attempt's stay, but a replay has only these
                "UPDATE execution_steps SET log_from="
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM step_logs WHERE step_id=?) WHERE id=?",
                (row["id"], row["id"]),
            )
        return Attempt(
            execution_id,
            ex["plan"],
            json.loads(ex["ev"]),
            json.loads(ex["ctx"]),
            row["id"],
            row["step"],
            recorded,
            started,
            retrying=row["attempts"] > 0,
        )

    def _note_lost_answers(self, tx: sqlite3.Connection, step_id: str) -> None:
        """A call recorded as sent but never answered (the process ended while it was in flight): exactly
        once cannot be promised for it, so the step's log says so before the call is made again."""
        for r in tx.execute("SELECT request FROM step_calls WHERE step_id=? AND response=?", (step_id, SENT)):
            request = json.loads(r[0])
            call = f"{str(request.get('method', 'GET')).upper()} {request.get('url', '')}"
            line = (
                f"the first attempt's outcome is unknown: {call} was sent before the emulator stopped and its "
                "answer was lost; it is sent again now, so the other side may see it twice"
            )
            self._write_logs(tx, step_id, [{"logLevel": "Warning", "logMessage": line}], self.clock.now())

    def steps_taken(self, execution_id: str) -> int:
        """How many steps an execution has had (queued, waiting and run)."""
        with self.store.read() as conn:
            taken = conn.execute("SELECT COUNT(*) FROM execution_steps WHERE execution_id=?", (execution_id,))
            return taken.fetchone()[0]

    def call_sent(self, step_id: str, index: int, request: dict[str, Any], *, replace: bool) -> None:
        """A write about to go: recorded as sent first, so a crash while it is in flight is seen on resume.
        `replace`: a retried step took another path from `index`, so the calls recorded after it go."""
        with self.store.transaction() as tx:
            if replace:  # a retried step took another path from here
                tx.execute("DELETE FROM step_calls WHERE step_id=? AND idx>=?", (step_id, index))
            tx.execute(
                "INSERT OR REPLACE INTO step_calls VALUES (?,?,?,?,0)",
                (step_id, index, dumps(request), SENT),
            )

    def call_answered(
        self, step_id: str, index: int, request: dict[str, Any], response: dict[str, Any], *, replace: bool
    ) -> None:
        """A host call's answer, committed before the step runs again: never sent twice."""
        with self.store.transaction() as tx:
            if replace:
                tx.execute("DELETE FROM step_calls WHERE step_id=? AND idx>=?", (step_id, index))
            tx.execute(
                "INSERT OR REPLACE INTO step_calls VALUES (?,?,?,?,0)",
                (step_id, index, dumps(request), dumps(response)),
            )

    def complete(self, execution_id: str, step_id: str, result: StepResult) -> bool:
        """A step COMPLETED (`result`): its log, the ctx it left, the steps it asked for queued, waiting on a timer
        or waiting on a phase; then the execution settled. True while more steps are queued."""
        now = self.clock.now()
        with self.store.transaction() as tx:
            self._write_logs(tx, step_id, result.logs, now)
            tx.execute(
                "UPDATE execution_steps SET state='COMPLETED', ended=?, error=NULL, ctx_out=?, triggers=? WHERE id=?",
                (iso(now), dumps(result.ctx), dumps(result.triggers), step_id),
            )
            tx.execute("UPDATE plan_executions SET ctx=? WHERE id=?", (dumps(result.ctx), execution_id))
            for t in result.triggers:
                if t["kind"] == "subprocess" and t.get("at") is None:
                    self._queue(tx, execution_id, t["step"], None)
                elif t["kind"] == "subprocess":
                    due = datetime.fromtimestamp(t["at"] / 1000, tz=timezone.utc)
                    waiting = self._queue(tx, execution_id, t["step"], iso(due), state="WAITING")
                    self.scheduler.schedule(tx, TIMER_KIND, due, {"executionId": execution_id, "stepId": waiting})
                elif t["kind"] == "on-phase":
                    waiting = self._queue(tx, execution_id, t["step"], None, state="WAITING")
                    tx.execute(
                        "INSERT INTO runtime_triggers VALUES (?,?,?,?,?)",
                        (str(uuid.uuid4()), execution_id, waiting, t["sharedoId"].lower(), t["phase"]),
                    )
            return self._settle_in(tx, execution_id)

    def fail(
        self,
        execution_id: str,
        step_id: str,
        error: dict[str, Any],
        message: str,
        lines: list[dict[str, Any]],
    ) -> None:
        """A step ERRORED with `error` (stored with the step) and its execution with `message`."""
        now = self.clock.now()
        with self.store.transaction() as tx:
            self._write_logs(tx, step_id, lines, now)
            tx.execute(
                "UPDATE execution_steps SET state='ERRORED', ended=?, error=? WHERE id=?",
                (iso(now), dumps(error), step_id),
            )
            tx.execute(
                "UPDATE plan_executions SET state=?, last_error=? WHERE id=?", (ERRORED, _text(message), execution_id)
            )

    def plan_and_step(self, step_id: str) -> tuple[str, str] | None:
        """The plan an execution step belongs to and the step's name."""
        row = self.store.row(
            "SELECT e.plan, s.step FROM execution_steps s JOIN plan_executions e ON e.id = s.execution_id WHERE s.id=?",
            (step_id,),
        )
        return (row["plan"], row["step"]) if row else None

    def _write_logs(self, tx: sqlite3.Connection, step_id: str, logs: list[dict[str, Any]], now: datetime) -> None:
        if not logs:
            return
        start = tx.execute("SELECT COALESCE(MAX(seq), 0) FROM step_logs WHERE step_id=?", (step_id,)).fetchone()[0]
        tx.executemany(
            "INSERT INTO step_logs VALUES (?,?,?,?,?)",
            [
                (
                    step_id,
                    start + i + 1,
                    iso(now),
                    line["logLevel"],
                    _text(cut(str(line["logMessage"]), self.limits.text_kb + 1)),
                )
                for i, line in enumerate(logs)
            ],
        )

    def settle(self, execution_id: str) -> None:
        with self.store.transaction() as tx:
            self._settle_in(tx, execution_id)

    def _settle_in(self, tx: sqlite3.Connection, execution_id: str) -> bool:
        """WAITING while timers or runtime triggers are pending, STOPPED when nothing is left;
        True (and no change) while steps are still queued."""
        row = tx.execute(
            "SELECT (SELECT state FROM plan_executions WHERE id=?1), "
            "(SELECT group_concat(DISTINCT state) FROM execution_steps WHERE execution_id=?1)",
            (execution_id,),
        ).fetchone()
        current, states = row[0], set((row[1] or "").split(","))
        if states & {"QUEUED", "RUNNING"}:
            return True
        if current in (STOPPED, ERRORED):
            return False
        if "WAITING" in states:
            tx.execute("UPDATE plan_executions SET state=? WHERE id=?", (WAITING, execution_id))
        else:
            tx.execute(
                "UPDATE plan_executions SET state=?, end_time=? WHERE id=?",
                (STOPPED, iso(self.clock.now()), execution_id),
            )
        return False

    # -- waking ---------------------------------------------------------------------------------
    def wake(self, step_id: str) -> bool:
        """A WAITING step QUEUED (its timer fired); False when it no longer waits."""
        with self.store.transaction() as tx:
            changed = tx.execute(
                "UPDATE execution_steps SET state='QUEUED' WHERE id=? AND state='WAITING'", (step_id,)
            ).rowcount
        return bool(changed)

    def take_phase_triggers(self, sharedo_id: str, phase: Any) -> list[str]:
        """The steps waiting for this work item to reach this phase QUEUED (their triggers used up); the
        executions they belong to, each once, in order."""
        with self.store.transaction() as tx:
            rows = tx.execute(
                "SELECT * FROM runtime_triggers WHERE work_item_id=? AND phase=?", (sharedo_id, phase)
            ).fetchall()
            for r in rows:
                tx.execute("DELETE FROM runtime_triggers WHERE id=?", (r["id"],))
                tx.execute("UPDATE execution_steps SET state='QUEUED' WHERE id=? AND state='WAITING'", (r["step_id"],))
        return list(dict.fromkeys(r["execution_id"] for r in rows))

    def interrupted(self) -> list[str]:
        """Executions with a step left RUNNING or QUEUED (after a restart)."""
        with self.store.read() as conn:
            return [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT execution_id FROM execution_steps s "
                    "JOIN plan_executions e ON e.id = s.execution_id "
                    "WHERE s.state IN ('QUEUED', 'RUNNING') AND e.state IN ('RUNNING', 'WAITING')"
                )
            ]

    # -- retry and cancel -----------------------------------------------------------------------
    def queue_retry(self, execution_id: str, step_id: str) -> None:
        """An errored step QUEUED again. Writes that succeeded are marked to be replayed from the record,
        never sent again; reads and failed or garbled calls to be made afresh."""
        with self.store.transaction() as tx:
            ex = tx.execute("SELECT * FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
            if ex is None:
                raise not_found("plan execution", execution_id)
            row = tx.execute(
                "SELECT * FROM execution_steps WHERE id=? AND execution_id=?", (step_id, execution_id)
            ).fetchone()
            if row is None:
                raise not_found("execution step", step_id, field="stepId")
            if row["state"] != "ERRORED":
                raise ApiError(409, f"step {row['step']!r} is {row['state']}; only an ERRORED step can be retried")
            for i, entry in enumerate(_recorded(tx, step_id)):
                response, method = entry["response"], str(entry["request"].get("method", "GET")).upper()
                # Writes that succeeded are replayed, never sent again; reads and failed or garbled
                # calls are made afresh, so a fix made since the failure is seen.
                kept = method != "GET" and response.get("success") and not response.get("malformed")
                tx.execute("UPDATE step_calls SET refetch=? WHERE step_id=? AND idx=?", (int(not kept), step_id, i))
            tx.execute("UPDATE execution_steps SET state='QUEUED', error=NULL WHERE id=?", (step_id,))
            tx.execute(
                "UPDATE plan_executions SET state=?, last_error=NULL, end_time=NULL WHERE id=?", (RUNNING, execution_id)
            )

    def cancel(self, execution_id: str) -> None:
        """STOPPED: its timers, phase triggers and unfinished steps go."""
        with self.store.transaction() as tx:
            ex = tx.execute("SELECT state FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
            if ex is None:
                raise not_found("plan execution", execution_id)
            if ex["state"] == STOPPED:
                raise ApiError(409, "the execution has already stopped")
            self.scheduler.cancel_timers_of(tx, TIMER_KIND, "executionId", execution_id)
            tx.execute("DELETE FROM runtime_triggers WHERE execution_id=?", (execution_id,))
            tx.execute(
                "UPDATE execution_steps SET state='CANCELLED' WHERE execution_id=? AND state IN "
                "('QUEUED', 'WAITING', 'ERRORED')",
                (execution_id,),
            )
            tx.execute(
                "UPDATE plan_executions SET state=?, end_time=? WHERE id=?",
                (STOPPED, iso(self.clock.now()), execution_id),
            )

    # -- reading --------------------------------------------------------------------------------
    def execution(self, execution_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            ex = conn.execute("SELECT * FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
            if ex is None:
                raise not_found("plan execution", execution_id)
            steps = conn.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM step_calls c WHERE c.step_id = s.id) AS host_calls "
                "FROM execution_steps s WHERE execution_id=? ORDER BY seq",
                (execution_id,),
            ).fetchall()
            item = self.workitems.find(ex["work_item_id"], conn) if ex["work_item_id"] else None
        plan = self.plans.get(ex["plan"])
        return {
            "id": ex["id"],
            "planSystemName": ex["plan"],
            "planTitle": ex["plan_title"],
            "planType": ex["plan_type"],
            "state": ex["state"],
            "startTime": ex["start_time"],
            "endTime": ex["end_time"],
            "sharedoId": ex["work_item_id"],
            "sharedoTitle": item.title if item else None,
            "sharedoReference": item.reference if item else None,
            "sharedoTypeSystemName": item.type if item else None,
            "lastErrored": ex["last_error"],
            "parentPlanExecutionId": None,
            "meta": {"triggerId": ex["trigger_id"], "eventNumber": ex["event_number"]},
            "subProcesses": [
                {
                    "systemName": s["systemName"],
                    "name": s["name"],
                    "optimalPath": True,
                    "endState": s["isEnd"],
                    "debug": False,
                    "entryPoint": s["isStart"],
                }
                for s in (plan.steps if plan else [])
            ],
            "steps": [
                {
                    "id": s["id"],
                    "systemName": s["step"],
                    "state": s["state"],
                    "dueAt": s["due_at"],
                    "startTime": s["started"],
                    "endTime": s["ended"],
                    "attempts": s["attempts"],
                    "error": json.loads(s["error"]) if s["error"] else None,
                    "hostCalls": s["host_calls"],
                }
                for s in steps
            ],
            "ctx": json.loads(ex["ctx"]),
        }

    def executions(
        self, state: str | None = None, sharedo_id: str | None = None, plan: str | None = None
    ) -> list[dict[str, Any]]:
        sql, args = "SELECT id FROM plan_executions WHERE 1=1", []
        for column, value in (("state", state), ("work_item_id", sharedo_id), ("plan", plan)):
            if value:
                sql += f" AND {column}=?"
                args.append(value)
        with self.store.read() as conn:
            ids = [r[0] for r in conn.execute(sql + " ORDER BY start_time, rowid", args)]
        return [self.execution(i) for i in ids]

    def step_log(self, execution_id: str, step_id: str) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM execution_steps WHERE id=? AND execution_id=?", (step_id, execution_id)
            ).fetchone()
            if row is None:
                raise not_found("execution step", step_id, field="stepId")
            rows = conn.execute("SELECT * FROM step_logs WHERE step_id=? ORDER BY seq", (step_id,)).fetchall()
        return [{"logTime": r["log_time"], "logLevel": r["log_level"], "logMessage": r["log_message"]} for r in rows]
