"""The proxy keeps to its contract against a hostile caller: it never reaches a fake's control routes
(`/_fake/...`, whatever the spelling), and what reaches the service carries the service's credentials
only once, never the caller's proxy credentials, forwarding claims or hop-by-hop headers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from tests.conftest import Api, user_token
from tests.helpers.upstream import app_with

FAULT = {"route": "/api/*", "status": 500}

# Each a way of writing a control route of the demo PMS (or the fake Clio) into the proxy's path.
CONTROL_SPELLINGS = [
    ("POST", "_fake/faults"),
    ("POST", "_fake/reset"),
    ("POST", "_FAKE/faults"),
    ("POST", "_Fake/Reset"),
    ("POST", "%5Ffake/faults"),
    ("POST", "%5ffake%2Ffaults"),
    ("POST", "_fake%2freset"),
    ("POST", "/_fake/faults"),
    ("POST", "//_fake/reset"),
    ("POST", "./_fake/faults"),
    ("POST", "%2E/_fake/faults"),
    ("POST", "api/../_fake/reset"),
    ("POST", "api/%2e%2e/_fake/reset"),
    ("POST", "api%2F..%2F_fake%2Freset"),
    ("POST", "api/..%2F_fake/faults"),
    ("POST", "_fake/faults/"),
    ("POST", "_fake/./faults"),
    ("POST", "_fake//faults"),
    ("POST", "_fake/deliveries/d1/retry"),
    ("GET", "_fake/deliveries"),
    ("GET", "_fake/requests"),
    ("DELETE", "_fake/requests"),
    ("DELETE", "_fake/faults"),
    ("POST", "_fake/tokens/revoke"),
    ("POST", "_fake/switches"),
    ("PUT", "_fake/s3/abc"),
    ("POST", "%255Ffake/faults"),
]


@pytest.mark.parametrize(("method", "path"), CONTROL_SPELLINGS)
def test_the_proxy_never_reaches_a_fakes_control_routes(app, em, method, path):
    """daniel.okafor holds the proxy permission but not emulator.control: the web page refuses him the
    demo PMS's faults, and so must the proxy, however the path is written."""
    api = Api(app, user_token(app, "daniel.okafor"))
    backend = em.linked_services.fakes["demo-pms"]
    before = api.get("/api/proxy/demo-pms/_/api/suppliers")
    assert before.status_code == 200, before.json
    seen = len(backend.requests())
    response = api.request(method, f"/api/proxy/demo-pms/_/{path}", FAULT if method == "POST" else None)
    # 308: the emulator's own routing merges `//` and sends the caller to the one spelling, refused below
    assert response.status_code in (308, 400, 403, 404), (path, response.status_code, response.get_data(as_text=True))
    if response.status_code == 308:
        response = api.request(method, response.headers["Location"], FAULT if method == "POST" else None)
        assert response.status_code == 403
    assert backend.faults() == []
    assert len(backend.requests()) == seen  # neither reset nor cleared nor even asked
    if response.status_code == 403:
        assert "_fake" in response.json["title"] and "control" in response.json["title"]


def test_the_proxy_still_reaches_ordinary_paths_that_mention_fake(app, em):
    api = Api(app, user_token(app, "daniel.okafor"))
    assert api.get("/api/proxy/demo-pms/_/api/suppliers?q=_fake").status_code == 200


@pytest.fixture
def upstream():
    """A plain HTTP server that keeps each request's header lines as they came (a WSGI server would
    join repeated headers and drop names with an underscore, hiding what this file checks)."""
    seen = SimpleNamespace(received=[])

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.received.append({"path": self.path, "raw_headers": list(self.headers.items())})
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_injected_key_replaces_the_callers_under_any_spelling(tmp_path, upstream):
    app, api = app_with(
        tmp_path,
        f'[linked_services.pms]\nbase_url = "{upstream.url}"\nauth = "api-key"\n'
        'api_key_header = "X-API-Key"\napi_key = "k-123"\n',
    )
    try:
        for spelling in ("X-API-Key", "x-api-key", "X-Api-Key", "X-API-KEY"):
            response = api.get("/api/proxy/pms/_/echo", headers={spelling: "caller-key"})
            assert response.status_code == 200
        for received in upstream.received:
            keys = [v for k, v in received["raw_headers"] if k.lower().replace("_", "-") == "x-api-key"]
            assert keys == ["k-123"], received["raw_headers"]
    finally:
        app.extensions["operate"].close()


def test_an_injected_header_with_an_underscore_replaces_the_callers_dashed_one(tmp_path, upstream):
    """A WSGI server reads `API_KEY` and `Api-Key` as the same variable: the caller's must not ride along."""
    app, api = app_with(
        tmp_path, f'[linked_services.pms]\nbase_url = "{upstream.url}"\nauth = "api-key"\napi_key = "k-123"\n'
    )
    try:
        response = api.get("/api/proxy/pms/_/echo", headers={"Api-Key": "caller-key"})
        assert response.status_code == 200
        (received,) = upstream.received
        keys = [v for k, v in received["raw_headers"] if k.lower().replace("_", "-") == "api-key"]
        assert keys == ["k-123"], received["raw_headers"]
    finally:
        app.extensions["operate"].close()


NEVER_FORWARDED = {
    "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
    "Proxy-Connection": "keep-alive",
    "X-Forwarded-For": "10.0.0.1",
    "X-Forwarded-Host": "attacker.example",
    "X-Forwarded-Proto": "https",
    "Forwarded": "for=10.0.0.1",
    "X-Real-IP": "10.0.0.1",
    "Keep-Alive": "timeout=5",
    "TE": "trailers",
    "Trailer": "X-Checksum",
    "Upgrade": "websocket",
    "Connection": "X-Named-By-Connection",
    "X-Named-By-Connection": "hop",
    "Cookie": "operate.harness=x",
}


def test_hop_by_hop_proxy_credentials_and_forwarding_claims_are_never_forwarded(tmp_path, upstream):
    app, api = app_with(tmp_path, f'[linked_services.pms]\nbase_url = "{upstream.url}"\n')
    try:
        response = api.get("/api/proxy/pms/_/echo", headers={**NEVER_FORWARDED, "X-Custom": "kept"})
        assert response.status_code == 200
        (received,) = upstream.received
        names = {k.lower() for k, _ in received["raw_headers"]}
        assert "x-custom" in names  # what is the caller's own business still goes through
        mine = [*NEVER_FORWARDED, "Authorization"]
        leaked = sorted(n for n in (k.lower() for k in mine) if n in names and n != "connection")
        assert leaked == [], received["raw_headers"]
        # the proxy's own client keeps its connection alive; the caller's Connection header is not it
        assert [v for k, v in received["raw_headers"] if k.lower() == "connection"] in ([], ["keep-alive"])
    finally:
        app.extensions["operate"].close()
