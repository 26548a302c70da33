"""A run that stops plans at their limits ends quiet: no `RuntimeError: Event loop is closed` from V8.

A step stopped at its CPU-time limit (an endless loop, a promise callback that never ends) leaves V8 a
cancelled task whose completion comes back as the context is replaced or closed; it must find the
context's event loop still running (smartplans/v8context.py), not print an unraisable traceback at
the end of a test run or of `operate serve`."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers.paths import ROOT

STOPPED_AT_LIMITS = """
import gc
from smartplans.runtime import Limits, Runtime

payload = {"ev": {}, "ctx": {}, "recorded": [], "now": 0, "seed": 1}
runtime = Runtime()
try:
    runtime.load("loop", "function main(ev, ctx) { while (true) {} }\\nreturn {main: main};", "loop.js")
    runtime.load(
        "callback",
        "function main(ev, ctx) { Promise.resolve().then(function () { for (;;) {} }); ctx.queued = true; }"
        "\\nreturn {main: main};",
        "callback.js",
    )
    runtime.load("fine", "function main(ev, ctx) { ctx.fine = true; }\\nreturn {main: main};", "fine.js")
    for key in ("loop", "callback", "loop", "fine"):
        print(key, runtime.run_step(key, "main", payload, Limits(cpu_seconds=0.2)).status, flush=True)
finally:
    runtime.close()
gc.collect()
print("closed", flush=True)
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_runtime_whose_steps_were_stopped_at_their_limits_closes_without_a_traceback():
    result = _python("-c", STOPPED_AT_LIMITS)
    assert result.returncode == 0, result.stderr
    ran = ["loop", "error", "callback", "error", "loop", "error", "fine", "completed", "closed"]
    assert result.stdout.split() == ran, result.stdout + result.stderr
    assert "Event loop is closed" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr


def test_the_plan_tests_that_stop_v8_at_its_limits_end_without_unraisable_exceptions():
    """What ended every full run with tracebacks: these tests, with such a warning made an error."""
    result = _python(
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-W",
        "error::pytest.PytestUnraisableExceptionWarning",
        "tests/smartplans/test_smartplans.py",
        "tests/smartplans/test_plan_isolation.py",
        "-k",
        "endless_loop or between_replays",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert " passed" in output and "deselected" in output, output[-2000:]
    assert "Event loop is closed" not in output and "PytestUnraisableExceptionWarning" not in output, output[-6000:]
