"""The implementor's tools on an execution's page, through /api/_emulator/executions/... as the signed-in user:
save the run as a test (in the solution, or downloaded), rerun a step with edited ctx and event (the new run's
page then shows both runs of the step side by side), and step through a step's host calls with the ctx after each."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import redirect, request
from werkzeug.wrappers import Response

from .acting import action, call_api, done
from .frame import PageGroup, note, refuse, render_page

API = "/api/_emulator/executions"


def _q(value: str) -> str:
    return quote(value, safe="")


def _edited(name: str) -> tuple[Any, str | None]:
    """A JSON editor's text: None when it is as it was prefilled (the stored original is used, secrets and all),
    else the parsed object, or the reason it is not one."""
    try:
        value = json.loads(request.form.get(name) or "")
    except ValueError as exc:
        return None, f"{name} is not JSON: {exc}"
    try:
        if value == json.loads(request.form.get(f"{name}_as_shown") or ""):
            return None, None
    except ValueError:
        pass  # a form not from this page: what it sends is the edit
    return (value, None) if isinstance(value, dict) else (None, f"{name} must be a JSON object")


def pages() -> PageGroup:
    bp = PageGroup("plan_tools")

    @bp.post("/executions/<execution_id>/save-test")
    @action
    def save_test(execution_id: str):
        answer = call_api("POST", f"{API}/{_q(execution_id)}/recording")
        path = answer.body.get("path") if answer.ok and isinstance(answer.body, dict) else ""
        return done(
            answer, f"saved as {path} in the solution: `operate test` replays it", f"/executions/{_q(execution_id)}"
        )

    @bp.get("/executions/<execution_id>/recording.yaml")
    def download(execution_id: str):
        answer = call_api("GET", f"{API}/{_q(execution_id)}/recording")
        if not answer.ok:
            return refuse(answer.status, answer.problem())
        name = f"{execution_id[:8]}.scenario.yaml"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(str(answer.body), mimetype="application/yaml", headers=headers)

    @bp.post("/executions/<execution_id>/steps/<step_id>/rerun")
    @action
    def rerun(execution_id: str, step_id: str):
        here = f"/executions/{_q(execution_id)}"
        body: dict[str, Any] = {}
        for name in ("ctx", "ev"):
            value, problem = _edited(name)
            if problem:
                return note(redirect(here, 303), problem, "error")
            if value is not None:
                body[name] = value
        answer = call_api("POST", f"{API}/{_q(execution_id)}/steps/{_q(step_id)}/rerun", body)
        if not answer.ok:
            return done(answer, "", here)
        new = answer.body["execution"]
        return note(
            redirect(f"/executions/{_q(new['id'])}", 303), f"step rerun as a new execution ({new['state']})", "ok"
        )

    @bp.page("/executions/<execution_id>/steps/<step_id>")
    def step_through(execution_id: str, step_id: str):
        answer = call_api("GET", f"{API}/{_q(execution_id)}/steps/{_q(step_id)}/snapshots")
        if not answer.ok:
            return refuse(answer.status, answer.problem())
        shown = answer.body
        return render_page(
            "step_through.html", f"{shown['step']} · call by call", execution_id=execution_id, shown=shown
        )

    return bp
