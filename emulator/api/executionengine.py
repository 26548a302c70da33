"""The execution engine's graph query, which generated workflow blocks call."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .common import body, caller, emulator

bp = Blueprint("executionengine", __name__)


@bp.post("/api/executionengine/graph/sharedo/query")
def graph_query():
    caller("core.sharedo.read")
    return jsonify(emulator().queries.graph_query(body()))
