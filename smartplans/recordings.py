"""An execution saved as a regression test, and that test replayed against the plan code as it is now.

Saved (the execution page's "Save as test", `POST /api/_emulator/executions/<id>/recording`, `operate test
--record-from ID`) as a scenario file with a `replay:` section: the event, and per step the ctx it started with,
the time and seed it ran at, every host call with its recorded answer (the mocks), and under `then` what it did:
its status, the ctx it left, its log lines and the steps it scheduled. `operate test` replays each step
(smartplans/replay.py) with those answers and fails with a readable diff when the plan now does otherwise: a call
not made or made with another body, another ctx, other log lines, other steps scheduled.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from emulator.kernel.clock import iso, parse_instant

from .executions.reads import ExecutionReads
from .executions.stepping import step_seed
from .replay import PlanToolError, ReplayedStep, replay_step

HEADER = """\
# Saved from execution {execution} of plan {plan} ({saved}).
# `operate test` replays it: each step runs against the plan as it is now, its host calls answered from `calls`
# (the recorded answers), and the test fails with a diff when the plan now makes other calls, leaves another ctx,
# logs other lines or schedules other steps. Edit `then` when a change is meant.
"""


class RecordingError(PlanToolError):
    """An execution that cannot be saved as a test, or a `replay:` section that cannot run; says why."""


def recording_of(store: Any, execution_id: str) -> dict[str, Any]:
    """The scenario document of a stored execution (RecordingError when there is none, or nothing to replay)."""
    found = ExecutionReads(store).recording(execution_id)
    if found is None:
        raise RecordingError(f"no plan execution {execution_id[:80]!r}; every run is listed at /executions", 404)
    execution, steps = found
    for step in steps:
        step["seed"] = step_seed(execution["id"], step["id"])
    return recording_document(execution, steps)


def file_name(doc: dict[str, Any]) -> str:
    """Where a saved recording goes in the solution: tests/recorded/<plan>-<execution id's start>.scenario.yaml."""
    plan = "".join(c if c.isalnum() or c in "-_" else "-" for c in doc["replay"]["plan"])[:60]
    return f"tests/recorded/{plan}-{doc['replay']['execution'][:8]}.scenario.yaml"


def recording_document(execution: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The scenario for one execution: `execution` its row (id, plan, ev), `steps` each ended step in order with
    its ctx_in, ctx_out, triggers, started, seed, status, error, calls and logs."""
    if not steps:
        raise RecordingError(f"execution {execution['id']} has no step that ran: there is nothing to replay")
    out_steps = []
    for s in steps:
        if s.get("ctx_in") is None:
            raise RecordingError(
                f"step {s['step']!r} of execution {execution['id']} ran before the emulator kept each step's ctx; "
                "run the plan again and save that execution"
            )
        then: dict[str, Any] = {
            "status": s["status"],
            "ctx": s["ctx_out"],
            "logs": s["logs"],
            "triggers": s["triggers"],
        }
        if s.get("error"):
            then["error"] = s["error"]
        out_steps.append(
            {
                "step": s["step"],
                "at": s["started"],
                "seed": s["seed"],
                "ctx": s["ctx_in"],
                "calls": [{"request": c["request"], "response": c["response"]} for c in s["calls"]],
                "then": then,
            }
        )
    short = execution["id"][:8]
    return {
        "name": f"{execution['plan']}: replay of execution {short}",
        "replay": {"plan": execution["plan"], "execution": execution["id"], "ev": execution["ev"], "steps": out_steps},
    }


def to_yaml(doc: dict[str, Any], saved: datetime) -> str:
    head = HEADER.format(execution=doc["replay"]["execution"], plan=doc["replay"]["plan"], saved=f"saved {iso(saved)}")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)


@dataclass
class StepDiff:
    index: int
    step: str
    sections: list[str]  # each a titled unified diff: calls, ctx, logs, triggers, status


def replay_recording(smartplans: Any, replay: dict[str, Any]) -> list[StepDiff]:
    """Each recorded step replayed against the plan as the emulator has it now; the steps whose doings differ."""
    plan_name = _field(replay, "plan", str)
    steps = _field(replay, "steps", list)
    try:
        plan = smartplans.loaded(plan_name)
    except Exception as exc:  # the plan may have been removed or broken since the recording: say so
        raise RecordingError(f"plan {plan_name!r} cannot run: {exc}") from None
    ev = replay.get("ev") or {}
    diffs = []
    for i, recorded in enumerate(steps, 1):
        if not isinstance(recorded, dict) or not isinstance(recorded.get("then"), dict):
            raise RecordingError(f"replay.steps[{i - 1}] needs step, at, seed, ctx, calls and then")
        now = replay_step(
            smartplans.runtime,
            plan.key,
            _field(recorded, "step", str),
            ev=ev,
            ctx=recorded.get("ctx") or {},
            now=parse_instant(_field(recorded, "at", str)),
            seed=int(recorded.get("seed") or 0),
            recorded=list(recorded.get("calls") or []),
        )
        sections = differences(recorded, now)
        if sections:
            diffs.append(StepDiff(i, recorded["step"], sections))
    return diffs


def differences(recorded: dict[str, Any], now: ReplayedStep) -> list[str]:
    then = recorded["then"]
    pairs = [
        (
            "calls",
            [_call_line(c["request"]) for c in recorded.get("calls") or []],
            [_call_line(c.request) for c in now.calls],
        ),  # noqa: E501
        ("status", [_status_line(then.get("status"), then.get("error"))], [_status_line(now.status, now.error)]),
        # A failed step leaves no ctx (the execution keeps the one before it).
        ("ctx", _json_lines(then.get("ctx")), _json_lines(now.ctx if now.status == "completed" else None)),
        ("logs", list(then.get("logs") or []), now.logs),
        ("scheduled steps", [_compact(t) for t in then.get("triggers") or []], [_compact(t) for t in now.triggers]),
    ]
    out = []
    for title, before, after in pairs:
        if before != after:
            lines = difflib.unified_diff(before, after, f"{title}, recorded", f"{title}, now", lineterm="", n=2)
            out.append("\n".join(lines))
    return out


def report(diffs: list[StepDiff], total: int) -> str:
    heads = [f"step {d.step!r} ({d.index} of {total}) does something else now:" for d in diffs]
    return "\n\n".join(head + "\n" + "\n".join(d.sections) for head, d in zip(heads, diffs, strict=True))


def _field(doc: dict[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind):
        raise RecordingError(f"replay needs `{name}` ({kind.__name__}); it has {type(value).__name__}")
    return value


def _call_line(request: dict[str, Any]) -> str:
    body = request.get("body")
    line = f"{str(request.get('method', 'GET')).upper()} {request.get('url')}"
    return line if body is None else f"{line} {_compact(body)}"


def _status_line(status: Any, error: Any) -> str:
    return f"{status}" + (f": {error}" if error else "")


def _json_lines(value: Any) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
