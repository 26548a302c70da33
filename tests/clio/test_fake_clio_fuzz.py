"""Fuzz the fake Clio from Clio's own OpenAPI document (clio-cli==1.0.5) with every schemathesis check: for
each path the fake serves, every operation the document lists there (reads and writes), valid and invalid
requests, methods the document does not list (405 with `Allow`), answers checked against the document's
statuses and schemas. The token rotates before Clio's rate limit (50 a minute) is reached, as an integration
making this many calls would need several connections to.

What the document cannot say is given to the fuzzer here, each rule with its reason (README.md, "Where the
fake differs" repeats them); nothing else is excused.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any

import pytest
import schemathesis
from flask import Flask, Response
from hypothesis import HealthCheck, settings

from emulator.kernel.clock import Clock
from pms_adapters.fakes.clio.app import create_app
from pms_adapters.fakes.clio.models import API_VERSIONS, RATE_LIMIT, ClioBackend
from pms_adapters.fakes.clio.urls import API, URL_RULES
from tests.conftest import START
from tests.helpers import clio_openapi

SPEC_PATH = "/_test/clio-openapi.json"
_ERROR = {"content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Error"}}}}

# Rules Clio states in prose (its introduction, a parameter's description, its guides), not in the schema: the
# fuzzer is given them, or it would call the fake wrong for following them.
PROSE_RULES = {
    "X-API-VERSION": "a free string in every operation; the introduction: an invalid version is 410 Gone. "
    "The fuzzer's valid versions are the fake's, and the empty header (no version: the default applies); any "
    "other is invalid, and 410 is added to every operation",
    "limit": "an integer with no bounds; its description: 'Limit can range between 1 and N' (N is 200, 1000 for "
    "billable_matters, 2000 for users): given as minimum and maximum",
    "fields": "a free string; its grammar (the record's field names, one nested level) is the Fields guide's. "
    "Not fuzzed here; tests/clio/test_fake_clio.py checks it",
    "page_token": "a free string; only a token Clio gave in meta.paging is valid. Not fuzzed here",
    "IF-MODIFIED-SINCE": "typed a date, described as an RFC 2822 timestamp; RFC 9110 has a server ignore one that "
    "is not a date, so no value can be refused. Not fuzzed here; tests/clio/test_fake_clio.py checks it",
    "404 from a DELETE": "the document gives DELETEs only 204 and 403 (409 for documents), yet a record that is "
    "not there cannot be deleted: 404 (clio_openapi.py accepts it the same way)",
    "422/412 for valid-looking data": "the document lists 422 and 412 for every write; whether a record's "
    "references exist and agree (a stage of the matter's practice area, a billed activity that may not change), "
    "or an If-Match etag is current, is no schema's: a schema-valid write may be refused with them",
}
# Where the fake is narrower than Clio (README.md, "Where the fake differs"): the fuzzer keeps to what it does.
FAKE_LIMITS = {
    "order": "the fake orders by id only: id(asc) and id(desc) stay, the document's other orders go",
    "request bodies": "the fake reads JSON bodies; the document's form-encoded and multipart bodies go",
    "unemulated filters": "query parameters the fake does not filter by are not sent (it ignores them)",
    "practice area writes": "POST/PATCH/DELETE of practice areas are not emulated (405 with Allow)",
}
# The query parameters each list filters by (besides limit, order, ids[], updated_since, created_since).
FILTERS = {
    "/matters.json": {"status", "practice_area_id", "client_id", "query"},
    "/matter_stages.json": {"practice_area_id"},
    "/activities.json": {"matter_id", "user_id", "type", "status", "query"},
    "/billable_matters.json": {"matter_id", "client_id"},
    "/bills.json": {"state", "matter_id", "client_id"},
    "/communications.json": {"matter_id", "external_property_name", "external_property_value"},
    "/documents.json": {
        "matter_id",
        "show_uncompleted",
        "include_deleted",
        "external_property_name",
        "external_property_value",
    },  # fmt: skip
}
COMMON = {"X-API-VERSION", "IF-MATCH", "id", "limit", "order", "ids[]", "updated_since", "created_since"}
NOT_EMULATED = {("/practice_areas.json", "post"), ("/practice_areas/{id}.json", "patch"),
                ("/practice_areas/{id}.json", "delete")}  # fmt: skip
METHODS = ("get", "put", "post", "delete", "patch")


def served_paths() -> set[str]:
    """The document's paths the fake serves (with `.json`, as the document writes them)."""
    rules = [rule[len(API) :] for rule, _, _ in URL_RULES if rule.startswith(API)]
    return {rule.replace("<int:record_id>", "{id}") + ".json" for rule in rules}


def fuzz_document() -> dict[str, Any]:
    """Clio's document, cut to the fake's paths, with the prose rules and the fake's limits applied."""
    doc = copy.deepcopy(clio_openapi.spec())
    doc["servers"] = [{"url": API}]
    served = served_paths()
    paths = {}
    for path, item in doc["paths"].items():
        if path not in served:
            continue
        kept = {}
        for method, op in item.items():
            if method not in METHODS or (path, method) in NOT_EMULATED:
                continue
            op["parameters"] = [_param(p) for p in op.get("parameters", []) if _keep(path, method, p)]
            body = op.get("requestBody")
            if body and "content" in body:
                body["content"] = {k: v for k, v in body["content"].items() if k == "application/json"}
            op["responses"].setdefault("410", _ERROR)
            if method == "delete":
                op["responses"].setdefault("404", _ERROR)
            kept[method] = op
        paths[path] = kept
    doc["paths"] = paths
    return doc


