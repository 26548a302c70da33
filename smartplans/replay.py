"""One recorded step run again, against the plan code as it is now, its host calls answered from the recording.

This is what an execution saved as a test replays (`replay:` scenarios, smartplans/recordings.py), and how the
execution page shows the ctx as it stood after each host call: the recorded answers make both free, as no call
leaves the process. A call the recording has no answer for is answered with a failure that says so (status 0,
`NotRecorded`), and listed: the step then goes on as the plan handles a failed call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .runtime import Limits, Runtime


class PlanToolError(ValueError):
    """What the implementor's tools (a recording, a replay, a rerun) could not do; `status` is its HTTP answer
    (404: no such run or step, 409: not possible for this one, 400: bad input)."""

    status = 409

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


MAX_CALLS = 1_000  # a bound on the loop: a replayed step may make no more calls than a live one (stepping.py)


@dataclass
class ReplayedCall:
    request: dict[str, Any]  # method, url, body: what the plan asked for this time
    response: dict[str, Any]  # the recorded answer it got (or the NotRecorded failure)
    recorded: int | None  # the index of the recorded call that answered it; None when none could
    ctx: dict[str, Any] | None = None  # the ctx as it stood when the call was made


@dataclass
class ReplayedStep:
    status: str  # "completed" | "error"
    ctx: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)  # "Level: message"
    triggers: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ReplayedCall] = field(default_factory=list)
    error: str | None = None


def not_recorded(request: dict[str, Any]) -> dict[str, Any]:
    what = f"{str(request.get('method', 'GET')).upper()} {request.get('url')}"
    return {
        "success": False,
        "status": "NotRecorded",
        "statusCode": 0,
        "body": {"message": f"the recording has no answer for {what}"},
    }


class Answers:
    """The recorded calls, handed out in order: the next unused one for the same method and URL (its body may
    differ: the diff shows it)."""

    def __init__(self, recorded: list[dict[str, Any]]) -> None:
        self.recorded = recorded
        self.used: set[int] = set()

    def answer(self, request: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
        for i, entry in enumerate(self.recorded):
            if i not in self.used and _same_call(entry["request"], request):
                self.used.add(i)
                return entry["response"], i
        return not_recorded(request), None


def replay_step(
    runtime: Runtime,
    key: str,
    step: str,
    *,
    ev: dict[str, Any],
    ctx: dict[str, Any],
    now: datetime,
    seed: int,
    recorded: list[dict[str, Any]],
    limits: Limits | None = None,
) -> ReplayedStep:
    """Run step `step` of the plan loaded at `key` once through, as the engine does (again after each host
    call), every call answered by `Answers` over `recorded` ({request, response} as the execution stored them)."""
    answers = Answers(recorded)
    made: list[ReplayedCall] = []
    payload: dict[str, Any] = {
        "ev": ev,
        "ctx": ctx,
        "now": int(now.timestamp() * 1000),
        "seed": seed,
        "retrying": False,
        "snapshots": True,
        "stepKey": f"replay:{uuid.uuid4()}",
    }
    for _ in range(MAX_CALLS + 1):
        payload["recordedFrom"] = 0
        payload["recorded"] = [{"request": c.request, "response": c.response} for c in made]
        result = runtime.run_step(key, step, payload, limits or Limits())
        if result.status != "host-call":
            break
        request = {k: v for k, v in (result.request or {}).items() if k not in ("index", "replace")}
        response, index = answers.answer(request)
        made.append(ReplayedCall(request, response, index, result.ctx))
    else:
        return ReplayedStep("error", calls=made, error=f"step {step!r} made more than {MAX_CALLS} host calls")
    return ReplayedStep(
        "completed" if result.status == "completed" else "error",
        ctx=result.ctx,
        logs=[f"{line['logLevel']}: {line['logMessage']}" for line in result.logs],
        triggers=[t for t in result.triggers],
        calls=made,
        error=(result.error or {}).get("message") if result.status != "completed" else None,
    )


def _same_call(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return str(a.get("method", "GET")).upper() == str(b.get("method", "GET")).upper() and a.get("url") == b.get("url")
