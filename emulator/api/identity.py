"""`/connect/token` and `/api/security/userInfo`: the identity server's public surface."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..identity import OAuthError
from .common import caller, emulator

bp = Blueprint("identity", __name__)


@bp.post("/connect/token")
def token():
    try:
        body = emulator().identity.token_request(request.form.to_dict(), request.headers.get("Authorization"))
    except OAuthError as exc:
        response = jsonify({"error": exc.error, "error_description": exc.description})
        response.status_code = exc.status
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="operate"'
        return response
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/connect/revocation")
def revocation():
    """RFC 7009: always 200, whether or not the token existed or was the caller's to revoke."""
    try:
        client = emulator().identity.client_from(request.form.to_dict(), request.headers.get("Authorization"))
    except OAuthError as exc:
        return jsonify({"error": exc.error, "error_description": exc.description}), exc.status
    if request.form.get("token"):
        emulator().identity.revoke(request.form["token"], client.client_id)
    return "", 200


@bp.get("/api/security/userInfo")
def user_info():
    return jsonify(emulator().identity.user_info(caller()))
