"""Plan executions: every run with its state, plan, work item, start and duration; one run as a
timeline of its steps with their log lines, host calls (secrets redacted), the timers it waits on, its
final `ctx` and its error, linked to the plan's source line; retry and cancel through the real API."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import request

from smartplans.executions import ERRORED, RUNNING, STOPPED, TIMER_KIND, WAITING
from smartplans.executions.reads import ExecutionReads
from smartplans.reruns import comparison

from ..workitem_reads import WorkItemReads
from .acting import action, call_api, done
from .frame import PAGE_SIZE, PageGroup, refuse, render_page, requested_page
from .redact import redact

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from smartplans.executions import SmartPlans

    from ..kernel.scheduler import Scheduler
    from ..kernel.store import Store
    from ..workitems import WorkItems

LOGS_SHOWN = 500  # a step's log lines on the page (the rest: the step log API); a page stays readable
CALLS_SHOWN = 100  # and its host calls
MAX_ID = 100
STATES = (RUNNING, WAITING, STOPPED, ERRORED)


def _source_line(smartplans: SmartPlans, plan_name: str, text: str | None) -> int | None:
    """The line of the plan's own source an error's stack names (`plans/x.js:75:27` → 75)."""
    plan = smartplans.plans.get(plan_name)
    if plan is None or not text:
        return None
    match = re.search(rf"{re.escape(plan.url)}:(\d+)", text)
    return int(match.group(1)) if match else None


def _call(row: Any) -> dict[str, Any]:
    """A host call as the page shows it: its request and response with the secrets redacted."""
    return {
        "index": row["idx"],
        "request": redact(json.loads(row["request"])),
        "response": redact(json.loads(row["response"])),
        "refetch": row["refetch"],
    }


def pages(smartplans: SmartPlans, store: Store, scheduler: Scheduler, workitems: WorkItems) -> PageGroup:
    """The executions pages over `smartplans` (the plans, their source lines), `store` (the runs, read through
    ExecutionReads), `scheduler` (the timers a run waits on) and `workitems` (the work item a run is for)."""
    bp = PageGroup("executions")

    @bp.page("/executions", nav="Executions", order=30)
    def executions():
        page = requested_page()
        state = request.args.get("state") or ""
        plan = request.args.get("plan") or ""
        if state and state not in STATES:
            return refuse(400, f"state must be one of {', '.join(STATES)}, not {state[:40]!r}")
        if plan and plan not in smartplans.plans:
            return refuse(400, f"plan: no plan {plan[:80]!r}; the solution has {', '.join(sorted(smartplans.plans))}")
        result = ExecutionReads(store).page(page, PAGE_SIZE, state=state, plan=plan)
        items = WorkItemReads(store).titles(r["work_item_id"] for r in result.rows)
        blank = {"title": None, "reference": None}
        result.rows = [{**dict(r), **items.get(r["work_item_id"], blank)} for r in result.rows]
        return render_page(
            "executions.html",
            "Executions",
            result=result,
            state=state,
            plan=plan,
            states=STATES,
            plans=sorted(smartplans.plans),
        )

    @bp.page("/executions/<execution_id>")
    def execution(execution_id: str):
        if len(execution_id) > MAX_ID:
            return refuse(404, "no plan execution with an id that long")
        with store.read():  # the run, its timers and its work item read in one breath
            found = ExecutionReads(store).record(execution_id, logs_shown=LOGS_SHOWN, calls_shown=CALLS_SHOWN)
            if found is None:
                return refuse(404, f"no plan execution {execution_id[:80]!r}; every run is listed at /executions")
            ex, steps = found.execution, found.steps
            timers = scheduler.timers_of(TIMER_KIND, "executionId", ex["id"])
            item = workitems.find(ex["work_item_id"]) if ex["work_item_id"] else None
        logs, more = found.logs, found.more
        calls = {step: [_call(r) for r in rows] for step, rows in found.calls.items()}
        timeline = []
        for s in steps:
            error = json.loads(s["error"]) if s["error"] else None
            line = _source_line(smartplans, ex["plan"], (error or {}).get("stack")) if error else None
            timeline.append(
                {
                    "row": s,
                    "error": error,
                    "line": line,
                    "logs": logs[s["id"]],
                    "calls": calls[s["id"]],
                    "more": more[s["id"]],
                    "ctx_in": redact(json.loads(s["ctx_in"])) if s["ctx_in"] else None,
                }
            )
        timer_steps = {json.loads(t["payload"]).get("stepId"): t["due_at"] for t in timers}
        error_line = _source_line(smartplans, ex["plan"], ex["last_error"]) or next(
            (t["line"] for t in timeline if t["line"]), None
        )
        return render_page(
            "execution.html",
            f"{ex['plan']} · {ex['state']}",
            ex=ex,
            ctx=redact(json.loads(ex["ctx"])),
            ev=json.loads(ex["ev"]),
            item=item,
            timeline=timeline,
            timer_steps=timer_steps,
            waiting_on=found.waiting_on,
            error_line=error_line,
            known_plan=ex["plan"] in smartplans.plans,
            settling=ex["state"] == RUNNING,
            comparison=comparison(store, ex["id"]),
        )

    @bp.post("/executions/<execution_id>/steps/<step_id>/retry")
    @action
    def retry(execution_id: str, step_id: str):
        path = (
            f"/api/executionengine/plans/executing/{quote(execution_id, safe='')}/steps/{quote(step_id, safe='')}/retry"
        )
        answer = call_api("POST", path)
        state = answer.body.get("state") if answer.ok and isinstance(answer.body, dict) else None
        return done(
            answer, f"step retried; the execution is now {state}", f"/executions/{quote(execution_id, safe='')}"
        )

    @bp.post("/executions/<execution_id>/cancel")
    @action
    def cancel(execution_id: str):
        answer = call_api("POST", f"/api/executionengine/plans/executing/{quote(execution_id, safe='')}/cancel")
        return done(answer, "execution cancelled", f"/executions/{quote(execution_id, safe='')}")

    return bp
