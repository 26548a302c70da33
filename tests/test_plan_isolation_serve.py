"""The hostile-plan suite under `operate serve`: a real process, its dispatcher worker and one V8 context.
After every hostile execution an ordinary plan still runs to STOPPED with the right result, and the
server's memory stays bounded."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from smartplans.testing import solution_from_demo, trigger

from .conftest import OPEN_MATTER
from .test_plan_isolation import HOSTILE, ORDINARY

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


def test_hostile_plans_under_serve_leave_ordinary_ones_working_and_memory_bounded(tmp_path):
    modes = {**HOSTILE, **MORE_HOSTILE}
    plans = {f"hostile-{i}": f"function main(ev, ctx, log) {{ {code} }}\nreturn {{ main: main }};" for i, code in
             enumerate(modes.values())}  # fmt: skip
    plans["ordinary"] = ORDINARY
    root = solution_from_demo(tmp_path / "s", plans, [trigger(name, "attribute-changed") for name in plans])
    config = root / "operate.toml"
    config.write_text(config.read_text().replace("cpu_seconds = 5", "cpu_seconds = 1"))
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "serve", "--solution", str(root), "--port", "0",
         "--data-dir", str(tmp_path / "d"), "--virtual-clock"],
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
            baseline = rss_mb(process.pid)
            for value in range(ROUNDS):
                response = api.post(
                    f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", json={"value": str(value)}
                )
                assert response.status_code < 300, response.text
            runs: list[dict] = []
            deadline = time.monotonic() + SETTLE_S
            while time.monotonic() < deadline:
                runs = api.get("/api/executionengine/plans/executing", params={"rowsPerPage": 500}).json()
                runs = runs if isinstance(runs, list) else runs.get("rows", runs.get("results", []))
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
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
