"""Plan executions: started by triggers, run step by step in V8, with logs, timers, retry and cancel.

A step is run by deterministic replay (DESIGN decision 2): each host call the step makes is
performed once, its response recorded *and committed* before the step is run again, so a POST is
never sent twice — not on a replay, not after a crash, not on a retry of a later failure.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from emulator.kernel.clock import LATEST, iso, parse_instant
from emulator.kernel.errors import ApiError, not_found
from emulator.kernel.events import Event
from emulator.kernel.store import dumps_ascii as dumps
from emulator.solution.loading import SolutionError
from emulator.workitem_reads import WorkItemReads

from .mocks import Mocks
from .plans import BrokenPlan, Plan, PlanError, changed, reload_visual, script_plan, solution_plans
from .run_queue import DEFAULT_HOST_CALLS_IN_FLIGHT, RunQueue
from .runtime import (
    DEFAULT_CPU_SECONDS,
    DEFAULT_CTX_KB,
    DEFAULT_HEAP_MB,
    DEFAULT_LOG_LINES,
    DEFAULT_TEXT_KB,
    Limits,
    PlanLoadError,
    Runtime,
    StepResult,
    cut,
)
from .triggers import Trigger, TriggerError, evaluate_field, parse_trigger

log = logging.getLogger("operate.smartplans")

RUNNING, WAITING, STOPPED, ERRORED = "RUNNING", "WAITING", "STOPPED", "ERRORED"
MAX_HOST_CALLS_PER_STEP = 500
DEFAULT_STEPS_PER_EXECUTION = 1_000  # [limits] steps_per_execution: a plan that schedules itself forever stops here
TIMER_KIND = "plan-step"

HostCall = Callable[[dict[str, Any]], dict[str, Any]]


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_triggers(triggers: list[dict[str, Any]]) -> str | None:
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
class _Attempt:
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


class SmartPlans:
    """The execution engine for one emulator: triggers → executions → steps in V8."""

    def __init__(
        self, *, store: Any, clock: Any, solution: Any, catalogue: dict[str, Any], scheduler: Any, workitems: Any
    ) -> None:
        """The parts it works with are handed in (Emulator composes them); Emulator subscribes `on_event`
        to the dispatcher and `on_timer` to the scheduler."""
        self.store = store
        self.clock = clock
        self.solution = solution
        self.catalogue = catalogue
        self.scheduler = scheduler
        self.workitems = workitems
        self.runtime = Runtime()
        self.host_call: HostCall | None = None  # set by create_app: sharedo.http into the app as ee-app
        self.mocks = Mocks()  # what tests put in front of host calls and steps
        self.on_ended: list[Callable[[dict[str, Any]], None]] = []  # told of each execution that stops or errors
        limits = solution.limits()
        in_flight = limits.get("host_calls_in_flight", DEFAULT_HOST_CALLS_IN_FLIGHT)
        if isinstance(in_flight, bool) or not isinstance(in_flight, int) or not 1 <= in_flight <= 1024:
            raise SolutionError("operate.toml [limits] host_calls_in_flight must be a whole number from 1 to 1024")
        self.queue = RunQueue(self._step_once, key_of=self._work_item_of, workers=in_flight)
        sizes = {}
        for key, default in (
            ("log_lines_per_step", DEFAULT_LOG_LINES),
            ("text_kb", DEFAULT_TEXT_KB),
            ("ctx_kb", DEFAULT_CTX_KB),
        ):
            value = limits.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SolutionError(f"operate.toml [limits] {key} must be a whole number of at least 1, not {value!r}")
            sizes[key] = value
        self.default_limits = Limits(
            float(limits.get("cpu_seconds", DEFAULT_CPU_SECONDS)),
            int(limits.get("heap_mb", DEFAULT_HEAP_MB)),
            sizes["log_lines_per_step"],
            sizes["text_kb"],
            sizes["ctx_kb"],
        )
        self.max_steps = limits.get("steps_per_execution", DEFAULT_STEPS_PER_EXECUTION)
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise SolutionError("operate.toml [limits] steps_per_execution must be a whole number of at least 1")
        # One broken workflow, action, template or trigger marks only itself (DESIGN decision 12): the
        # rest loads and runs; what is broken is listed with its reason (home page, plans page, serve's banner)
        # and an execution of a broken plan fails with that reason.
        self.broken: dict[str, BrokenPlan] = {}
        self.trigger_problems: list[str] = list(solution.trigger_problems)
        self.plans: dict[str, Plan] = solution_plans(solution, self.broken)
        self.triggers: list[Trigger] = []
        for path, doc in solution.triggers:
            try:
                self.triggers.append(parse_trigger(doc, str(path)))
            except TriggerError as exc:
                self.trigger_problems.append(str(exc))
        for name, plan in list(self.plans.items()):
            if plan.plan_type == "visualWorkflow":
                try:
                    self._compile(plan)
                except PlanError as exc:
                    del self.plans[name]
                    self.broken[name] = BrokenPlan(name, str(exc), dict(plan.files))

    @property
    def problems(self) -> list[str]:
        """What did not load, each with its reason: broken plans, then unusable triggers."""
        out = [f"workflow {b.system_name!r} is broken and does not run: {b.reason}" for b in self.broken.values()]
        return out + [f"trigger not loaded: {problem}" for problem in self.trigger_problems]

    def _compile(self, plan: Plan) -> None:
        """Compile a visual workflow when the solution loads, as the platform does on publish, so a template
        whose generated code does not compile is reported at its template's line before anything runs."""
        try:
            self.runtime.load(plan.key, plan.source, plan.url)
        except PlanLoadError as exc:
            text = str(exc)
            located = plan.locate_in(text)
            if located:
                reason = text.split(": ", 1)[1] if text.startswith(plan.url + ":") else text
                verb = "does not compile" if "SyntaxError" in reason else "failed while the plan loaded"
                text = f"{plan.where or plan.url}: {located}: the generated code {verb}: {reason}"
            raise PlanError(text) from None

    # -- plans ----------------------------------------------------------------------------------
    def add_plan(self, plan: Plan) -> None:
        """Register (or replace) a plan, e.g. one `operate run` was pointed at."""
        if plan.plan_type == "visualWorkflow":
            self._compile(plan)
        self.plans[plan.system_name] = plan

    def add_trigger(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)

    def _plan(self, name: str) -> Plan:
        plan = self.plans.get(name)
        if plan is None and name in self.broken:
            plan = self._retry_broken(name)
        if plan is None:
            raise PlanError(f"no plan {name!r}; the solution has {sorted(self.plans)}")
        if changed(plan):  # edited on disk: reload, keep timers
            if plan.plan_type == "script":
                plan = script_plan(plan.system_name, plan.path, plan.limits, plan.where)  # type: ignore[arg-type]
            else:
                plan = reload_visual(plan, self.solution.ide_root)
                self._compile(plan)
            self.plans[name] = plan
        if not self.runtime.is_loaded(plan.key):
            self.runtime.load(plan.key, plan.source, plan.url)
        return plan

    def _retry_broken(self, name: str) -> Plan:
        """A broken plan whose files were edited since is loaded again; one still broken says why."""
        broken = self.broken[name]
        if broken.changed():
            path = next(iter(broken.files), None)
            try:
                if path is None:
                    raise PlanError(broken.reason)
                if path.suffix.lower() == ".js":
                    plan = script_plan(name, path, self.solution.config.get("plans", {}).get(name))
                else:
                    stub = Plan(
                        name,
                        name,
                        "visualWorkflow",
                        "",
                        "",
                        path=path,
                        limits=self.solution.config.get("plans", {}).get(name) or {},
                    )
                    plan = reload_visual(stub, self.solution.ide_root)
                    self._compile(plan)
            except PlanError as exc:
                self.broken[name] = broken.still(str(exc))
            else:
                del self.broken[name]
                self.plans[name] = plan
                return plan
        raise PlanError(f"workflow {name!r} is broken and did not load: {self.broken[name].reason}")

    def limits_for(self, plan: Plan) -> Limits:
        return dataclasses.replace(
            self.default_limits,
            cpu_seconds=float(plan.limits.get("cpu_seconds", self.default_limits.cpu_seconds)),
            heap_mb=int(plan.limits.get("heap_mb", self.default_limits.heap_mb)),
        )

    # -- starting -------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Start what the event triggers; the executions it starts take turns (under serve, with the
        executions of the events after it too: the dispatcher does not wait for them)."""
        ev = {**event.to_json(), "Data": event.data}
        with self.queue.holding():
            for trigger in self.triggers:
                if trigger.matches(event, self.solution.worktypes, self.catalogue) and not self._started(
                    trigger.id, event.number
                ):
                    inputs = {k: evaluate_field(expr, ev) for k, expr in trigger.data_fields.items()}
                    try:
                        self.start(
                            trigger.plan, trigger.step, ev, inputs, trigger_id=trigger.id, event_number=event.number
                        )
                    except Exception:  # one broken start must not keep the event from the other triggers
                        log.exception("starting %s for event %s failed", trigger.plan, event.number)
            self._resume_runtime_triggers(event)

    def _started(self, trigger_id: str, event_number: int) -> bool:
        with self.store.read() as conn:
            return (
                conn.execute(
                    "SELECT 1 FROM plan_executions WHERE trigger_id=? AND event_number=?", (trigger_id, event_number)
                ).fetchone()
                is not None
            )

    def start(
        self,
        plan_name: str,
        step: str = "main",
        ev: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        *,
        trigger_id: str | None = None,
        event_number: int | None = None,
    ) -> str:
        """Create an execution and run it until it stops, waits or errors; returns its id (at once inside
        `queue.holding()`, as when an event starts it)."""
        ev = dict(ev or {"Data": {}})
        execution_id = str(uuid.uuid4())
        ev["PlanExecutionId"] = execution_id
        plan = self.plans.get(plan_name)
        ctx = {
            v.get("SystemName"): v.get("DefaultValue")
            for v in (plan.variables if plan else [])
            if v.get("SystemName") and v.get("DefaultValue") is not None
        }
        ctx.update(inputs or {})
        now = iso(self.clock.now())
        sharedo_id = (ev.get("Data") or {}).get("sharedoId")
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO plan_executions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                ),
            )
            step_id = self._queue(tx, execution_id, step, None, state="RUNNING", started=now, seq=1)
        # The first step starts in the same transaction that created the execution: no re-read.
        first = _Attempt(execution_id, plan_name, ev, ctx, step_id, step, [], now)
        self.drive(execution_id, first)
        return execution_id

    def _queue(
        self,
        tx: sqlite3.Connection,
        execution_id: str,
        step: str,
        due: str | None,
        state: str = "QUEUED",
        started: str | None = None,
        seq: int | None = None,
    ) -> str:
        if seq is None:
            seq = tx.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM execution_steps WHERE execution_id=?", (execution_id,)
            ).fetchone()[0]
        step_id = str(uuid.uuid4())
        tx.execute(
            "INSERT INTO execution_steps VALUES (?,?,?,?,?,?,?,?,?,?)",
            (step_id, execution_id, seq, step, state, due, started, None, 1 if started else 0, None),
        )
        return step_id

    # -- running --------------------------------------------------------------------------------
    def drive(self, execution_id: str, first: _Attempt | None = None, *, wait: bool = True) -> None:
        """Run the queued steps of an execution in order, taking turns with the others, then settle it."""
        self.queue.add(execution_id, first, wait=wait)

    def _work_item_of(self, execution_id: str, attempt: _Attempt | None) -> str | None:
        """The work item whose steps must not overlap this execution's (its events stay in order)."""
        if attempt is not None:
            found = (attempt.ev.get("Data") or {}).get("sharedoId")
            return str(found).lower() if found else None
        with self.store.read() as conn:
            row = conn.execute("SELECT sharedo_id FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
        return str(row[0]).lower() if row and row[0] else None

    def _step_once(self, execution_id: str, attempt: _Attempt | None) -> bool:
        """One turn: one step of the execution; True while it has more queued."""
        more = self._turn(execution_id, attempt)
        if not more and self.on_ended:
            self._tell_ended(execution_id)
        return more

    def _tell_ended(self, execution_id: str) -> None:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT plan, state, last_error, sharedo_id FROM plan_executions WHERE id=?", (execution_id,)
            ).fetchone()
        if row is None or row["state"] not in (STOPPED, ERRORED):
            return  # WAITING (a timer, a phase) or gone with a reset
        item = WorkItemReads(self.store).titles([row["sharedo_id"]]).get(row["sharedo_id"], {})
        ended = {"id": execution_id, "plan": row["plan"], "state": row["state"], "workItem": item.get("reference")}
        ended["error"] = row["last_error"]
        for listener in self.on_ended:
            try:
                listener(ended)
            except Exception:  # a listener (the console) must not end the execution engine
                log.exception("an on_ended listener failed")

    def _turn(self, execution_id: str, attempt: _Attempt | None) -> bool:
        try:
            if attempt is None:
                attempt = self._begin_next(execution_id)
                if attempt is None:
                    self._settle(execution_id)
                    return False
            return self._run(attempt)
        except Exception as exc:  # whatever one execution does, it ends that execution, with the reason
            self._fail_unexpectedly(execution_id, attempt, exc)
            return False

    def _fail_unexpectedly(self, execution_id: str, attempt: _Attempt | None, exc: Exception) -> None:
        log.exception("plan execution %s failed in the runtime", execution_id)
        reason = f"the runtime could not handle this step ({type(exc).__name__}: {str(exc)[:300]})"
        if isinstance(exc, RecursionError):
            reason = "the step's ctx, request or result is nested too deeply to store (RecursionError)"
        step_id = attempt.step_id if attempt is not None else None
        if step_id is None:
            with self.store.read() as conn:
                row = conn.execute(
                    "SELECT id FROM execution_steps WHERE execution_id=? AND state IN ('QUEUED', 'RUNNING') "
                    "ORDER BY seq LIMIT 1",
                    (execution_id,),
                ).fetchone()
            step_id = row["id"] if row else None
        if step_id is None:
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE plan_executions SET state=?, last_error=? WHERE id=?", (ERRORED, reason, execution_id)
                )
            return
        self._fail(execution_id, step_id, {"message": reason, "stack": None}, [])

    def _begin_next(self, execution_id: str) -> _Attempt | None:
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
            tx.execute(
                "UPDATE execution_steps SET state='RUNNING', started=?, attempts=attempts+1 WHERE id=?",
                (started, row["id"]),
            )
            tx.execute("UPDATE plan_executions SET state=? WHERE id=?", (RUNNING, execution_id))
            recorded = _recorded(tx, row["id"])
            self._note_lost_answers(tx, row["id"])
        return _Attempt(
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

    def _run(self, a: _Attempt) -> bool:
        """One step to completion or failure; True when more steps are queued."""
        try:
            plan = self._plan(a.plan)
        except (PlanError, PlanLoadError) as exc:
            return self._fail(a.execution_id, a.step_id, {"message": str(exc), "stack": None}, [])
        payload = {
            "ev": a.ev,
            "ctx": a.ctx,
            "recorded": a.recorded,
            "now": int(parse_instant(a.started).timestamp() * 1000),
            "seed": zlib.crc32(f"{a.execution_id}:{a.step_id}".encode()),
            "retrying": a.retrying,
        }
        mock = self.mocks.step(a.plan, a.step)
        if mock is not None:
            if mock.error is not None:
                return self._fail(a.execution_id, a.step_id, {"message": mock.error, "stack": None}, [])
            return self._complete(
                a.execution_id,
                a.step_id,
                {**a.ctx, **mock.ctx},
                [{"logLevel": "Information", "logMessage": f"step {a.step!r} was mocked by a test"}],
                [],
            )
        limits = self.limits_for(plan)
        spent = 0.0  # the CPU limit is the step's, across every replay (one per host call), not each replay's
        held = 0  # recorded calls the V8 side already holds for this step: only the rest is sent
        payload["stepKey"] = a.step_id  # recordedFrom 0 (each attempt's first run) starts its copy afresh
        for runs in range(1, MAX_HOST_CALLS_PER_STEP + 2):
            remaining = limits.cpu_seconds - spent
            if remaining <= 0:
                result = StepResult("error", error=self._cpu_error(a.step, limits, runs - 1))
                break
            started = time.perf_counter()
            budget = dataclasses.replace(limits, cpu_seconds=remaining)
            payload["recordedFrom"], payload["recorded"] = held, a.recorded[held:]
            result = self.runtime.run_step(plan.key, a.step, payload, budget)
            if result.status == "need-recorded":  # the context was replaced since: send the whole list
                payload["recordedFrom"], payload["recorded"] = 0, a.recorded
                result = self.runtime.run_step(plan.key, a.step, payload, budget)
            held = len(a.recorded)
            spent += time.perf_counter() - started
            if result.status == "error" and (result.error or {}).get("limit") == "cpu":
                result.error = self._cpu_error(a.step, limits, runs)
            if result.status != "host-call":
                break
            if len(a.recorded) >= MAX_HOST_CALLS_PER_STEP:
                result.status, result.error = (
                    "error",
                    {"message": f"step {a.step!r} made more than {MAX_HOST_CALLS_PER_STEP} host calls", "stack": None},
                )
                break
            request = dict(result.request or {})
            index = request.pop("index", len(a.recorded))
            replace = request.pop("replace", False)
            held = min(held, index)  # what changes from `index` on is sent again
            # A write is recorded as sent before it goes, so a crash while it is in flight is seen on resume;
            # a read (safe to send again) is recorded only with its answer, at no extra commit.
            write = str(request.get("method", "GET")).upper() not in ("GET", "HEAD", "OPTIONS")
            if write:
                with self.store.transaction() as tx:
                    if replace:  # a retried step took another path from here
                        tx.execute("DELETE FROM step_calls WHERE step_id=? AND idx>=?", (a.step_id, index))
                    tx.execute(
                        "INSERT OR REPLACE INTO step_calls VALUES (?,?,?,?,0)",
                        (a.step_id, index, dumps(request), SENT),
                    )
            # The same key when the call is sent again after a restart: a service that honours it acts once.
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"operate-step-call:{a.step_id}:{index}"))
            response = self._perform(request, key)
            with self.store.transaction() as tx:  # committed before the step runs again: never sent twice
                if replace and not write:
                    tx.execute("DELETE FROM step_calls WHERE step_id=? AND idx>=?", (a.step_id, index))
                tx.execute(
                    "INSERT OR REPLACE INTO step_calls VALUES (?,?,?,?,0)",
                    (a.step_id, index, dumps(request), dumps(response)),
                )
            if replace:
                del a.recorded[index:]
            entry = {"request": request, "response": response}
            if index < len(a.recorded):
                a.recorded[index] = entry  # a read or failed call, made again on a retry
            else:
                a.recorded.append(entry)
        if result.status == "completed":
            size = len(dumps(result.ctx))
            if size > limits.ctx_kb * 1024:  # stored with the execution and sent with every later step
                problem = (
                    f"step {a.step!r} left a ctx of {size // 1024} KB, over its limit of {limits.ctx_kb} KB "
                    "([limits] ctx_kb in operate.toml); keep large data in work items or documents"
                )
                return self._fail(a.execution_id, a.step_id, {"message": problem, "limit": "ctx", "stack": None}, [])
            problem = self._over_step_limit(a, plan, result.triggers)
            if problem is not None:
                return self._fail(a.execution_id, a.step_id, {"message": problem, "limit": "steps", "stack": None}, [])
            return self._complete(a.execution_id, a.step_id, result.ctx, result.logs, result.triggers)
        return self._fail(a.execution_id, a.step_id, result.error or {"message": "unknown failure"}, result.logs)

    def _over_step_limit(self, a: _Attempt, plan: Plan, triggers: list[dict[str, Any]]) -> str | None:
        """Why the steps this one asks for would take the execution past its limit; None when they fit."""
        asked = sum(1 for t in triggers if t.get("kind") in ("subprocess", "on-phase"))
        if not asked:
            return None
        limit = int(plan.limits.get("steps_per_execution", self.max_steps))
        with self.store.read() as conn:
            taken = conn.execute("SELECT COUNT(*) FROM execution_steps WHERE execution_id=?", (a.execution_id,))
            count = taken.fetchone()[0]
        if count + asked <= limit:
            return None
        return (
            f"the execution reached its limit of {limit} steps (step {a.step!r} asked for {asked} more); "
            "a plan that schedules itself without end stops here ([limits] steps_per_execution in operate.toml)"
        )

    @staticmethod
    def _cpu_error(step: str, limits: Limits, runs: int) -> dict[str, Any]:
        across = f", spent across {runs} runs of the step (it runs again from its start after each host call)"
        return {
            "message": f"step {step!r} was stopped at its CPU-time limit of {limits.cpu_seconds:g} s"
            + (across if runs > 1 else ""),
            "limit": "cpu",
            "stack": None,
        }

    def _perform(self, request: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        try:
            json.dumps(request, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # never send what could not be recorded: it would be sent again
            return {
                "success": False,
                "status": "BadRequest",
                "statusCode": 400,
                "body": {
                    "title": "the request holds text that is not valid Unicode (half of a surrogate pair); "
                    "nothing was sent"
                },
            }
        mocked = self.mocks.host_call(request)
        if mocked is not None:
            return mocked
        if self.host_call is None:  # the domain does not build the app: the composition root gives it one
            raise RuntimeError(
                "sharedo.http has nothing to call: this Emulator has no app; build one with "
                "emulator.app.create_app(emulator=em) (or create_app(settings)) before plans make host calls"
            )
        with self.queue.released():  # other executions take turns while this one waits on the answer
            return self.host_call(
                request if idempotency_key is None else {**request, "idempotencyKey": idempotency_key}
            )

    def _complete(
        self,
        execution_id: str,
        step_id: str,
        ctx: dict[str, Any],
        logs: list[dict[str, Any]],
        triggers: list[dict[str, Any]],
    ) -> bool:
        now = self.clock.now()
        problem = _check_triggers(triggers)
        if problem is not None:  # a trigger that cannot be kept fails the step, not the engine
            return self._fail(execution_id, step_id, {"message": problem, "stack": None}, logs)
        with self.store.transaction() as tx:
            self._write_logs(tx, step_id, logs, now)
            tx.execute(
                "UPDATE execution_steps SET state='COMPLETED', ended=?, error=NULL WHERE id=?", (iso(now), step_id)
            )
            tx.execute("UPDATE plan_executions SET ctx=? WHERE id=?", (dumps(ctx), execution_id))
            for t in triggers:
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

    def _fail(self, execution_id: str, step_id: str, error: dict[str, Any], logs: list[dict[str, Any]]) -> bool:
        now = self.clock.now()
        text_kb = self.default_limits.text_kb + 1  # the runtime cut them already (plus its note); any other source
        error = {**error, "message": cut(str(error["message"]), text_kb)}
        if error.get("stack"):
            error["stack"] = cut(str(error["stack"]), text_kb)
        where = self._where(execution_id, step_id, error)
        message = error["message"] if where is None else f"{error['message']} ({where})"
        detail = error.get("stack") or error["message"]
        lines = [*logs, {"logLevel": "Error", "logMessage": detail if where is None else f"{detail}\n  in {where}"}]
        with self.store.transaction() as tx:
            self._write_logs(tx, step_id, lines, now)
            tx.execute(
                "UPDATE execution_steps SET state='ERRORED', ended=?, error=? WHERE id=?",
                (iso(now), dumps({**error, "where": where}), step_id),
            )
            tx.execute(
                "UPDATE plan_executions SET state=?, last_error=? WHERE id=?", (ERRORED, _text(message), execution_id)
            )
        return False

    def _where(self, execution_id: str, step_id: str, error: dict[str, Any]) -> str | None:
        """Where a failure happened, in the author's terms: the plan file and step, and for a visual
        workflow the action (and template line) whose block threw an Error. A thrown string carries no
        stack, so for `throw "text"` only the step is known."""
        if error.get("limit"):
            return None
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT e.plan, s.step FROM execution_steps s JOIN plan_executions e ON e.id = s.execution_id "
                "WHERE s.id=?",
                (step_id,),
            ).fetchone()
        plan = self.plans.get(row["plan"]) if row else None
        if plan is None:
            return None
        located = plan.locate_in(error.get("stack"))
        return f"{plan.url}, {located}" if located else f"{plan.url}, step {row['step']!r}"

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
                    _text(cut(str(line["logMessage"]), self.default_limits.text_kb + 1)),
                )
                for i, line in enumerate(logs)
            ],
        )

    def _settle(self, execution_id: str) -> None:
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
    def on_timer(self, payload: dict[str, Any], due: datetime) -> None:
        tx_changed = self._wake(payload["executionId"], payload["stepId"])
        if tx_changed:
            self.store.after_this_commit(lambda: self.drive(payload["executionId"], wait=False))

    def _wake(self, execution_id: str, step_id: str) -> bool:
        with self.store.transaction() as tx:
            changed = tx.execute(
                "UPDATE execution_steps SET state='QUEUED' WHERE id=? AND state='WAITING'", (step_id,)
            ).rowcount
        return bool(changed)

    def _resume_runtime_triggers(self, event: Event) -> None:
        if event.event_type != "sharedo-phase-changed":
            return
        sharedo_id = str(event.data.get("sharedoId", "")).lower()
        with self.store.transaction() as tx:
            rows = tx.execute(
                "SELECT * FROM runtime_triggers WHERE sharedo_id=? AND phase=?", (sharedo_id, event.data.get("toPhase"))
            ).fetchall()
            for r in rows:
                tx.execute("DELETE FROM runtime_triggers WHERE id=?", (r["id"],))
                tx.execute("UPDATE execution_steps SET state='QUEUED' WHERE id=? AND state='WAITING'", (r["step_id"],))
        for execution_id in dict.fromkeys(r["execution_id"] for r in rows):
            self.drive(execution_id, wait=False)

    def resume(self) -> None:
        """After a restart: steps left RUNNING or QUEUED run again (recorded calls are not re-sent)."""
        with self.store.read() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT execution_id FROM execution_steps s "
                    "JOIN plan_executions e ON e.id = s.execution_id "
                    "WHERE s.state IN ('QUEUED', 'RUNNING') AND e.state IN ('RUNNING', 'WAITING')"
                )
            ]
        with self.queue.holding():  # they take turns
            for execution_id in ids:
                self.drive(execution_id, wait=False)

    # -- retry and cancel -----------------------------------------------------------------------
    def retry(self, execution_id: str, step_id: str) -> dict[str, Any]:
        """Run an errored step again. Writes that succeeded are replayed from the record, never sent
        again; reads and failed or garbled calls are made afresh."""
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
        self.drive(execution_id)
        return self.execution(execution_id)

    def cancel(self, execution_id: str) -> dict[str, Any]:
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
        return self.execution(execution_id)

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
            item = self.workitems.find(ex["sharedo_id"], conn) if ex["sharedo_id"] else None
        plan = self.plans.get(ex["plan"])
        return {
            "id": ex["id"],
            "planSystemName": ex["plan"],
            "planTitle": ex["plan_title"],
            "planType": ex["plan_type"],
            "state": ex["state"],
            "startTime": ex["start_time"],
            "endTime": ex["end_time"],
            "sharedoId": ex["sharedo_id"],
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
        for column, value in (("state", state), ("sharedo_id", sharedo_id), ("plan", plan)):
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

    def start_worker(self) -> None:
        """Serve mode: executions take their turns on a worker of their own."""
        self.queue.start()

    def close(self) -> None:
        self.queue.stop()
        self.runtime.close()
