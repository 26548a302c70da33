"""The execution engine's graph query, which generated workflow blocks call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request

from ..kernel.errors import invalid
from .common import READ_WORK, UPDATE_WORK, add_routes, answers, body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from smartplans.executions import SmartPlans

    from ..query import Queries


def blueprint(queries: Queries, smartplans: SmartPlans) -> Blueprint:
    """The execution engine's routes over `queries` (the graph query) and `smartplans` (the executions)."""
    bp = Blueprint("executionengine", __name__)

    @bp.post("/api/executionengine/graph/sharedo/query")
    def graph_query():
        caller(READ_WORK)
        return jsonify(queries.graph_query(body()))

    @bp.get(EXECUTING)
    def executing():
        """Plan executions, oldest first; `state`, `sharedoId` and `plan` narrow the list."""
        caller(READ_WORK)
        state = request.args.get("state") or None
        if state and state not in STATES:
            raise invalid("state", f"use one of {list(STATES)}")
        return jsonify(
            smartplans.executions(state, request.args.get("sharedoId") or None, request.args.get("plan") or None)
        )

    add_routes(
        bp,
        [
            (f"GET {EXECUTING}/<execution_id>", "execution", answers(READ_WORK, smartplans.execution)),
            (f"GET {STEP}/log", "step_log", answers(READ_WORK, smartplans.step_log)),
            (f"POST {STEP}/retry", "retry", answers(UPDATE_WORK, smartplans.retry)),
            (("POST /api/executionengine/visualmodeller/plans/executing/<execution_id>/cancel",
              f"POST {EXECUTING}/<execution_id>/cancel"), "cancel", answers(UPDATE_WORK, smartplans.cancel)),
        ],
    )  # fmt: skip

    return bp


EXECUTING = "/api/executionengine/plans/executing"
STEP = f"{EXECUTING}/<execution_id>/steps/<step_id>"
STATES = ("RUNNING", "WAITING", "STOPPED", "ERRORED")
