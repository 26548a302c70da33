"""ODS people and organisations: the three public path styles and the internal search."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify

from .common import body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..ods import Ods


def blueprint(ods: Ods) -> Blueprint:
    """The ODS routes over `ods`, the people and organisations they serve."""
    bp = Blueprint("ods", __name__)

    @bp.get("/api/public/v2/people/<ods_id>")
    @bp.get("/api/v2/public/people/<ods_id>")
    def person(ods_id: str):
        caller("core.ods.read")
        return jsonify(ods.get("person", ods_id))

    @bp.get("/api/public/v2/organisation/<ods_id>")
    @bp.get("/api/v2/public/organisation/<ods_id>")
    def organisation(ods_id: str):
        caller("core.ods.read")
        return jsonify(ods.get("organisation", ods_id))

    # The mobile app builds `/api/public/v1/{participantType}s/{odsId}` ("people" for a person), so the
    # organisation route is also called in the plural; v1 is the one it trusts ("do NOT use v2").
    @bp.get("/api/public/v1/people/<ods_id>")
    def person_v1(ods_id: str):
        caller("core.ods.read")
        return jsonify(ods.get_v1("person", ods_id))

    @bp.get("/api/public/v1/organisation/<ods_id>")
    @bp.get("/api/public/v1/organisations/<ods_id>")
    def organisation_v1(ods_id: str):
        caller("core.ods.read")
        return jsonify(ods.get_v1("organisation", ods_id))

    @bp.get("/api/v2/public/locations/for/<ods_id>/ids")
    def location_ids(ods_id: str):
        caller("core.ods.read")
        return jsonify(ods.location_ids(ods_id))

    @bp.get("/api/v2/public/locations/<location_id>")
    def location(location_id: str):
        caller("core.ods.read")
        return jsonify(ods.location(location_id))

    @bp.get("/api/v2/public/users/<user_id>")
    def user(user_id: str):
        caller("core.ods.read")
        return jsonify(ods.user_profile(user_id))

    @bp.post("/api/ods/_search")
    def search():
        caller("core.ods.read")
        return jsonify(ods.search(body()))

    @bp.post("/api/v2/public/organisation")
    @bp.post("/api/public/v2/organisation")
    def create_organisation():
        """[inferred shape] How an integration (the PMS) creates an organisation, e.g. a supplier."""
        return jsonify(ods.save_organisation(body(), caller())), 201

    @bp.put("/api/v2/public/organisation/<ods_id>")
    @bp.put("/api/public/v2/organisation/<ods_id>")
    def update_organisation(ods_id: str):
        return jsonify(ods.save_organisation(body(), caller(), org_id=ods_id))

    @bp.post("/api/ods/organisation")
    def create_organisation_internal():
        """[inferred] The UI's own route: it refuses organisations that the PMS masters (suppliers)."""
        return jsonify(ods.save_organisation(body(), caller(), public_api=False)), 201

    return bp
