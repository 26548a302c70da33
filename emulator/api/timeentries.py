"""The public time v2 API (`/api/v2/public/time/...`) and the internal state routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify

from .common import body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..timeentries import TimeEntries
V2 = "/api/v2/public/time"


def blueprint(time: TimeEntries) -> Blueprint:
    """The time routes over `time`, the time entries they serve."""
    bp = Blueprint("time", __name__)

    @bp.get(f"{V2}/categories")
    def categories():
        caller("core.sharedo.read")
        return jsonify(time.category_list())

    @bp.get(f"{V2}/capture/<category>/<item_id>")
    def capture(category: str, item_id: str):
        caller("core.sharedo.read")
        return jsonify(time.capture(category, item_id))

    @bp.get(f"{V2}/entry/config")
    def config():
        caller("core.sharedo.read")
        return jsonify(time.config())

    @bp.post(f"{V2}/entry/search")
    def search():
        caller("core.sharedo.read")
        return jsonify(time.search(body()))

    @bp.post(f"{V2}/entry")
    def create():
        return jsonify(time.create(body(), caller())), 201

    @bp.get(f"{V2}/entry/<id:entry_id>")
    def get(entry_id: str):
        caller("core.sharedo.read")
        return jsonify(time.get(entry_id))

    # PUT, submit and DELETE answer 200 with an empty body, as the real ones do.
    @bp.put(f"{V2}/entry/<id:entry_id>")
    def update(entry_id: str):
        time.update(entry_id, body(), caller())
        return "", 200

    @bp.delete(f"{V2}/entry/<id:entry_id>")
    def delete(entry_id: str):
        time.delete(entry_id, caller())
        return "", 200

    @bp.post(f"{V2}/entry/<entry_id>/submit")
    def submit(entry_id: str):
        time.transition(entry_id, "submit", caller())
        return "", 200

    @bp.post("/api/time/entry/<entry_id>/state/<action>")
    def state(entry_id: str, action: str):
        return jsonify(time.transition(entry_id, action, caller()))

    return bp