def _keep(path: str, method: str, param: dict[str, Any]) -> bool:
    name = param["name"]
    if name in ("fields", "page_token", "IF-MODIFIED-SINCE"):
        return False
    if param["in"] != "query":
        return True
    return name in COMMON or name in FILTERS.get(path, ())


def _param(param: dict[str, Any]) -> dict[str, Any]:
    schema = param.get("schema", {})
    if param["name"] == "X-API-VERSION":
        param["schema"] = {"type": "string", "enum": ["", *API_VERSIONS]}
    elif param["name"] == "limit":
        low, high = re.search(r"between (\d+) and (\d+)", param["description"]).groups()
        param["schema"] = {**schema, "minimum": int(low), "maximum": int(high)}
    elif param["name"] == "order" and "enum" in schema:
        param["schema"] = {**schema, "enum": [o for o in schema["enum"] if o.startswith("id(")]}
    return param


def aim_at_a_record(case: Any, backend: ClioBackend) -> None:
    """Point every other case whose `{id}` is a valid whole number at a record that exists, so that reads, updates
    and deletes succeed too and their answers are checked (random ids find nothing). An invalid id is left as it is:
    a negative case stays negative."""
    ident = (case.path_parameters or {}).get("id")
    if isinstance(ident, str) and re.fullmatch(r"-?\d{1,19}", ident):
        ident = int(ident)  # the coverage phase sends path values as text
    if not isinstance(ident, int) or isinstance(ident, bool) or not -(2**63) <= ident < 2**63 or ident % 2:
        return
    ids = sorted(backend.collection(case.path.strip("/").split("/")[0]))
    if ids:
        case.path_parameters["id"] = ids[abs(ident) // 2 % len(ids)]


class Tokens:
    """A token per up to RATE_LIMIT - 5 calls: the next one before Clio's limit would answer 429."""

    def __init__(self, backend: ClioBackend) -> None:
        self.backend, self.lock, self.calls, self.issued = backend, threading.Lock(), 0, 0
        self.user = min(backend.users)
        self.current = self._issue()

    def _issue(self) -> str:
        self.issued += 1
        return self.backend.issue_token(self.user)["access_token"]

    def next(self, calls: int = 3) -> str:
        """The token for a case that may make `calls` calls (schemathesis repeats one without auth)."""
        with self.lock:
            if self.calls + calls > RATE_LIMIT - 5:
                self.current, self.calls = self._issue(), 0
            self.calls += calls
            return self.current


@pytest.fixture(scope="module")
def fake():
    backend = ClioBackend(Clock("virtual", START), matters=40)  # Clio's own rate limit
    app = create_app(backend)
    app.tokens = Tokens(backend)  # type: ignore[attr-defined]
    # A webhook for the webhooks GETs to list (its handshake is refused: the URL is not on loopback).
    backend.create_webhook(
        {"url": "https://hooks.firm.example/clio", "model": "matter", "fields": "id"}, min(backend.users)
    )
    # Communications and documents for their PATCHes and DELETEs to find (the seed has none).
    matter = min(backend.matters)
    for n in range(3):
        backend.create_communication(
            {"subject": f"s{n}", "body": "b", "type": "PhoneCommunication", "received_at": START.isoformat(),
             "matter": {"id": matter}}, min(backend.users))  # fmt: skip
        backend.create_document({"name": f"d{n}.txt", "parent": {"id": matter, "type": "Matter"}}, min(backend.users),
                                "http://localhost")  # fmt: skip
    yield app
    backend.close()


@pytest.fixture(scope="module")
def clio_schema(fake):
    text = json.dumps(fuzz_document(), default=str)
    wrapper = Flask("clio-with-its-document")
    wrapper.add_url_rule(SPEC_PATH, "spec", lambda: Response(text, content_type="application/json"))
    fake_wsgi = fake.wsgi_app

    def dispatch(environ, start_response):
        if environ.get("PATH_INFO") == SPEC_PATH:
            return wrapper.wsgi_app(environ, start_response)
        return fake_wsgi(environ, start_response)

    config = schemathesis.Config.from_dict(
        {
            "seed": 20260105,
            "generation": {"with-security-parameters": False},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
                },  # fmt: skip
                "negative_data_rejection": {
                    "expected-statuses": ["400", "401", "403", "404", "406", "410", "412", "415", "422", "428"]
                },  # fmt: skip
            },
        }
    )
    return schemathesis.openapi.from_wsgi(SPEC_PATH, dispatch, config=config)


schema = schemathesis.pytest.from_fixture("clio_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_every_check_of_clio_s_document_holds(case, fake):
    aim_at_a_record(case, fake.extensions["fake_clio"])
    case.call_and_validate(headers={"Authorization": f"Bearer {fake.tokens.next()}"})


def test_every_operation_the_fake_serves_is_fuzzed():
    doc = fuzz_document()
    fuzzed = {(p, m.upper()) for p, item in doc["paths"].items() for m in item}
    served = {
        (rule[len(API) :].replace("<int:record_id>", "{id}") + ".json", method)
        for rule, methods, _ in URL_RULES
        if rule.startswith(API)
        for method in methods
    }
    assert served - fuzzed == {("/webhooks/{id}/activate.json", "PUT")}  # not a path of Clio's document
    # The writes the document lists for the records the fake keeps are all here, not 405s.
    for path in ("/matters.json", "/contacts.json", "/activities.json", "/communications.json", "/documents.json"):
        assert (path, "POST") in fuzzed
    for path in ("matters", "contacts", "activities", "bills", "communications", "documents"):
        assert {(f"/{path}/{{id}}.json", m) for m in ("GET", "PATCH", "DELETE")} <= fuzzed
    assert {(p, m.upper()) for p, m in NOT_EMULATED}.isdisjoint(fuzzed)
