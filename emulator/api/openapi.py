"""`GET /api/_emulator/openapi.json`: the emulator's API described, for tools and the fuzz test."""

from __future__ import annotations

import json
from importlib import resources

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)


@bp.get("/api/_emulator/openapi.json")
def openapi():
    doc = json.loads(resources.files("emulator.catalogue").joinpath("openapi.json").read_text("utf-8"))
    return jsonify(doc)
