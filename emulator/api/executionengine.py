"""The execution engine's graph query, which generated workflow blocks call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request

from ..kernel.errors import invalid
from .common import body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from smartplans.executions import SmartPlans

    from ..query import Queries


def blueprint(queries: Queries, smartplans: SmartPlans) -> Blueprint:
    """The execution engine's routes over `queries` (the graph query) and `smartplans` (the executions)."""
    bp = Blueprint("executionengine", __name__)

    @bp.post("/api/executionengine/graph/sharedo/query")
    def graph_query():
        caller("core.sharedo.read")
        return jsonify(queries.graph_query(body()))

    @bp.get(EXECUTING)
    def executing():
        """Plan executions, oldest first; `state`, `sharedoId` and `plan` narrow the list."""
        caller("core.sharedo.read")
        state = request.args.get("state") or None
        if state and state not in STATES:
            raise invalid("state", f"use one of {list(STATES)}")
        return jsonify(
            smartplans.executions(state, request.args.get("sharedoId") or None, request.args.get("plan") or None)
        )

    @bp.get(f"{EXECUTING}/<execution_id>")
    def execution(execution_id: str):
        caller("core.sharedo.read")
        return jsonify(smartplans.execution(execution_id))

    @bp.get(f"{EXECUTING}/<execution_id>/steps/<step_id>/log")
    def step_log(execution_id: str, step_id: str):
        caller("core.sharedo.read")
        return jsonify(smartplans.step_log(execution_id, step_id))

    @bp.post(f"{EXECUTING}/<execution_id>/steps/<step_id>/retry")
    def retry(execution_id: str, step_id: str):
        caller("core.sharedo.update")
        return jsonify(smartplans.retry(execution_id, step_id))

    @bp.post("/api/executionengine/visualmodeller/plans/executing/<execution_id>/cancel")
    @bp.post(f"{EXECUTING}/<execution_id>/cancel")
    def cancel(execution_id: str):
        caller("core.sharedo.update")
        return jsonify(smartplans.cancel(execution_id))

    return bp


EXECUTING = "/api/executionengine/plans/executing"
STATES = ("RUNNING", "WAITING", "STOPPED", "ERRORED")
