"""Shared fixtures: a real emulator (SQLite file in tmp_path, virtual clock) and an API client."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from emulator.app import create_app
from emulator.core import Emulator
from emulator.settings import Settings
from smartplans.testing import ApiClient, mount_demo_pms
from tests.helpers.clio_openapi import Conformance

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday morning

# Seed ids from emulator/demo_solution (see its README).
OPEN_MATTER = "3c000000-0000-4000-8000-000000000002"
ENQUIRY_MATTER = "3c000000-0000-4000-8000-000000000010"
SUBMITTED_PAYMENT = "5e000000-0000-4000-8000-000000000001"
ISSUED_INVOICE = "6f000000-0000-4000-8000-000000000001"
CLIENT_PERSON = "1a000000-0000-4000-8000-000000000005"
SUPPLIER_ORG = "2b000000-0000-4000-8000-000000000006"


class Api(ApiClient):
    """The plugin's in-process client with a token given as text (and, optionally, how to renew it)."""

    def __init__(self, app, token: str | None, renew=None) -> None:
        self.token = token

        def token_for(renew_now: bool = False) -> str | None:
            if renew_now and renew is not None:
                self.token = renew()
            return f"Bearer {self.token}" if self.token else None

        super().__init__(app, lambda renew=False: token_for(renew))


def client_token(app, client_id: str = "demo-client", secret: str = "demo-secret", **form: str) -> str:
    data = {"grant_type": "client_credentials", "scope": "sharedo", **form}
    response = app.test_client().post("/connect/token", data=data, auth=(client_id, secret))
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def user_token(app, user: str) -> str:
    return client_token(app, grant_type="Impersonate.Specified", impersonate_user=user, impersonate_provider="idsrv")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "state", demo=True, clock="virtual", clock_start=START)


@pytest.fixture
def app(settings):
    """The demo runs its finance example plans; their PMS is the demo PMS, in process. create_app is the
    composition root: plans' sharedo.http calls go into this app."""
    app = create_app(settings)
    mount_demo_pms(app.extensions["operate"])
    yield app
    app.extensions["operate"].close()


@pytest.fixture
def em(app) -> Emulator:
    return app.extensions["operate"]


@pytest.fixture
def api(app) -> Api:
    return Api(app, client_token(app), renew=lambda: client_token(app))


def new_matter(api: Api, **extra: Any) -> dict[str, Any]:
    body = {"workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "Test matter"}, **extra}
    response = api.post("/api/v1/public/workItem", body)
    assert response.status_code == 201, response.json
    return response.json["workItem"]


def executions(api: Api, **query: str) -> list[dict[str, Any]]:
    """The plan executions the engine lists, filtered as the query says (plan=..., sharedo_id=...)."""
    response = api.get("/api/executionengine/plans/executing?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert response.status_code == 200, response.json
    return response.json


def events_of(api: Api, event_type: str | None = None) -> list[dict[str, Any]]:
    found = api.get("/api/_emulator/events?after=0").json["events"]
    return [e for e in found if event_type is None or e["eventType"] == event_type]


@pytest.fixture
def clio(operate):
    """The demo's fake Clio firm on a loopback port, as `operate serve --demo` serves it for the browser (the
    emulator's own calls stay in process); every answer it gives is checked against Clio's OpenAPI document."""
    integration = operate.emulator.clio
    conformance = Conformance()
    integration.observers.append(conformance)
    server = integration.serve_fake(port=0)
    yield integration
    server.shutdown()
    server.server_close()
    integration.observers.remove(conformance)
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"
