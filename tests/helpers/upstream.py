"""A PMS stand-in on a loopback port that records what reaches it (the fixture `upstream`; its OAuth token route
counts the tokens it hands out), and an app whose operate.toml configures linked services (`app_with`)."""

from __future__ import annotations

import time

import pytest
from flask import Flask, jsonify, request

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import solution_from_demo
from tests.conftest import START, Api, client_token
from tests.helpers.loopback import serving


def recording_upstream() -> Flask:
    """A Flask app that keeps each call it gets in `received` and counts the tokens it hands out in `tokens`."""
    app = Flask("upstream")
    app.received = []  # type: ignore[attr-defined]
    app.tokens = 0  # type: ignore[attr-defined]

    @app.route("/oauth/token", methods=["POST"])
    def token():
        app.tokens += 1
        return jsonify({"access_token": f"up-{app.tokens}", "token_type": "Bearer"})

    @app.get("/api/suppliers")
    def suppliers():
        app.received.append({"path": "/api/suppliers", "headers": dict(request.headers)})
        return jsonify({"suppliers": [{"supplierId": "S1", "name": "Land Registry", "category": "searches"}]})

    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def anything(path):
        app.received.append(
            {
                "method": request.method,
                "path": "/" + path,
                "query": request.query_string.decode(),
                "headers": dict(request.headers),
                "body": request.get_data(as_text=True),
            }
        )
        if path == "slow":
            time.sleep(1.0)
        if path == "expire" and request.headers.get("Authorization") == "Bearer up-1":
            return jsonify({"error": "expired"}), 401
        return jsonify(
            {"youSent": request.get_json(silent=True), "path": "/" + path}
        ), 201 if request.method == "POST" else 200

    return app


def app_with(tmp_path, services: str):
    root = solution_from_demo(tmp_path / "sol", toml=services)
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    return app, Api(app, client_token(app))


@pytest.fixture
def upstream():
    app = recording_upstream()
    with serving(app) as url:
        app.url = url  # type: ignore[attr-defined]
        yield app
