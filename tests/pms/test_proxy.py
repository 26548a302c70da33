"""The linked-service proxy against a real upstream server on a loopback port."""

from __future__ import annotations

import socket

import httpx
import pytest
from flask import Flask, jsonify, request

from emulator.app import create_app
from emulator.linked_services import LinkedService
from emulator.settings import Settings
from emulator.solution.loading import SolutionError
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import START, Api, client_token
from tests.helpers.upstream import app_with, recording_upstream


def test_forwards_and_injects_the_api_key_not_the_callers_token(tmp_path, upstream):
    app, api = app_with(
        tmp_path,
        f'[linked_services.pms]\nbase_url = "{upstream.url}"\nauth = "api-key"\n'
        'api_key_header = "X-Api-Key"\napi_key = "k-123"\n',
    )
    response = api.post("/api/proxy/pms/_/api/matter?x=1&x=2", {"priority": 7})
    assert response.status_code == 201
    assert response.json == {"youSent": {"priority": 7}, "path": "/api/matter"}
    (received,) = upstream.received
    assert received["method"] == "POST" and received["query"] == "x=1&x=2"
    assert received["headers"]["X-Api-Key"] == "k-123"
    assert "Authorization" not in received["headers"]
    assert api.get("/api/proxy/pms/_/api/matter/7/financials/").json["path"] == "/api/matter/7/financials/"
    app.extensions["operate"].close()


def test_an_encoded_question_mark_stays_in_the_path(tmp_path, upstream):
    app, api = app_with(tmp_path, f'[linked_services.pms]\nbase_url = "{upstream.url}"\n')
    try:
        assert api.get("/api/proxy/pms/_/api/matters%3Fa=b").status_code == 200
        assert api.get("/api/proxy/pms/_/api/a%23b%25c%20d?real=1").status_code == 200
        first, second = upstream.received
        assert (first["path"], first["query"]) == ("/api/matters?a=b", "")
        assert (second["path"], second["query"]) == ("/api/a#b%c d", "real=1")
    finally:
        app.extensions["operate"].close()


def test_needs_an_operate_token(tmp_path, upstream):
    app, api = app_with(tmp_path, f'[linked_services.pms]\nbase_url = "{upstream.url}"\n')
    assert Api(app, None).get("/api/proxy/pms/_/anything").status_code == 401
    assert upstream.received == []
    app.extensions["operate"].close()


def test_unknown_and_unexposed_services(tmp_path, upstream):
    app, api = app_with(tmp_path, f'[linked_services.hidden]\nbase_url = "{upstream.url}"\nexpose_for_proxy = false\n')
    hidden = api.get("/api/proxy/hidden/_/x")
    assert hidden.status_code == 403 and "not exposed" in hidden.json["title"]
    unknown = api.get("/api/proxy/nope/_/x")
    assert unknown.status_code == 404 and "hidden" in unknown.json["title"]
    assert upstream.received == []
    app.extensions["operate"].close()


def test_an_unreachable_service_is_502_and_a_slow_one_504(tmp_path, upstream):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    app, api = app_with(
        tmp_path,
        f'[linked_services.down]\nbase_url = "http://127.0.0.1:{closed_port}"\n'
        f'[linked_services.slow]\nbase_url = "{upstream.url}"\ntimeout_seconds = 0.2\n',
    )
    down = api.get("/api/proxy/down/_/api/matter")
    assert down.status_code == 502 and "unreachable" in down.json["title"]
    slow = api.get("/api/proxy/slow/_/slow")
    assert slow.status_code == 504 and "did not answer within 0.2 s" in slow.json["title"]
    log = app.extensions["operate"].proxy_log.entries()
    assert [(e["service"], e["status"]) for e in log] == [("down", 502), ("slow", 504)]
    app.extensions["operate"].close()


def test_oauth2_client_credentials_are_fetched_cached_and_renewed(tmp_path, upstream):
    app, api = app_with(
        tmp_path,
        f'[linked_services.oauth]\nbase_url = "{upstream.url}"\n'
        'auth = "oauth2-client-credentials"\ntoken_url = "/oauth/token"\n'
        'client_id = "op"\nclient_secret = "s"\n',
    )
    assert api.get("/api/proxy/oauth/_/one").status_code == 200
    assert api.get("/api/proxy/oauth/_/expire").status_code == 200  # 401 with up-1, renewed to up-2
    assert [r["headers"]["Authorization"] for r in upstream.received] == ["Bearer up-1", "Bearer up-1", "Bearer up-2"]
    assert upstream.tokens == 2
    app.extensions["operate"].close()


