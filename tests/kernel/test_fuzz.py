"""Fuzz the emulator's HTTP API from the OpenAPI document it serves itself.

Schemathesis reads `GET /api/_emulator/openapi.json` from the app in-process (WSGI, no socket),
generates valid and invalid requests for every operation, and runs every check it has (`-c all`):
never a 5xx, a status the document lists, the content type and body the document describes, valid
data accepted and invalid data refused (the document says exactly what the server takes), 405 with
`Allow` for a method a path lacks, and the rest. One emulator
(demo solution, virtual clock) serves the whole module. The run is derandomised, so CI sees the
same cases every time; a crash found here gets a plain regression test in
`test_fuzz_regressions.py` and a fix where it lives.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import mount_demo_pms
from tests.conftest import START

OPENAPI_PATH = "/api/_emulator/openapi.json"
BASIC = "Basic " + base64.b64encode(b"demo-client:demo-secret").decode()
CHECKS = [  # every check schemathesis has (`-c all`)
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    ignored_auth,
    use_after_free,
    ensure_resource_availability,
]
# Where a schema-valid request may still be a 400: the rule depends on the solution's data or the
# current state, which no OpenAPI 3.0 schema can say. Each is named with its reason; everything else
# a schema can express is in the document, and positive_data_acceptance holds it to that.
SEMANTIC_400 = {
    "POST /connect/token": "RFC 6749: a grant the client may not use is 400 unauthorized_client",
    "POST /api/_emulator/import": "a snapshot's tables, columns and keys are the store's, checked as a whole",
    "PUT /api/v1/public/workItem/{item_id}": "key dates and aspects are the work type's",
    "POST /api/v1/public/workItem": "types, roles, key dates and a parent must exist in the solution",
    "PUT /api/v1/public/workItem/{item_id}/phase": "phases and legal transitions are the work type's",
    "POST /api/sharedo/{item_id}/phase/jumpTo": "the phases are the work type's",
    "POST /api/v1/public/workItem/{item_id}/attributes": "OpenAPI 3.0 has no propertyNames for attribute names",
    "PUT /api/v1/public/workItem/{item_id}/attributes": "OpenAPI 3.0 has no propertyNames for attribute names",
    "POST /api/v2/public/time/entry": "the segments a category requires are the time catalogue's",
    "POST /api/v2/public/workItem/{item_id}/participants": "roles are the work type's, people the ODS's",
    "GET /widgets/{widget_id}": "the users, work items and scenarios a page is asked for are the solution's",
    "GET /portal/{work_item_id}": "the users and scenarios a page is asked for are the solution's",
    "POST /api/tasks/{item_id}/takeownership": "only a token with a user can own, and only where the type has the role",
    "POST /api/aspects/sharedos/{item_id}": "each aspect's string must hold a JSON object, which no schema can say",
    "GET /connect/authorize": "clients and their redirect_uris are the solution's (operate.toml)",
    "POST /connect/authorize": "clients and their redirect_uris are the solution's (operate.toml)",
    "POST /account/login": "the CSRF token must be the one the sign-in page set in this browser's cookie",
    "GET /connect/endsession": "post-logout URIs are the client's; an id_token_hint must be one this emulator signed",
    "POST /connect/endsession": "post-logout URIs are the client's; an id_token_hint must be one this emulator signed",
    "GET /_harness/callback": "the state must be the one this browser's sign-in started with",
    "GET /integrations/clio/callback": "the state must be one a connect started here; the code Clio's",
    "POST /api/_emulator/integrations/clio/sync": "needs Clio connected (the firm's grant) and no sync running",
    "POST /api/_emulator/integrations/clio/push": "needs Clio connected (the firm's grant)",
    "POST /api/_emulator/integrations/clio/disconnect": "tells Clio only when connected",
    "PUT /api/_emulator/integrations/clio/mappings": "work types and phases are the solution's; no propertyNames",
    "POST /api/v1/public/workItem/findByQuery": "a path's names are the object model's, step by step",
    "POST /api/executionengine/graph/sharedo/query": "a path's names are the object model's, step by step",
}
# Attribute names the demo seed holds; with the seed's ids and the solution's type, phase and role
# names they are mixed into generated requests, so the fuzz gets past "404 not found" / "unknown
# type" into the handlers' real work.
ATTRIBUTE_NAMES = ["pmsReference", "priority", "amount", "currency"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("fuzz"), demo=True, clock="virtual", clock_start=START)
    app = create_app(settings_)
    em = app.extensions["operate"]
    mount_demo_pms(em)  # the demo's plans and proxy reach the PMS in process, not a port
    with em.store.transaction() as tx:  # one message in the outbox, so its rows and download are checked too
        em.outbox.send(
            tx,
            kind="email",
            sender=em.outbox.default_sender,
            recipients=["priya.shah@example.com"],
            subject="Clio sync results",
            body="Attached.",
            attachments=[("sync-results.csv", "text/csv", "matter,result\r\n00042,created\r\n")],
        )
    yield app
    app.extensions["operate"].close()


def bearer(app) -> str:
    """A fresh token for each case: a fuzzed clock move may have expired the last one."""
    response = app.test_client().post(
        "/connect/token",
        data={"grant_type": "client_credentials", "scope": "sharedo"},
        headers={"Authorization": BASIC},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def _is_guid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _plant(value, names, rnd):
    if isinstance(value, list):
        return [_plant(v, names, rnd) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        pool = names.get(key)
        well_formed = isinstance(v, str) and v.strip() and len(v) <= 200 and (not key.endswith("Id") or _is_guid(v))
        if pool and well_formed and rnd.random() < 0.6:
            out[key] = rnd.choice(pool)
        else:
            out[key] = _plant(v, names, rnd)
    return out


@pytest.fixture(scope="module")
def api_schema(app):
    config = schemathesis.Config.from_dict(
        {
            "seed": 20260105,  # with derandomize=True below: the same cases on every run
            "generation": {
                # The test sends the credentials itself; unknown query parameters are ignored by design.
                "with-security-parameters": False,
                "allow-extra-parameters": False,
            },
            # 502 and 504 are the proxy's documented answers about an unreachable or slow linked
            # service, not emulator crashes.
            "operations": [
                {
                    "include-tag": "proxy",
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "504"]}},
                },
                {  # a feature the tenant has switched off answers 400 to every call, valid or not
                    "include-tag": "features",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]}},
                },
                *(
                    {
                        "include-name": label,
                        "checks": {
                            "positive_data_acceptance": {
                                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
                            }
                        },
                    }
                    for label in SEMANTIC_400
                ),
            ],
        }
    )
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app, config=config)
    solution = app.extensions["operate"].solution
    item_ids = [entry["id"] for entry in solution.seed]
    ods_ids = [p["id"] for p in solution.people] + [o["id"] for o in solution.organisations]
    outbox = app.extensions["operate"].outbox.list(limit=10).rows
    message_ids = [m.id for m in outbox]
    attachment_ids = [a.id for m in outbox for a in m.attachments]

    types = solution.worktypes
    names = {
        "sharedoTypeSystemName": [t.system_name for t in types],
        "toPhaseSystemName": sorted({p.system_name for t in types for p in types.phases(t.system_name)}),
        "roleSystemName": sorted(solution.roles),
        "entityId": item_ids,
        "sharedoId": item_ids,
        "parentSharedoId": item_ids,
        "odsId": ods_ids,
    }

    @schema.hook
    def flatmap_body(ctx, body):
        # Generated names and ids almost never exist, so the handlers would answer 400/404 before
        # doing any work. Swap some well-formed ones for real ones (a seeded, derandomised choice);
        # values the generator made invalid on purpose stay as they are.
        return st.randoms(use_true_random=False).map(lambda rnd: _plant(body, names, rnd))

    @schema.hook
    def flatmap_path_parameters(ctx, path_parameters):
        # Keep what was generated half the time; otherwise point a well-formed id at a real record.
        # An id the generator broke on purpose (a negative case) is left alone.
        if not path_parameters:
            return st.just(path_parameters)
        choices = {}
        pools = (
            ("item_id", item_ids),
            ("ods_id", ods_ids),
            ("name", ATTRIBUTE_NAMES),
            ("message_id", message_ids),
            ("attachment_id", attachment_ids),
        )
        for key, pool in pools:
            value = path_parameters.get(key)
            if value is not None and (key == "name" or _is_guid(value)):
                choices[key] = st.one_of(st.just(value), st.sampled_from(pool))
        if not choices:
            return st.just(path_parameters)
        return st.fixed_dictionaries(choices).map(lambda picked: {**path_parameters, **picked})

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_and_never_crashes(case, app):
    if case.path.startswith("/connect/"):
        headers = {"Authorization": BASIC}
    elif case.operation.definition.raw.get("security") == []:
        headers = {}
    else:
        headers = {"Authorization": f"Bearer {bearer(app)}"}
    checks = CHECKS
    if "proxy" in (case.operation.definition.raw.get("tags") or []):
        # what a proxied call answers (405, 400, ...) is the linked service's, passed through as it is
        checks = [check for check in CHECKS if check is not positive_data_acceptance]
    case.call_and_validate(headers=headers, checks=checks)


def is_web_page(endpoint: str) -> bool:
    """The emulator's web pages (emulator/web: blueprints `web_*` and their stylesheet) are HTML for people,
    not API, and stay out of the document; tests/web/test_web_html.py and test_web_pages.py cover them."""
    return endpoint.startswith("web_")


def test_every_route_is_in_the_document(app):
    """The document cannot drift: a route without its operation (or the other way round) fails here."""
    doc = json.loads(app.test_client().get(OPENAPI_PATH).get_data(as_text=True))
    described = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }
    routed = {
        (re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not is_web_page(rule.endpoint)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    missing = sorted(f"{method} {path}" for path, method in routed - described)
    assert not missing, f"routes missing from emulator/catalogue/openapi.json: {missing}"
    stale = sorted(f"{method} {path}" for path, method in described - routed)
    assert not stale, f"emulator/catalogue/openapi.json describes routes the app does not have: {stale}"


def test_document_is_valid_openapi(app):
    from openapi_spec_validator import validate

    validate(app.test_client().get(OPENAPI_PATH).get_json())
