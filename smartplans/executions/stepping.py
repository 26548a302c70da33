"""Stepping: one step of an execution run in V8 to completion or failure, its host calls made once each.

A step is run by deterministic replay (DESIGN decision 2): each host call the step makes is performed
once, its response recorded *and committed* before the step is run again, so a POST is never sent
twice — not on a replay, not after a crash, not on a retry of a later failure. Executions take turns of
one step each on the run queue; the steps of one work item's executions never overlap.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from emulator.kernel.clock import parse_instant
from emulator.kernel.store import dumps_ascii as dumps

from ..mocks import Mocks
from ..plans import Plan, PlanError
from ..run_queue import RunQueue
from ..runtime import Limits, PlanLoadError, Runtime, StepResult, cut
from .host_calls import HostCalls
from .records import Attempt, ExecutionRecords, check_triggers

log = logging.getLogger("operate.smartplans")

MAX_HOST_CALLS_PER_STEP = 500


def step_seed(execution_id: str, step_id: str) -> int:
    """The seed of a step's Math.random: the same on every run of the step (replays, retries, restarts)."""
    return zlib.crc32(f"{execution_id}:{step_id}".encode())


class Stepper:
    """Runs executions' steps, a turn at a time, on the run queue it owns."""

    def __init__(
        self,
        *,
        records: ExecutionRecords,
        runtime: Runtime,
        mocks: Mocks,
        plans: Mapping[str, Plan],
        load_plan: Callable[[str], Plan],
        limits: Limits,
        max_steps: int,
        host_calls_in_flight: int,
        host_calls: HostCalls,
    ) -> None:
        """`plans` is the engine's live map of loaded plans (a failure names its file); `load_plan` gets one
        ready to run (reloaded when edited); `limits` and `max_steps` are the solution's defaults; `host_calls`
        is where sharedo.http goes (its target, the app, is attached by the composition root once it exists)."""
        self.records = records
        self.runtime = runtime
        self.mocks = mocks
        self.plans = plans
        self.load_plan = load_plan
        self.default_limits = limits
        self.max_steps = max_steps
        self.host_calls = host_calls
        self.on_ended: list[Callable[[dict[str, Any]], None]] = []  # told of each execution that stops or errors
        self.queue = RunQueue(self._step_once, key_of=self._work_item_of, workers=host_calls_in_flight)

    def limits_for(self, plan: Plan) -> Limits:
        return dataclasses.replace(
            self.default_limits,
            cpu_seconds=float(plan.limits.get("cpu_seconds", self.default_limits.cpu_seconds)),
            heap_mb=int(plan.limits.get("heap_mb", self.default_limits.heap_mb)),
        )

    def drive(self, execution_id: str, first: Attempt | None = None, *, wait: bool = True) -> None:
        """Run the queued steps of an execution in order, taking turns with the others, then settle it."""
        self.queue.add(execution_id, first, wait=wait)

    def _work_item_of(self, execution_id: str, attempt: Attempt | None) -> str | None:
        """The work item whose steps must not overlap this execution's (its events stay in order)."""
        if attempt is not None:
            found = (attempt.ev.get("Data") or {}).get("sharedoId")
            return str(found).lower() if found else None
        return self.records.work_item_of(execution_id)

    def _step_once(self, execution_id: str, attempt: Attempt | None) -> bool:
        """One turn: one step of the execution; True while it has more queued."""
        more = self._turn(execution_id, attempt)
        if not more and self.on_ended:
            self._tell_ended(execution_id)
        return more

    def _tell_ended(self, execution_id: str) -> None:
        ended = self.records.ended(execution_id)
        if ended is None:
            return  # WAITING (a timer, a phase) or gone with a reset
        for listener in self.on_ended:
            try:
                listener(ended)
            except Exception:  # a listener (the console) must not end the execution engine
                log.exception("an on_ended listener failed")

    def _turn(self, execution_id: str, attempt: Attempt | None) -> bool:
        try:
            if attempt is None:
                attempt = self.records.begin_next(execution_id)
                if attempt is None:
                    self.records.settle(execution_id)
                    return False
            return self._run(attempt)
        except Exception as exc:  # whatever one execution does, it ends that execution, with the reason
            self._fail_unexpectedly(execution_id, attempt, exc)
            return False

    def _fail_unexpectedly(self, execution_id: str, attempt: Attempt | None, exc: Exception) -> None:
        log.exception("plan execution %s failed in the runtime", execution_id)
        reason = f"the runtime could not handle this step ({type(exc).__name__}: {str(exc)[:300]})"
        if isinstance(exc, RecursionError):
            reason = "the step's ctx, request or result is nested too deeply to store (RecursionError)"
        step_id = attempt.step_id if attempt is not None else None
        if step_id is None:
            step_id = self.records.open_step(execution_id)
        if step_id is None:
            self.records.errored(execution_id, reason)
            return
        self._fail(execution_id, step_id, {"message": reason, "stack": None}, [])

    def _run(self, a: Attempt) -> bool:
        """One step to completion or failure; True when more steps are queued."""
        try:
            plan = self.load_plan(a.plan)
        except (PlanError, PlanLoadError) as exc:
            return self._fail(a.execution_id, a.step_id, {"message": str(exc), "stack": None}, [])
        mock = self.mocks.step(a.plan, a.step)
        if mock is not None:
            if mock.error is not None:
                return self._fail(a.execution_id, a.step_id, {"message": mock.error, "stack": None}, [])
            log = {"logLevel": "Information", "logMessage": f"step {a.step!r} was mocked by a test"}
            return self._complete(a, StepResult("completed", {**a.ctx, **mock.ctx}, [log]))
        limits = self.limits_for(plan)
        result = self._replay(a, plan, limits)
        if result.status == "completed":
            problem = self._over_a_limit(a, plan, limits, result)
            if problem is not None:
                return self._fail(a.execution_id, a.step_id, problem, [])
            return self._complete(a, result)
        return self._fail(a.execution_id, a.step_id, result.error or {"message": "unknown failure"}, result.logs)

    def _replay(self, a: Attempt, plan: Plan, limits: Limits) -> StepResult:
        """Run the step, again after each host call it makes (each call made once, its answer recorded),
        until it completes or fails."""
        payload = {
            "ev": a.ev,
            "ctx": a.ctx,
            "recorded": a.recorded,
            "now": int(parse_instant(a.started).timestamp() * 1000),
            "seed": step_seed(a.execution_id, a.step_id),
            "retrying": a.retrying,
        }
        spent = 0.0  # the CPU limit is the step's, across every replay (one per host call), not each replay's
        held = 0  # recorded calls the V8 side already holds for this step: only the rest is sent
        payload["stepKey"] = a.step_id  # recordedFrom 0 (each attempt's first run) starts its copy afresh
        for runs in range(1, MAX_HOST_CALLS_PER_STEP + 2):
            remaining = limits.cpu_seconds - spent
            if remaining <= 0:
                return StepResult("error", error=self._cpu_error(a.step, limits, runs - 1))
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
            held = min(held, self._host_call(a, dict(result.request or {})))  # what changes from there is sent again
        return result

    def _host_call(self, a: Attempt, request: dict[str, Any]) -> int:
        """Make one host call the step asked for, once, and record its answer; the index it is recorded at."""
        index = request.pop("index", len(a.recorded))
        replace = request.pop("replace", False)
        # A write is recorded as sent before it goes, so a crash while it is in flight is seen on resume;
        # a read (safe to send again) is recorded only with its answer, at no extra commit.
        write = str(request.get("method", "GET")).upper() not in ("GET", "HEAD", "OPTIONS")
        if write:
            self.records.call_sent(a.step_id, index, request, replace=replace)
        # The same key when the call is sent again after a restart: a service that honours it acts once.
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"operate-step-call:{a.step_id}:{index}"))
        response = self._perform(request, key)
        # committed before the step runs again: never sent twice
        self.records.call_answered(a.step_id, index, request, response, replace=replace and not write)
        if replace:
            del a.recorded[index:]
        entry = {"request": request, "response": response}
        if index < len(a.recorded):
            a.recorded[index] = entry  # a read or failed call, made again on a retry
        else:
            a.recorded.append(entry)
        return index

    def _over_a_limit(self, a: Attempt, plan: Plan, limits: Limits, result: StepResult) -> dict[str, Any] | None:
        """The error of a completed step that went past its ctx size or the execution's step count; None
        when it kept to them."""
        size = len(dumps(result.ctx))
        if size > limits.ctx_kb * 1024:  # stored with the execution and sent with every later step
            problem = (
                f"step {a.step!r} left a ctx of {size // 1024} KB, over its limit of {limits.ctx_kb} KB "
                "([limits] ctx_kb in operate.toml); keep large data in work items or documents"
            )
            return {"message": problem, "limit": "ctx", "stack": None}
        problem = self._over_step_limit(a, plan, result.triggers)
        if problem is not None:
            return {"message": problem, "limit": "steps", "stack": None}
        return None

    def _over_step_limit(self, a: Attempt, plan: Plan, triggers: list[dict[str, Any]]) -> str | None:
        """Why the steps this one asks for would take the execution past its limit; None when they fit."""
        asked = sum(1 for t in triggers if t.get("kind") in ("subprocess", "on-phase"))
        if not asked:
            return None
        limit = int(plan.limits.get("steps_per_execution", self.max_steps))
        count = self.records.steps_taken(a.execution_id)
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
        if not self.host_calls.attached:
            return self.host_calls(request)  # names what is missing: no app was attached
        with self.queue.released():  # other executions take turns while this one waits on the answer
            return self.host_calls(
                request if idempotency_key is None else {**request, "idempotencyKey": idempotency_key}
            )

    def _complete(self, a: Attempt, result: StepResult) -> bool:
        problem = check_triggers(result.triggers)
        if problem is not None:  # a trigger that cannot be kept fails the step, not the engine
            return self._fail(a.execution_id, a.step_id, {"message": problem, "stack": None}, result.logs)
        return self.records.complete(a.execution_id, a.step_id, result)

    def _fail(self, execution_id: str, step_id: str, error: dict[str, Any], logs: list[dict[str, Any]]) -> bool:
        text_kb = self.default_limits.text_kb + 1  # the runtime cut them already (plus its note); any other source
        error = {**error, "message": cut(str(error["message"]), text_kb)}
        if error.get("stack"):
            error["stack"] = cut(str(error["stack"]), text_kb)
        where = self._where(step_id, error)
        message = error["message"] if where is None else f"{error['message']} ({where})"
        detail = error.get("stack") or error["message"]
        lines = [*logs, {"logLevel": "Error", "logMessage": detail if where is None else f"{detail}\n  in {where}"}]
        self.records.fail(execution_id, step_id, {**error, "where": where}, message, lines)
        return False

    def _where(self, step_id: str, error: dict[str, Any]) -> str | None:
        """Where a failure happened, in the author's terms: the plan file and step, and for a visual
        workflow the action (and template line) whose block threw an Error. A thrown string carries no
        stack, so for `throw "text"` only the step is known."""
        if error.get("limit"):
            return None
        found = self.records.plan_and_step(step_id)
        plan = self.plans.get(found[0]) if found else None
        if plan is None:
            return None
        located = plan.locate_in(error.get("stack"))
        return f"{plan.url}, {located}" if located else f"{plan.url}, step {found[1]!r}"
