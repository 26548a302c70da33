"""`python -m benchmarks smartplans`: what running a plan costs, against the raw cost of V8 itself.

- the raw floor: one bare mini-racer call on a warm context (the price of any crossing into V8);
- events through a trivial plan end to end (event committed → trigger matched → step run in V8 →
  execution stored), per event and per second, and its ratio to the floor (goal: at most 2×);
- a step making k = 0, 1, 5, 10, 100 host calls (`sharedo.http.get`) through the whole engine: crossings into
  V8 (goal: k + 1) and ms, and ms per call (flat: linear in k). Isolation costs one more crossing: after its
  last run a step's queued promise callbacks are run inside its CPU limit; its cost is printed, and the
  dispatch ratio without it. That crossing also checks the shared built-ins (its cost in V8 is printed), and
  a step that changed them beyond repair costs a new context (printed too).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from .harness import BenchmarkError, Figure, Goal, mean_ms, needs

CLOCK_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
FLOOR_CALLS = 2000
EVENTS_PER_RUN = 200
STEPS_PER_RUN = 50
K_VALUES = (0, 1, 5, 10, 100)  # host calls in one step: the curve should be linear in k
MATTER = "3c000000-0000-4000-8000-000000000002"  # an open matter in the demo solution
DISPATCH_GOAL_RATIO = 2.0
INTRINSICS_CHECK_GOAL_MS = 0.25  # below one crossing into V8


def _plan(k: int) -> str:
    calls = "".join(f'  sharedo.http.get("/api/v1/public/workItem/{MATTER}/phase");\n' for _ in range(k))
    return f"function main(ev, ctx, log) {{\n{calls}  ctx.done = true;\n}}\nreturn {{ main: main }};\n"


def _solution(root: Path) -> Path:
    """The demo solution plus one trivial plan per k, each triggered by attribute changes on matters."""
    from smartplans.testing import solution_from_demo, trigger

    plans = {f"k{k}": _plan(k) for k in K_VALUES}
    triggers = [trigger(f"k{k}", "attribute-changed", "matter", data_fields={}) for k in K_VALUES]
    return solution_from_demo(root, plans, triggers)


def figures(runs: int) -> Iterator[Figure]:
    needs("pytest", area="smartplans")  # smartplans.testing (its plan and trigger builders) is pytest's plugin
    from py_mini_racer import MiniRacer

    with MiniRacer() as mr:
        mr.eval("function f(x) { return x + 1; }")
        mr.call("f", 1)
        floor = [mean_ms(lambda: mr.call("f", 1), FLOOR_CALLS) for _ in range(runs)]
    yield Figure("raw floor: one mini-racer call on a warm context", "ms", floor, note=f"{FLOOR_CALLS} calls a run")

    from emulator.app import create_app
    from emulator.settings import Settings

    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        root = _solution(Path(tmp) / "solution")
        app = create_app(
            Settings(data_dir=Path(tmp) / "state", solution=root, clock="virtual", clock_start=CLOCK_START)
        )
        em = app.extensions["operate"]
        try:
            plans = em.smartplans
            all_triggers = plans.triggers
            trivial = [t for t in all_triggers if t.plan == "k0"]
            counter = iter(range(10**9))

            def one_event() -> None:
                em.workitems.set_attributes(MATTER, {"bench": str(next(counter))}, None)

            plans.triggers = trivial
            one_event()
            if plans.executions(state="STOPPED")[-1]["ctx"].get("done") is not True:
                raise BenchmarkError("the trivial plan did not run to completion")
            per_event, bare = [], []
            for _ in range(runs):
                plans.triggers = trivial
                per_event.append(mean_ms(one_event, EVENTS_PER_RUN))
                plans.triggers = []
                bare.append(mean_ms(one_event, EVENTS_PER_RUN))
            plans.triggers = all_triggers
            yield Figure(
                "event -> trivial plan -> execution stored",
                "ms",
                per_event,
                note=f"{EVENTS_PER_RUN} events a run; SQLite file, inline dispatch",
            )
            yield Figure("events per second through a trivial plan", "/s", [1000 / x for x in per_event])
            yield Figure("the same change with no plan triggered", "ms", bare, note="the API call and its event alone")
            ratios = [(e - b) / f for e, b, f in zip(per_event, bare, floor, strict=True)]
            yield Figure(
                "ratio: dispatch overhead (with plan - without) / raw floor",
                "x",
                ratios,
                Goal(DISPATCH_GOAL_RATIO),
                "isolation's own crossing included: see the next two lines",
            )
            limit = plans.runtime._max_memory(plans.default_limits)
            drain = [
                mean_ms(lambda: plans.runtime._call_for_text("__operate.drain", timeout_sec=5, max_memory=limit), 500)
                for _ in range(runs)
            ]
            yield Figure(
                "isolation: the crossing after a step's last run",
                "ms",
                drain,
                note="runs what the step queued, in its limit",
            )
            checks = 200
            intrinsics = [
                mean_ms(
                    lambda: plans.runtime._mr.eval(
                        f"(function () {{ for (var i = 0; i < {checks}; i++) __operate.drain(); return 0; }})()"
                    ),
                    5,
                )
                / checks
                for _ in range(runs)
            ]
            yield Figure(
                "isolation: checking the shared built-ins after a step (in V8, nothing changed)",
                "ms",
                intrinsics,
                Goal(INTRINSICS_CHECK_GOAL_MS),
                "identity and count of every property of ~230 built-in objects; part of the crossing above",
            )
            replace = [mean_ms(plans.runtime._replace_context, 5) for _ in range(runs)]
            yield Figure(
                "isolation: replacing the context after a step that froze a built-in",
                "ms",
                replace,
                note="paid only by such a step: a new context, the host and every loaded plan again",
            )
            yield Figure(
                "ratio without that crossing",
                "x",
                [(e - b - d) / f for e, b, d, f in zip(per_event, bare, drain, floor, strict=True)],
                Goal(DISPATCH_GOAL_RATIO),
            )

            for k in K_VALUES:
                steps = max(2, STEPS_PER_RUN // max(k, 1))
                samples, crossings = [], []

                def one_step(k=k) -> None:  # the whole engine: replays, each call recorded as a row, then stored
                    execution = plans.execution(plans.start(f"k{k}", "main", {"Data": {"sharedoId": MATTER}}))
                    if execution["state"] != "STOPPED" or execution["steps"][0]["hostCalls"] != k:
                        raise BenchmarkError(f"k={k} step did not complete: {execution['lastErrored']}")

                one_step()
                for _ in range(runs):
                    before = plans.runtime.crossings
                    samples.append(mean_ms(one_step, steps))
                    crossings.append((plans.runtime.crossings - before) / steps)
                yield Figure(
                    f"step with k={k} host calls: crossings into V8",
                    "",
                    crossings,
                    Goal(k + 1.5),
                    f"goal k+1 = {k + 1}; isolation adds 1: the step's queued promise callbacks run in its limit",
                )
                yield Figure(f"step with k={k} host calls: time (incl. the calls)", "ms", samples)
                if k:
                    yield Figure(
                        f"step with k={k} host calls: time per host call",
                        "ms",
                        [x / k for x in samples],
                        note="flat when the cost is linear in k; rising: each replay re-sends every recorded call",
                    )
        finally:
            em.close()
