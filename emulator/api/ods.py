"""ODS people and organisations: the three public path styles and the internal search."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .common import body, caller, emulator

bp = Blueprint("ods", __name__)


@bp.get("/api/public/v1/people/<ods_id>")
@bp.get("/api/public/v2/people/<ods_id>")
@bp.get("/api/v2/public/people/<ods_id>")
def person(ods_id: str):
    caller("core.ods.read")
    return jsonify(emulator().ods.get("person", ods_id))


@bp.get("/api/public/v1/organisation/<ods_id>")
@bp.get("/api/public/v2/organisation/<ods_id>")
@bp.get("/api/v2/public/organisation/<ods_id>")
def organisation(ods_id: str):
    caller("core.ods.read")
    return jsonify(emulator().ods.get("organisation", ods_id))


@bp.post("/api/ods/_search")
def search():
    caller("core.ods.read")
    return jsonify(emulator().ods.search(body()))
