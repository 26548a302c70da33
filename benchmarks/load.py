"""`python -m benchmarks load`: the emulator under load it should shrug off.

- 100 matters opened while every PMS call takes 500 ms: each starts a plan of two steps with one PMS call
  each (through `/api/proxy/demo-pms/_/...`), so one execution takes 2 × 500 ms. Executions waiting on a
  host call let the others run (`[limits] host_calls_in_flight`), so all 100 finish in about that, not
  100 × 2 × 500 ms. Goal: at most 2 × (500 ms × the steps of one execution), from the first create to the
  last execution ended.
- a health request to a server holding 100 half-open connections (clients that sent half a request and
  stopped): answered at once, not after the stalled clients time out.

Everything on 127.0.0.1: the emulator and the demo PMS on the server `operate serve` runs (cheroot).
"""

from __future__ import annotations

import dataclasses
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .harness import HEALTH_PATH, BenchmarkError, Figure, Goal, bearer_token, expect, http_client, needs
from .pms import _serve

MATTERS = 100
PMS_DELAY_S = 0.5
STEPS = 2  # one PMS call in each
CREATORS = 8  # clients creating the matters at once
SETTLE_TIMEOUT_S = 120.0
HALF_OPEN = 100
WORK_TYPE = "matter-private-client"

PLAN = """
function main(ev, ctx, log) {
  ctx.first = sharedo.http.get("/api/proxy/demo-pms/_/api/suppliers").status;
  trigger.SubProcess("second").Now();
}
function second(ev, ctx, log) {
  ctx.second = sharedo.http.get("/api/proxy/demo-pms/_/api/suppliers").status;
}
return { main: main, second: second };
"""


def figures(runs: int) -> Iterator[Figure]:
    needs("pytest", area="load")  # smartplans.testing (its plan and trigger builders) is pytest's plugin
    from emulator.app import create_app
    from emulator.settings import Settings
    from pms_adapters.fakes.demo_pms.app import create_app as create_pms
    from pms_adapters.fakes.demo_pms.models import DemoPmsBackend
    from smartplans.testing import solution_from_demo, trigger

    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        root = solution_from_demo(
            Path(tmp) / "solution", {"slow-pms": PLAN}, [trigger("slow-pms", "sharedo-created", "matter")]
        )
        app = create_app(Settings(data_dir=Path(tmp) / "state", solution=root, inline_dispatch=False))
        em = app.extensions["operate"]
        backend = DemoPmsBackend(clock=em.clock)
        backend.add_fault("/api/suppliers", "GET", delay=PMS_DELAY_S)
        pms_server, _, pms_url = _serve(create_pms(backend))
        service = em.linked_services.services["demo-pms"]
        em.linked_services.add(dataclasses.replace(service, base_url=pms_url))
        op_server, _, op_url = _serve(app)
        em.start_background()
        try:
            walls: list[float] = []
            afters: list[float] = []
            peak = 0
            for run in range(runs):
                wall, after = _open_matters(em, op_url, run)
                walls.append(wall)
                afters.append(after)
                peak = max(peak, em.smartplans.queue.in_flight_peak)
            goal_s = 2 * PMS_DELAY_S * STEPS
            label = f"{MATTERS} matters, {PMS_DELAY_S * 1000:g} ms a PMS call, {STEPS} steps"
            yield Figure(
                f"{label}: last ended after last opened",
                "s",
                afters,
                Goal(goal_s),
                f"one at a time: {MATTERS * STEPS * PMS_DELAY_S:g} s; at most {peak} host calls in flight at once",
            )
            yield Figure(
                f"{label}: first opened to last ended",
                "s",
                walls,
                Goal(goal_s),
                f"includes creating the {MATTERS} matters over HTTP ({CREATORS} clients)",
            )
            yield Figure(
                f"health beside {HALF_OPEN} half-open connections",
                "ms",
                [_beside_half_open(op_url, op_server.server_port) for _ in range(runs)],
                Goal(1000.0),
                "clients that sent half a request and stopped; before, the server waited them out",
            )
        finally:
            em.close()
            op_server.shutdown()
            pms_server.shutdown()


def _open_matters(em: object, base_url: str, run: int) -> tuple[float, float]:
    """Seconds from the first create to the last execution ended, and from the last create's answer."""
    with http_client() as client:
        token = bearer_token(client, base_url)
    headers = {"Authorization": f"Bearer {token}"}

    def create(i: int) -> None:
        with http_client() as c:
            body = {"workItem": {"sharedoTypeSystemName": WORK_TYPE, "title": f"load {run}-{i}"}}
            expect(c.post(f"{base_url}/api/v1/public/workItem", json=body, headers=headers), 201)

    before = _ended(em)
    started = time.perf_counter()
    with ThreadPoolExecutor(CREATORS) as pool:
        list(pool.map(create, range(MATTERS)))
    opened = time.perf_counter()
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while _ended(em) < before + MATTERS:
        if time.monotonic() > deadline:
            raise BenchmarkError(f"only {_ended(em) - before} of {MATTERS} executions ended in {SETTLE_TIMEOUT_S} s")
        time.sleep(0.02)
    ended = time.perf_counter()
    with em.store.read() as conn:  # type: ignore[attr-defined]
        errored = conn.execute("SELECT last_error FROM plan_executions WHERE state='ERRORED' LIMIT 1").fetchone()
    if errored is not None:
        raise BenchmarkError(f"an execution errored: {errored[0]}")
    return ended - started, ended - opened


def _ended(em: object) -> int:
    with em.store.read() as conn:  # type: ignore[attr-defined]
        return conn.execute(
            "SELECT COUNT(*) FROM plan_executions WHERE plan='slow-pms' AND state IN ('STOPPED', 'ERRORED')"
        ).fetchone()[0]


def _beside_half_open(base_url: str, port: int) -> float:
    socks = []
    try:
        for _ in range(HALF_OPEN):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line that ends it
            socks.append(s)
        time.sleep(0.2)
        with http_client() as client:
            started = time.perf_counter()
            expect(client.get(f"{base_url}{HEALTH_PATH}"), 200)
            return (time.perf_counter() - started) * 1000
    finally:
        for s in socks:
            s.close()
