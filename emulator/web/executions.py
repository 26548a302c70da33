"""Plan executions: every run with its state, plan, work item, start and duration; one run as a
timeline of its steps with their log lines, host calls (secrets redacted), the timers it waits on, its
final `ctx` and its error, linked to the plan's source line; retry and cancel through the real API."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from flask import request

from smartplans.executions import ERRORED, RUNNING, STOPPED, TIMER_KIND, WAITING

from .acting import action, call_api, done
from .frame import PageGroup, emulator, page_number, paged, refuse, render_page
from .redact import redact

bp = PageGroup("executions")
LOGS_SHOWN = 500  # a step's log lines on the page (the rest: the step log API); a page stays readable
CALLS_SHOWN = 100  # and its host calls
MAX_ID = 100
STATES = (RUNNING, WAITING, STOPPED, ERRORED)


@bp.page("/executions", nav="Executions", order=30)
def executions():
    em = emulator()
    page = page_number()
    if page is None:
        return refuse(400, "page must be a whole number from 1")
    state = request.args.get("state") or ""
    plan = request.args.get("plan") or ""
    sql, args = (
        "SELECT e.id, e.plan, e.plan_title, e.state, e.start_time, e.end_time, e.sharedo_id, e.last_error, "
        "w.title, w.reference FROM plan_executions e LEFT JOIN work_items w ON w.id = e.sharedo_id WHERE 1=1",
        [],
    )
    if state:
        if state not in STATES:
            return refuse(400, f"state must be one of {', '.join(STATES)}, not {state[:40]!r}")
        sql += " AND e.state = ?"
        args.append(state)
    if plan:
        if plan not in em.smartplans.plans:
            return refuse(
                400, f"plan: no plan {plan[:80]!r}; the solution has {', '.join(sorted(em.smartplans.plans))}"
            )
        sql += " AND e.plan = ?"
        args.append(plan)
    with em.store.read() as conn:
        result = paged(conn, sql + " ORDER BY e.rowid DESC", args, page)
    return render_page(
        "executions.html",
        "Executions",
        result=result,
        state=state,
        plan=plan,
        states=STATES,
        plans=sorted(em.smartplans.plans),
    )


def _source_line(em: Any, plan_name: str, text: str | None) -> int | None:
    """The line of the plan's own source an error's stack names (`plans/x.js:75:27` → 75)."""
    plan = em.smartplans.plans.get(plan_name)
    if plan is None or not text:
        return None
    match = re.search(rf"{re.escape(plan.url)}:(\d+)", text)
    return int(match.group(1)) if match else None


@bp.page("/executions/<execution_id>")
def execution(execution_id: str):
    em = emulator()
    if len(execution_id) > MAX_ID:
        return refuse(404, "no plan execution with an id that long")
    with em.store.read() as conn:
        ex = conn.execute("SELECT * FROM plan_executions WHERE id=?", (execution_id,)).fetchone()
        if ex is None:
            return refuse(404, f"no plan execution {execution_id[:80]!r}; every run is listed at /executions")
        steps = conn.execute("SELECT * FROM execution_steps WHERE execution_id=? ORDER BY seq", (ex["id"],)).fetchall()
        ids = [s["id"] for s in steps]
        marks = ",".join("?" * len(ids))
        logs: dict[str, list[Any]] = {i: [] for i in ids}
        calls: dict[str, list[Any]] = {i: [] for i in ids}
        more: dict[str, dict[str, int]] = {i: {"logs": 0, "calls": 0} for i in ids}  # not shown: past the caps
        if ids:
            for r in conn.execute(f"SELECT * FROM step_logs WHERE step_id IN ({marks}) ORDER BY step_id, seq", ids):
                if len(logs[r["step_id"]]) >= LOGS_SHOWN:
                    more[r["step_id"]]["logs"] += 1
                    continue
                logs[r["step_id"]].append(r)
            for r in conn.execute(f"SELECT * FROM step_calls WHERE step_id IN ({marks}) ORDER BY step_id, idx", ids):
                if len(calls[r["step_id"]]) >= CALLS_SHOWN:
                    more[r["step_id"]]["calls"] += 1
                    continue
                request_doc, response_doc = json.loads(r["request"]), json.loads(r["response"])
                calls[r["step_id"]].append(
                    {
                        "index": r["idx"],
                        "request": redact(request_doc),
                        "response": redact(response_doc),
                        "refetch": r["refetch"],
                    }
                )
        timers = conn.execute(
            "SELECT id, due_at, payload FROM jobs WHERE kind=? AND json_extract(payload, '$.executionId')=? "
            "ORDER BY due_at",
            (TIMER_KIND, ex["id"]),
        ).fetchall()
        item = em.workitems.find(ex["sharedo_id"], conn) if ex["sharedo_id"] else None
        waiting_on = conn.execute(
            "SELECT step_id, phase FROM runtime_triggers WHERE execution_id=?", (ex["id"],)
        ).fetchall()
    timeline = []
    for s in steps:
        error = json.loads(s["error"]) if s["error"] else None
        line = _source_line(em, ex["plan"], (error or {}).get("stack")) if error else None
        timeline.append(
            {
                "row": s,
                "error": error,
                "line": line,
                "logs": logs[s["id"]],
                "calls": calls[s["id"]],
                "more": more[s["id"]],
            }
        )
    timer_steps = {json.loads(t["payload"]).get("stepId"): t["due_at"] for t in timers}
    error_line = _source_line(em, ex["plan"], ex["last_error"]) or next(
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
        waiting_on={r["step_id"]: r["phase"] for r in waiting_on},
        error_line=error_line,
        known_plan=ex["plan"] in em.smartplans.plans,
        settling=ex["state"] == RUNNING,
    )


@bp.post("/executions/<execution_id>/steps/<step_id>/retry")
@action
def retry(execution_id: str, step_id: str):
    path = f"/api/executionengine/plans/executing/{quote(execution_id, safe='')}/steps/{quote(step_id, safe='')}/retry"
    answer = call_api("POST", path)
    state = answer.body.get("state") if answer.ok and isinstance(answer.body, dict) else None
    return done(answer, f"step retried; the execution is now {state}", f"/executions/{quote(execution_id, safe='')}")


@bp.post("/executions/<execution_id>/cancel")
@action
def cancel(execution_id: str):
    answer = call_api("POST", f"/api/executionengine/plans/executing/{quote(execution_id, safe='')}/cancel")
    return done(answer, "execution cancelled", f"/executions/{quote(execution_id, safe='')}")
