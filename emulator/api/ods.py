"""ODS people and organisations: the three public path styles and the internal search."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from flask import Blueprint, jsonify

from .common import answers, body, caller, table_blueprint

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..ods import Ods

READ = "core.ods.read"


def blueprint(ods: Ods) -> Blueprint:
    """The ODS routes over `ods`, the people and organisations they serve."""
    # The mobile app builds `/api/public/v1/{participantType}s/{odsId}` ("people" for a person), so the
    # organisation route is also called in the plural; v1 is the one it trusts ("do NOT use v2").
    bp = table_blueprint(
        "ods",
        __name__,
        [
            (("GET /api/public/v2/people/<ods_id>", "GET /api/v2/public/people/<ods_id>"), "person",
             answers(READ, partial(ods.get, "person"))),
            (("GET /api/public/v2/organisation/<ods_id>", "GET /api/v2/public/organisation/<ods_id>"), "organisation",
             answers(READ, partial(ods.get, "organisation"))),
            ("GET /api/public/v1/people/<ods_id>", "person_v1", answers(READ, partial(ods.get_v1, "person"))),
            (("GET /api/public/v1/organisation/<ods_id>", "GET /api/public/v1/organisations/<ods_id>"),
             "organisation_v1", answers(READ, partial(ods.get_v1, "organisation"))),
            ("GET /api/v2/public/locations/for/<ods_id>/ids", "location_ids", answers(READ, ods.location_ids)),
            ("GET /api/v2/public/locations/<location_id>", "location", answers(READ, ods.location)),
            ("GET /api/v2/public/users/<user_id>", "user", answers(READ, ods.user_profile)),
        ],
    )  # fmt: skip

    @bp.post("/api/ods/_search")
    def search():
        caller(READ)
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
