"""`python -m benchmarks ui`: the emulator's web pages with a large store, server time only.

The executions list with 10,000 executions and the events page with 100,000 events in the store (rows
inserted directly, as a long-running emulator would have them), each rendered through the app as a
browser's GET would be; the same pages with a tenth of the rows show whether the time stays flat as the
store grows (the pages read one page with LIMIT/OFFSET and never count the whole table).
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .harness import BenchmarkError, Figure, Goal

CLOCK_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
GOAL_MS = 50.0
SIZES = {"executions": (1_000, 10_000), "events": (10_000, 100_000)}
PAGES = {"executions": "/executions", "events": "/events"}
REQUESTS_PER_RUN = 5  # each run's sample is the median of these (one warm-up request first)


def _fill(em, executions: int, events: int) -> None:
    """Rows for every plan execution and event beyond what the store already holds, in one transaction."""
    from emulator.kernel.clock import iso

    with em.store.read() as conn:
        items = [r[0] for r in conn.execute("SELECT id FROM work_items ORDER BY rowid LIMIT 20")]
        have_ex = conn.execute("SELECT COUNT(*) FROM plan_executions").fetchone()[0]
        have_ev = conn.execute("SELECT COALESCE(MAX(number), 0) FROM events").fetchone()[0]
    with em.store.transaction() as tx:
        ex_rows = []
        for i in range(have_ex, executions):
            started = CLOCK_START + timedelta(seconds=i)
            state = ("STOPPED", "ERRORED", "WAITING")[i % 3]
            ex_rows.append(
                (
                    str(uuid.uuid4()),
                    "matter-inception",
                    "matter-inception",
                    "script",
                    state,
                    iso(started),
                    iso(started + timedelta(milliseconds=40)) if state == "STOPPED" else None,
                    items[i % len(items)],
                    None,
                    None,
                    "{}",
                    json.dumps({"workItemId": items[i % len(items)]}),
                    "Incepting failed: 503 ServiceUnavailable" if state == "ERRORED" else None,
                )
            )
        tx.executemany("INSERT INTO plan_executions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", ex_rows)
        ev_rows = []
        for n in range(have_ev + 1, events + 1):
            item = items[n % len(items)]
            data = {"sharedoId": item, "sharedoTypeSystemName": "matter-commercial", "fromPhase": "a", "toPhase": "b"}
            ev_rows.append(
                (n, "sharedo-phase-changed", iso(CLOCK_START + timedelta(seconds=n)), item, json.dumps(data))
            )
        tx.executemany("INSERT INTO events VALUES (?,?,?,?,?)", ev_rows)


def _render_ms(client, path: str) -> float:
    samples = []
    for _ in range(REQUESTS_PER_RUN):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise BenchmarkError(f"GET {path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return sorted(samples)[len(samples) // 2]


def figures(runs: int) -> Iterator[Figure]:
    from emulator.app import create_app
    from emulator.settings import Settings

    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp) / "state", demo=True, clock="virtual", clock_start=CLOCK_START))
        em = app.extensions["operate"]
        try:
            client = app.test_client()
            measured: dict[tuple[str, int], list[float]] = {}
            for step in (0, 1):  # a tenth of the rows first, then all of them
                _fill(em, SIZES["executions"][step], SIZES["events"][step])
                for name, path in PAGES.items():
                    client.get(path)  # warm: templates compiled, pages cached by SQLite
                    size = SIZES[name][step]
                    measured[(name, size)] = [_render_ms(client, path) for _ in range(runs)]
            for name in PAGES:
                small, large = SIZES[name]
                label = f"{name} page, {{:,}} {name} in the store"
                yield Figure(label.format(small), "ms", measured[(name, small)], Goal(GOAL_MS))
                growth = sorted(measured[(name, large)])[runs // 2] / max(
                    sorted(measured[(name, small)])[runs // 2], 1e-9
                )
                yield Figure(
                    label.format(large),
                    "ms",
                    measured[(name, large)],
                    Goal(GOAL_MS),
                    note=f"x{growth:.2f} the time with 10x the rows; flat is about x1",
                )
        finally:
            em.close()
