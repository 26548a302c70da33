"""One step of an execution run again with edited input, as a new execution linked to the original, and the two
runs of that step side by side (host calls, the ctx left, log lines).

The new run is a real one: its host calls are made (the PMS receives them), as when the implementor fixes the
data and tries again. What it started with is the original step's ctx and the execution's event, unless edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.kernel.clock import parse_instant

from .executions.reads import ExecutionReads
from .executions.stepping import step_seed
from .replay import PlanToolError, replay_step


class RerunError(PlanToolError):
    """A step that cannot be rerun or stepped through; says why."""


@dataclass(frozen=True)
class Rerun:
    execution_id: str  # the new run
    original: dict[str, Any]  # the step as it ran first: calls, ctx, logs, status
    rerun: dict[str, Any]  # the same step in the new run


def ran_step(store: Any, execution_id: str, step_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(execution, step) of a step that ran; RerunError when there is no such run or step."""
    found = ExecutionReads(store).recording(execution_id)
    if found is None:
        raise RerunError(f"no plan execution {execution_id[:80]!r}; every run is listed at /executions", 404)
    execution, steps = found
    step = next((s for s in steps if s["id"] == step_id), None)
    if step is None:
        raise RerunError(f"execution {execution_id} has no step {step_id[:80]!r} that ran (completed or failed)", 404)
    return execution, step


def rerun_step(
    smartplans: Any, store: Any, execution_id: str, step_id: str, *, ctx: Any = None, ev: Any = None
) -> Rerun:
    """Start the rerun: the step's own ctx and the run's event unless `ctx` / `ev` (whole objects) are given."""
    execution, step = ran_step(store, execution_id, step_id)
    if ctx is None and step["ctx_in"] is None:
        raise RerunError(
            f"step {step['step']!r} ran before the emulator kept each step's ctx: give the ctx to rerun it with"
        )
    for name, value in (("ctx", ctx), ("ev", ev)):
        if value is not None and not isinstance(value, dict):
            raise RerunError(f"{name} must be a JSON object", 400)
    if execution["plan"] not in smartplans.plans:
        raise RerunError(f"plan {execution['plan']!r} is not loaded now; the solution has {sorted(smartplans.plans)}")
    new_id = smartplans.start(
        execution["plan"],
        step["step"],
        ev if ev is not None else execution["ev"],
        ctx if ctx is not None else step["ctx_in"],
        rerun_of=(execution_id, step_id),
    )
    _, first = ExecutionReads(store).recording(new_id) or ({}, [])
    return Rerun(
        new_id, side(step), side(first[0]) if first else {"status": "not run yet", "calls": [], "ctx": None, "logs": []}
    )


def side(step: dict[str, Any]) -> dict[str, Any]:
    """One run of the step as the comparison shows it."""
    return {
        "status": step["status"],
        "error": step.get("error"),
        "ctxIn": step.get("ctx_in"),
        "ctx": step.get("ctx_out"),
        "calls": [
            {
                "method": str(c["request"].get("method", "GET")).upper(),
                "url": c["request"].get("url"),
                "body": c["request"].get("body"),
                "statusCode": c["response"].get("statusCode"),
            }
            for c in step.get("calls", [])
        ],
        "logs": step.get("logs", []),
    }


def comparison(store: Any, execution_id: str) -> dict[str, Any] | None:
    """For a rerun: the original step and the rerun's first step, side by side; None for a run that is no rerun."""
    row = ExecutionReads(store).rerun_of(execution_id)
    if row is None:
        return None
    original_id, step_id = row
    try:
        _, original = ran_step(store, original_id, step_id)
    except RerunError:
        return None  # the original run is gone (a reset, an import): nothing to compare with
    _, steps = ExecutionReads(store).recording(execution_id) or ({}, [])
    return {
        "executionId": original_id,
        "stepId": step_id,
        "step": original["step"],
        "original": side(original),
        "rerun": side(steps[0]) if steps else None,
    }


def step_snapshots(smartplans: Any, store: Any, execution_id: str, step_id: str) -> dict[str, Any]:
    """The step replayed from its recorded answers (smartplans/replay.py, against the plan as it is now): its ctx
    as it started, after each host call (as it stood when the plan asked for the next call, or left the step), and
    whether the replay made the calls the run made."""
    execution, step = ran_step(store, execution_id, step_id)
    if step["ctx_in"] is None:
        raise RerunError(f"step {step['step']!r} ran before the emulator kept each step's ctx")
    try:
        plan = smartplans.loaded(execution["plan"])
    except Exception as exc:  # removed or broken since the run
        raise RerunError(f"plan {execution['plan']!r} cannot run now: {exc}") from None
    replayed = replay_step(
        smartplans.runtime,
        plan.key,
        step["step"],
        ev=execution["ev"],
        ctx=step["ctx_in"],
        now=parse_instant(step["started"]),
        seed=step_seed(execution_id, step_id),
        recorded=step["calls"],
    )
    calls = []
    for i, call in enumerate(replayed.calls):
        after = replayed.calls[i + 1].ctx if i + 1 < len(replayed.calls) else replayed.ctx
        calls.append(
            {
                "method": str(call.request.get("method", "GET")).upper(),
                "url": call.request.get("url"),
                "body": call.request.get("body"),
                "statusCode": call.response.get("statusCode"),
                "recorded": call.recorded is not None,
                "ctxAfter": after,
            }
        )
    same = [(c["method"], c["url"]) for c in calls] == [
        (str(c["request"].get("method", "GET")).upper(), c["request"].get("url")) for c in step["calls"]
    ]
    return {
        "step": step["step"],
        "ctxIn": step["ctx_in"],
        "calls": calls,
        "ctxOut": replayed.ctx,
        "status": replayed.status,
        "error": replayed.error,
        "sameCallsAsTheRun": same,
    }
