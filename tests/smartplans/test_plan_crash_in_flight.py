"""kill -9 while a plan's POST to a PMS is in flight: the call was recorded as sent before it went, so after the
restart the step says its first attempt's outcome is unknown (in its log, which the execution page shows)
before it sends the call again. Exactly once cannot be promised for a call whose answer was lost.

The PMS is a real server on loopback in the test's own process, so it outlives the emulator process that is
killed while the PMS holds the POST.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from emulator.app import create_app
from emulator.kernel.http_server import WsgiServer
from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import OPEN_MATTER
from tests.helpers.paths import ROOT

PLAN = """
function main(ev, ctx, log) {
  var r = sharedo.http.post("/api/proxy/demo-pms/_/api/matters", { matter: ev.Data.sharedoId });
  ctx.status = r.status;
}
return { main: main };
"""


class SlowPms:
    """Holds the first POST until released; answers every later one at once."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.keys: list[str | None] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size) or b"{}")
        if environ["REQUEST_METHOD"] == "POST":
            self.posts.append(body)
            self.keys.append(environ.get("HTTP_IDEMPOTENCY_KEY"))
            if len(self.posts) == 1:
                self.first_arrived.set()
                self.release.wait(30)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"id": "PMS-1"}']


@pytest.fixture
def pms():
    app = SlowPms()
    server = WsgiServer(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    app.release.set()
    server.shutdown()
    thread.join(10)


CHILD = textwrap.dedent(
    """
    import dataclasses, sys
    from pathlib import Path
    from emulator.app import create_app
    from emulator.settings import Settings
    app = create_app(Settings(data_dir=Path(sys.argv[1]), solution=Path(sys.argv[2])))
    em = app.extensions["operate"]
    service = em.linked_services.services["demo-pms"]
    em.linked_services.add(dataclasses.replace(service, base_url=sys.argv[3], fake=None))
    print("started", flush=True)
    em.workitems.set_attributes(sys.argv[4], {"push": "1"}, None)
    print("finished", flush=True)
    """
)


def test_a_post_in_flight_at_kill_9_is_marked_outcome_unknown_when_the_step_runs_again(tmp_path: Path, pms):
    backend, url = pms
    solution = solution_from_demo(tmp_path / "s", {"push": PLAN}, [trigger("push", "attribute-changed", "matter")])
    data = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(solution), url, OPEN_MATTER],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout.readline().strip() == "started"
        assert backend.first_arrived.wait(30), "the plan's POST never reached the PMS"
        os.kill(child.pid, signal.SIGKILL)  # the POST is in flight: its answer is lost with the process
    finally:
        child.wait(timeout=30)
    backend.release.set()

    app = create_app(Settings(data_dir=data, solution=solution), resume=False)
    em = app.extensions["operate"]
    try:
        service = em.linked_services.services["demo-pms"]
        em.linked_services.add(dataclasses.replace(service, base_url=url, fake=None))
        em.dispatcher.drain()
        em.smartplans.resume()
        (execution,) = em.smartplans.executions(plan="push")
        assert execution["state"] == "STOPPED", execution["lastErrored"]
        assert execution["ctx"]["status"] == "Created"
        (step,) = execution["steps"]
        log = [line["logMessage"] for line in em.smartplans.step_log(execution["id"], step["id"])]
        assert any(
            "the first attempt's outcome is unknown: POST /api/proxy/demo-pms/_/api/matters" in line for line in log
        ), log
        assert len(backend.posts) == 2  # sent again; a PMS that honours the key acts once (the demo PMS does)
        # operate.toml: idempotency_header = "Idempotency-Key"; the key is the same both times
        assert backend.keys[0] and backend.keys == [backend.keys[0]] * 2
        page = app.test_client().get(f"/executions/{execution['id']}")  # the execution page shows the step's log
        assert page.status_code == 200
        assert "the first attempt&#39;s outcome is unknown" in page.get_data(as_text=True)
    finally:
        em.close()


def test_the_demo_pms_acts_once_on_a_write_sent_twice_with_one_idempotency_key():
    from pms_adapters.fakes.demo_pms.app import create_app as create_pms
    from pms_adapters.fakes.demo_pms.models import DemoPmsBackend

    backend = DemoPmsBackend()
    client = create_pms(backend).test_client()
    headers = {"X-API-Key": "demo-pms-key", "Idempotency-Key": "step-1:0"}
    body = {"operateId": "3c000000-0000-4000-8000-0000000000ab", "title": "Once only", "clientName": "Kestrel"}
    body["feeEarner"] = "PS"
    first = client.post("/api/matters", json=body, headers=headers)
    again = client.post("/api/matters", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.get_data(as_text=True)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    listed = client.get("/api/matters", headers={"X-API-Key": "demo-pms-key"}).get_data(as_text=True)
    assert listed.count("Once only") == 1
    other = client.post(
        "/api/matters",
        json={**body, "operateId": "3c000000-0000-4000-8000-0000000000ac"},
        headers={**headers, "Idempotency-Key": "step-1:1"},
    )
    assert other.status_code == 201 and other.json != first.json  # another key is another write
