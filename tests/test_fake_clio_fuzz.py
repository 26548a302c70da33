"""Fuzz the fake Clio's read-only operations from Clio's own OpenAPI document (clio-cli==1.0.5):
schemathesis generates valid and invalid requests for every GET the fake serves, and none may be
answered with a server error. (That answers conform is checked in test_fake_clio.py, on every answer.)"""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from flask import Flask, Response
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from emulator.kernel.clock import Clock
from pms_adapters.clio.app import create_app
from pms_adapters.clio.models import ClioBackend
from pms_adapters.clio.urls import API, URL_RULES

from . import clio_openapi
from .conftest import START

SPEC_PATH = "/_test/clio-openapi.json"


def served_paths() -> str:
    """The document's GET paths the fake serves, as one regular expression."""
    rules = [rule[len(API) :] for rule, methods, _ in URL_RULES if rule.startswith(API) and "GET" in methods]
    patterns = [rule.replace("<int:record_id>", "{id}") + ".json" for rule in rules]
    return "^(" + "|".join(p.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.") for p in patterns) + ")$"


@pytest.fixture(scope="module")
def fake():
    backend = ClioBackend(Clock("virtual", START), matters=40, rate_limit=10**9)
    app = create_app(backend)
    app.token = backend.issue_token(min(backend.users))["access_token"]  # type: ignore[attr-defined]
    # A webhook for the webhooks GETs to list (its handshake is refused: the URL is not on loopback).
    backend.create_webhook(
        {"url": "https://hooks.firm.example/clio", "model": "matter", "fields": "id"}, min(backend.users)
    )
    yield app
    backend.close()


@pytest.fixture(scope="module")
def clio_schema(fake):
    pattern = re.compile(served_paths())
    doc = dict(clio_openapi.spec())
    doc["servers"] = [{"url": API}]
    # Only the GETs the fake serves: the rest of Clio's 152 paths would only be 404s.
    doc["paths"] = {p: {"get": item["get"]} for p, item in doc["paths"].items() if "get" in item and pattern.match(p)}
    text = json.dumps(doc, default=str)
    wrapper = Flask("clio-with-its-document")
    wrapper.add_url_rule(SPEC_PATH, "spec", lambda: Response(text, content_type="application/json"))
    fake_wsgi = fake.wsgi_app

    def dispatch(environ, start_response):
        if environ.get("PATH_INFO") == SPEC_PATH:
            return wrapper.wsgi_app(environ, start_response)
        return fake_wsgi(environ, start_response)

    config = schemathesis.Config.from_dict({"seed": 20260105, "generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_wsgi(SPEC_PATH, dispatch, config=config)


schema = schemathesis.pytest.from_fixture("clio_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_the_fake_never_answers_a_server_error(case, fake):
    case.call_and_validate(headers={"Authorization": f"Bearer {fake.token}"}, checks=[not_a_server_error])


def test_every_get_the_fake_serves_is_fuzzed():
    pattern = re.compile(served_paths())
    documented = {p for p, item in clio_openapi.spec()["paths"].items() if "get" in item and pattern.match(p)}
    assert len(documented) == len([r for r, m, _ in URL_RULES if r.startswith(API) and "GET" in m])
