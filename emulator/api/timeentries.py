"""The public time v2 API (`/api/v2/public/time/...`) and the internal state routes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .common import body, caller, emulator

bp = Blueprint("time", __name__)
V2 = "/api/v2/public/time"


@bp.get(f"{V2}/categories")
def categories():
    caller("core.sharedo.read")
    return jsonify(emulator().time.category_list())


@bp.get(f"{V2}/capture/<category>/<item_id>")
def capture(category: str, item_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().time.capture(category, item_id))


@bp.get(f"{V2}/entry/config")
def config():
    caller("core.sharedo.read")
    return jsonify(emulator().time.config())


@bp.post(f"{V2}/entry/search")
def search():
    caller("core.sharedo.read")
    return jsonify(emulator().time.search(body()))


@bp.post(f"{V2}/entry")
def create():
    return jsonify(emulator().time.create(body(), caller())), 201


@bp.get(f"{V2}/entry/<id:entry_id>")
def get(entry_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().time.get(entry_id))


# PUT, submit and DELETE answer 200 with an empty body, as the real ones do.
@bp.put(f"{V2}/entry/<id:entry_id>")
def update(entry_id: str):
    emulator().time.update(entry_id, body(), caller())
    return "", 200


@bp.delete(f"{V2}/entry/<id:entry_id>")
def delete(entry_id: str):
    emulator().time.delete(entry_id, caller())
    return "", 200


@bp.post(f"{V2}/entry/<entry_id>/submit")
def submit(entry_id: str):
    emulator().time.transition(entry_id, "submit", caller())
    return "", 200


@bp.post("/api/time/entry/<entry_id>/state/<action>")
def state(entry_id: str, action: str):
    return jsonify(emulator().time.transition(entry_id, action, caller()))