def test_an_oauth2_service_s_adapter_fetches_its_token_once_and_leaves_the_proxy_client_alone(
    tmp_path, upstream, monkeypatch
):
    monkeypatch.setenv("PMS_SECRET", "s")
    app, api = app_with(
        tmp_path,
        f'[linked_services.oauth]\nbase_url = "{upstream.url}"\nadapter = "demo"\n'
        'auth = "oauth2-client-credentials"\ntoken_url = "/oauth/token"\n'
        'client_id = "op"\nclient_secret_env = "PMS_SECRET"\n',
    )
    try:
        services = app.extensions["operate"].linked_services
        adapter = services.adapter("oauth")
        assert [s.name for s in adapter.suppliers()] == ["Land Registry"]  # before: RecursionError
        assert [s.name for s in services.adapter("oauth").suppliers()] == ["Land Registry"]
        assert upstream.tokens == 1  # fetched once, cached
        assert [r["headers"]["Authorization"] for r in upstream.received] == ["Bearer up-1", "Bearer up-1"]
        # the proxy's client carries no adapter hook: its calls are credentialed once, by the proxy
        assert api.get("/api/proxy/oauth/_/through-the-proxy").status_code == 200
        assert upstream.received[-1]["headers"]["Authorization"] == "Bearer up-1"
        assert not services.client("oauth").event_hooks["request"]
    finally:
        app.extensions["operate"].close()


def test_an_unset_client_secret_env_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    with pytest.raises(SolutionError, match="NO_SUCH_SECRET is not set"):
        app_with(
            tmp_path,
            '[linked_services.oauth]\nbase_url = "http://127.0.0.1:9"\nauth = "oauth2-client-credentials"\n'
            'token_url = "/t"\nclient_id = "op"\nclient_secret_env = "NO_SUCH_SECRET"\n',
        )


def test_a_remote_base_url_needs_allow_remote(tmp_path):
    with pytest.raises(SolutionError, match="not on this machine"):
        app_with(tmp_path, '[linked_services.pms]\nbase_url = "https://pms.example.com"\n')


def test_bad_service_config_is_named(tmp_path):
    with pytest.raises(SolutionError, match=r"\[linked_services.pms\]: auth 'api-key' needs api_key"):
        app_with(tmp_path, '[linked_services.pms]\nbase_url = "http://127.0.0.1:1"\nauth = "api-key"\n')


def test_an_in_process_fake_can_be_mounted_by_transport(tmp_path):
    upstream = recording_upstream()
    app, api = app_with(tmp_path, "")
    app.extensions["operate"].linked_services.add(
        LinkedService("fake", "http://fake.local"), httpx.WSGITransport(app=upstream)
    )
    assert api.put("/api/proxy/fake/_/things/1", {"a": 1}).json == {"youSent": {"a": 1}, "path": "/things/1"}
    app.extensions["operate"].close()


def test_plans_reach_the_pms_through_the_proxy(tmp_path, upstream):
    plan = (
        "function main(ev, ctx, log) {\n"
        "  var r = sharedo.http.post('/api/proxy/pms/_/api/matter', {priority: 9});\n"
        "  ctx.status = r.status; ctx.path = r.body.path;\n}\nreturn {main: main};"
    )
    services = (
        f'[linked_services.pms]\nbase_url = "{upstream.url}"\nauth = "api-key"\napi_key = "k"\n'
        'api_key_header = "X-Api-Key"\n'
    )
    root = solution_from_demo(
        tmp_path / "sol", {"send": plan}, [trigger("send", phases=["matter-open"])], toml=services
    )
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    api = Api(app, client_token(app))
    api.put("/api/v1/public/workItem/3c000000-0000-4000-8000-000000000010/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = api.get("/api/executionengine/plans/executing").json
    assert execution["ctx"]["status"] == "Created" and execution["ctx"]["path"] == "/api/matter"
    assert len(upstream.received) == 1 and upstream.received[0]["headers"]["X-Api-Key"] == "k"
    app.extensions["operate"].close()


def test_the_proxy_reuses_its_upstream_connections(tmp_path):
    """Served by the server `operate serve` uses (keep-alive), every proxied call to one service goes over
    one pooled connection: the upstream sees a single client port."""
    import threading

    from emulator.kernel.http_server import WsgiServer

    upstream = Flask("pooled")
    ports: list[str] = []

    @upstream.get("/<path:path>")
    def anything(path):
        ports.append(request.environ.get("REMOTE_PORT"))
        return jsonify({"path": path})

    server = WsgiServer(upstream, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app, api = app_with(tmp_path, f'[linked_services.pms]\nbase_url = "http://127.0.0.1:{server.server_port}"\n')
    try:
        for n in range(5):
            assert api.get(f"/api/proxy/pms/_/call/{n}").status_code == 200
        assert len(ports) == 5 and len(set(ports)) == 1, ports
    finally:
        app.extensions["operate"].close()
        server.shutdown()
        thread.join(timeout=10)
