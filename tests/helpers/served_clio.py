"""The fake Clio served on a loopback port in the test's own process (the fixture `fake_clio`: it outlives the
emulator processes a test starts and kills; each answer checked against Clio's OpenAPI document), a demo
solution pointed at it, and the firm's connect through its consent page over HTTP."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from emulator.kernel.http_server import WsgiServer
from emulator.solution.loading import demo_solution_path
from pms_adapters.fakes.clio.app import create_app as create_clio
from pms_adapters.fakes.clio.models import App, ClioBackend
from tests.helpers.clio_openapi import Conformance

MATTERS = 600  # the fake firm's matters: enough that a sync is caught half-way


@pytest.fixture
def fake_clio():
    """The fake Clio on a loopback port in this test process: it outlives every emulator process the test
    starts and kills, and each of its answers is checked against Clio's OpenAPI document."""
    conformance = Conformance()
    server = WsgiServer(create_clio(ClioBackend(matters=MATTERS, app=App()), observer=conformance), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="fake-clio", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"


def solution_on(tmp_path: Path, base_url: str) -> Path:
    root = tmp_path / "solution"
    shutil.copytree(demo_solution_path(), root)
    toml = root / "operate.toml"
    text = toml.read_text("utf-8").replace('include = ["pkg:smartplans/examples"]', "include = []")
    text = text.replace(
        'fake = "clio"\nbase_url = "http://127.0.0.1:8767"',
        f'base_url = "{base_url}"\nclient_id = "fake-clio-app"\nclient_secret = "fake-clio-secret"',
    )
    toml.write_text(text, "utf-8")
    return root


def connect_served_clio(app, base_url: str) -> None:
    em = app.extensions["operate"]
    principal = em.identity.principal("demo-client", "priya.shah")
    url = urlsplit(em.clio.connection.begin(principal.user_name, "http://localhost/integrations/clio/callback"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    page = httpx.get(f"{base_url}{url.path}?{url.query}", timeout=30)
    user = re.search(r'name="user_id" value="(\d+)"', page.text) or re.search(r'value="(\d+)"', page.text)
    answer = httpx.post(f"{base_url}/oauth/authorize", data={**query, "user_id": user.group(1), "decision": "allow"})
    back = urlsplit(answer.headers["Location"])
    assert app.test_client().get(f"{back.path}?{back.query}").status_code == 200
