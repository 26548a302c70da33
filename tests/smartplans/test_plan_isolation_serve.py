"""The hostile-plan suite under `operate serve`: a real process, its dispatcher worker and one V8 context.
After every hostile execution an ordinary plan still runs to STOPPED with the right result, and the
server's memory stays bounded."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from smartplans.testing import solution_from_demo, trigger
from tests.conftest import OPEN_MATTER
from tests.helpers.isolation_plans import HOSTILE, ORDINARY

READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")
MORE_HOSTILE = {
    "endless loop": "for (;;) {}",
    "memory bomb": "var a = []; for (;;) a.push(new Array(1 << 20).fill(7));",
    "deep recursion": "function f(n) { return f(n + 1) + 1; } f(0);",
    "a remote URL": 'ctx.status = sharedo.http.get("https://example.invalid/steal").status;',
    "buffers kept": "var kept = []; for (var i = 0; i < 8; i++) kept.push(new ArrayBuffer(128 << 20));",
}
ROUNDS = 2
SETTLE_S = 60.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@contextmanager
def serving(root: Path, data_dir: Path) -> Iterator[tuple[subprocess.Popen, httpx.Client]]:
    """`operate serve` on a free loopback port, and a client holding a token for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "serve", "--solution", str(root), "--port", "0",
         "--data-dir", str(data_dir), "--virtual-clock"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = READY.search(line)
            url = match.group(1) if match else None
        assert url, process.stderr.read()
        token = httpx.post(
            f"{url}/connect/token", data={"grant_type": "client_credentials"}, auth=("demo-client", "demo-secret")
        ).json()["access_token"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            yield process, api
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def executions(api: httpx.Client) -> list[dict]:
    runs = api.get("/api/executionengine/plans/executing", params={"rowsPerPage": 500}).json()
    return runs if isinstance(runs, list) else runs.get("rows", runs.get("results", []))


def test_hostile_plans_under_serve_leave_ordinary_ones_working_and_memory_bounded(tmp_path):
    modes = {**HOSTILE, **MORE_HOSTILE}
    plans = {f"hostile-{i}": f"function main(ev, ctx, log) {{ {code} }}\nreturn {{ main: main }};" for i, code in
             enumerate(modes.values())}  # fmt: skip
    plans["ordinary"] = ORDINARY
    root = solution_from_demo(tmp_path / "s", plans, [trigger(name, "attribute-changed") for name in plans])
    config = root / "operate.toml"
    config.write_text(config.read_text().replace("cpu_seconds = 5", "cpu_seconds = 1"))
    with serving(root, tmp_path / "d") as (process, api):
        baseline = rss_mb(process.pid)
        for value in range(ROUNDS):
            response = api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", json={"value": str(value)})
            assert response.status_code < 300, response.text
        runs: list[dict] = []
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            runs = executions(api)
            if len(runs) == len(plans) * ROUNDS and all(r["state"] in ("STOPPED", "ERRORED") for r in runs):
                break
            time.sleep(0.2)
        ordinary = [r for r in runs if r["planSystemName"] == "ordinary"]
        assert len(ordinary) == ROUNDS and all(r["state"] == "STOPPED" for r in ordinary), ordinary
        for run in ordinary:
            detail = api.get(f"/api/executionengine/plans/executing/{run['id']}").json()
            assert detail["ctx"]["reference"] == "MAT-00002"
        hostile = [r for r in runs if r["planSystemName"] != "ordinary"]
        assert len(hostile) == (len(plans) - 1) * ROUNDS
        assert all(r["state"] in ("STOPPED", "ERRORED") for r in hostile), [r["state"] for r in hostile]
        grown = rss_mb(process.pid) - baseline
        print(f"server memory grew by {grown:.0f} MB over {len(runs)} executions")
        assert grown < 700, f"the server grew by {grown:.0f} MB"


SELF_SCHEDULING = """
function main(ev, ctx, log) {
  ctx.n = (ctx.n || 0) + 1;
  if (ctx.n < 1500) trigger.SubProcess("main").Now();
}
return { main: main };
"""


def busy_solution(tmp_path: Path) -> Path:
    """`busy` (1,500 steps, each scheduling the next) on attribute changes, `ordinary` on comments."""
    plans = {"busy": SELF_SCHEDULING, "ordinary": ORDINARY}
    triggers = [trigger("busy", "attribute-changed"), trigger("ordinary", "comment-added")]
    root = solution_from_demo(tmp_path / "s", plans, triggers)
    config = root / "operate.toml"
    config.write_text(config.read_text().replace("[limits]", "[limits]\nsteps_per_execution = 2000"))
    return root


def test_an_execution_that_schedules_itself_step_after_step_holds_up_no_other(tmp_path):
    with serving(busy_solution(tmp_path), tmp_path / "d") as (_process, api):
        assert api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", json={"value": "1"}).is_success
        assert api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/comments", json={"comment": "hello"}).is_success
        deadline = time.monotonic() + SETTLE_S
        ordinary: list[dict] = []
        while not ordinary and time.monotonic() < deadline:
            runs = executions(api)
            ordinary = [r for r in runs if r["planSystemName"] == "ordinary" and r["state"] == "STOPPED"]
            time.sleep(0.05)
        assert ordinary, runs
        busy = [r for r in runs if r["planSystemName"] == "busy"]
        # the ordinary plan took its turns beside the busy one's 1,500 steps, not after them
        assert [r["state"] for r in busy] == ["RUNNING"], busy
        while busy[0]["state"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
            busy = [r for r in executions(api) if r["planSystemName"] == "busy"]
        assert busy[0]["state"] == "STOPPED"
        detail = api.get(f"/api/executionengine/plans/executing/{busy[0]['id']}").json()
        assert detail["ctx"]["n"] == 1500 and len(detail["steps"]) == 1500


def test_a_reset_while_an_execution_takes_its_turns_leaves_nothing_of_it_running(tmp_path):
    with serving(busy_solution(tmp_path), tmp_path / "d") as (_process, api):
        assert api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", json={"value": "1"}).is_success
        deadline = time.monotonic() + SETTLE_S
        while not executions(api) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.post("/api/_emulator/reset").is_success  # mid-way through busy's 1,500 steps
        assert executions(api) == []
        time.sleep(0.5)
        assert executions(api) == []  # none of busy's turns went on writing into the reset state
        assert api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/comments", json={"comment": "hello"}).is_success
        runs: list[dict] = []
        while not (runs and runs[0]["state"] == "STOPPED") and time.monotonic() < deadline:
            time.sleep(0.05)
            runs = executions(api)
        assert [(r["planSystemName"], r["state"]) for r in runs] == [("ordinary", "STOPPED")]
