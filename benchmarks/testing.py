"""`python -m benchmarks testing`: 1,000 event-to-workflow tests, as a CI suite would hold them.

Each generated test starts from fresh state, creates a matter, moves its phase, lets a plan make two
host calls, and asserts on the execution. The same again as 1,000 scenario files. Each suite runs
through pytest in a child process, so the figure is what `pytest` / `operate test` costs end to end
(collection, the plugin, every reset). Goal: 1,000 tests in under 30 s on a 2-core machine, and under
10 s with `-n 2`; with plan coverage on (`--operate-cov`), at most 1.5× the time without it.
Children cache their bytecode in the run's own folder, as any machine does after its first
run; that first run (every module compiled) is printed on its own line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .harness import BenchmarkError, Figure, Goal, needs

TESTS = 1000
GOAL_S = 30.0
PARALLEL_GOAL_S = 10.0
COVERAGE_OVERHEAD_GOAL = 1.5  # issue: coverage on costs at most half again the run without it
PLAN = """function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/seen/", {value: "yes"});
  ctx.reference = item.body.workItem.reference;
}
return { main: main };
"""
TEST_BODY = """
def test_{n}(operate):
    item = operate.create_work_item("matter-commercial", "Bench {n}")
    operate.move(item["id"], "matter-open")
    ex = operate.assert_execution("bench", state="STOPPED", sharedo_id=item["id"])
    assert ex["ctx"]["reference"] == item["reference"]
    assert operate.attribute(item["id"], "seen") == "yes"
"""
SCENARIO = """name: bench {n}
given:
  work_items:
    - {{id: matter, type: matter-commercial, title: Bench {n}}}
when:
  - move: {{work_item: matter, to: matter-open}}
then:
  executions:
    - {{plan: bench, on: matter, state: STOPPED}}
  attributes:
    matter: {{seen: "yes"}}
"""


def _solution(root: Path) -> Path:
    from smartplans.testing import solution_from_demo, trigger

    return solution_from_demo(root, {"bench": PLAN}, [trigger("bench", phases=["matter-open"])])


def _child_env(solution: Path) -> dict[str, str]:
    """Bytecode cached in a folder of the run's own, as on any machine after its first run (this one
    may set PYTHONDONTWRITEBYTECODE, which would make every child compile every module again)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(solution.parent / "pycache")
    return env


def _run_pytest(solution: Path, target: Path, workers: int = 0, extra: tuple[str, ...] = ()) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(target),
            "-q",
            "-p",
            "no:cacheprovider",
            "--operate-solution",
            str(solution),
            "--rootdir",
            str(solution),
            *(["-n", str(workers)] if workers else []),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=solution,
        env=_child_env(solution),
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or f"{TESTS} passed" not in result.stdout:
        raise BenchmarkError(f"the generated suite did not pass:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed


RESET_GOAL_MS = 10.0


def _reset_ms(solution: Path, data_dir: Path, count: int = 50) -> float:
    """What the `operate` fixture spends between two tests: emulator, mocks and the demo PMS's books."""
    from smartplans.testing import Operate

    harness = Operate(data_dir, solution)
    try:
        total = 0.0
        for n in range(count):
            item = harness.create_work_item("matter-commercial", f"reset {n}")
            harness.move(item["id"], "matter-open")
            start = time.perf_counter()
            harness.reset()
            total += time.perf_counter() - start
        return total * 1000 / count
    finally:
        harness.close()


def figures(runs: int) -> Iterator[Figure]:
    needs("pytest", "xdist", area="testing")  # the suite runs through pytest, then with -n 2
    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        solution = _solution(Path(tmp) / "solution")
        resets = [_reset_ms(solution, Path(tmp) / f"reset{i}") for i in range(runs)]
        yield Figure(
            "reset between two tests (the operate fixture)",
            "ms",
            resets,
            Goal(RESET_GOAL_MS),
            "emulator + mocks + demo PMS books, after a test that ran a plan",
        )
        tests = solution / "tests"
        (tests / "test_generated.py").write_text("".join(TEST_BODY.format(n=n) for n in range(TESTS)))
        cold = _run_pytest(solution, tests / "test_generated.py", workers=2)  # compiles and caches the bytecode
        times = [_run_pytest(solution, tests / "test_generated.py") for _ in range(runs)]
        yield Figure(
            f"{TESTS} pytest tests (fresh state, matter, phase, 2 host calls)",
            "s",
            times,
            Goal(GOAL_S),
            "one pytest process, 1 worker",
        )
        yield Figure("pytest tests per second", "/s", [TESTS / t for t in times])
        covered = [_run_pytest(solution, tests / "test_generated.py", extra=("--operate-cov",)) for _ in range(runs)]
        yield Figure(
            f"{TESTS} pytest tests with --operate-cov (plan coverage)", "s", covered, note="one process, 1 worker"
        )
        yield Figure(
            "plan coverage overhead (with --operate-cov / without)",
            "×",
            [c / t for c, t in zip(covered, times, strict=True)],
            Goal(COVERAGE_OVERHEAD_GOAL),
            "each run paired with the run without at the same place in the sequence",
        )
        times = [_run_pytest(solution, tests / "test_generated.py", workers=2) for _ in range(runs)]
        yield Figure(
            f"{TESTS} pytest tests with -n 2", "s", times, Goal(PARALLEL_GOAL_S), "two xdist workers on these 2 cores"
        )
        yield Figure(f"{TESTS} pytest tests with -n 2, first run", "s", [cold], note="every module compiled first")
        (tests / "test_generated.py").unlink()
        scenarios = tests / "scenarios"
        scenarios.mkdir()
        for n in range(TESTS):
            (scenarios / f"bench{n:04d}.scenario.yaml").write_text(SCENARIO.format(n=n))
        times = [_run_pytest(solution, scenarios) for _ in range(runs)]
        yield Figure(f"{TESTS} scenario files", "s", times, Goal(GOAL_S), "one pytest process, 1 worker")
        yield Figure("scenarios per second", "/s", [TESTS / t for t in times])
