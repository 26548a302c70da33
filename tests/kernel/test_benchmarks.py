"""`python -m benchmarks`: an area that errors fails the command with one line naming it, and the core area
runs clean (no traceback, exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import benchmarks
from benchmarks import Area
from benchmarks.__main__ import main
from tests.helpers.paths import ROOT


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("no_app", "benchmarks: broken: failed: 1 error(s) logged, first: plan execution "),
        (
            "errored_execution",
            "benchmarks: broken: could not measure: 1 plan execution(s) ERRORED, first: "
            "matter-inception on MAT-00013: MAT-00013 has no client participant",
        ),  # fmt: skip
        ("raises", "benchmarks: broken: failed: KeyError: 'no such row'"),
    ],
)
def test_an_area_that_errors_fails_the_command_in_one_line(function, expected, monkeypatch, capsys):
    monkeypatch.setitem(
        benchmarks.AREAS, "broken", Area("broken", f"tests.helpers.benchmark_areas.{function}", "fails")
    )
    import tests.helpers.benchmark_areas as areas

    # An area is a module with figures(); these are functions, so stand each in as a module of its own.
    module = type(sys)(f"tests.helpers.benchmark_areas.{function}")
    module.figures = getattr(areas, function)
    monkeypatch.setitem(sys.modules, module.__name__, module)

    status = main(["broken", "--runs", "1"])
    out, err = capsys.readouterr()
    assert status == 1
    assert err.splitlines()[0].startswith(expected), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in out + err
    assert "# broken:" not in out  # no "done in N s" line for an area that failed


def test_the_core_benchmark_runs_clean():
    """`python -m benchmarks core --quick` (one run, the smaller sizes) exits 0 and prints no traceback:
    its plans make their host calls and every execution it starts ends STOPPED."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "core", "--quick"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output
    assert "ERRORED" not in output
    assert "# core:" in done.stdout
    assert "core   per-test reset in process" in done.stdout
