"""`python -m benchmarks clio`: a first sync of 10,000 Clio matters through the in-process fake Clio.

- wall seconds for the whole first sync (every matter in the ten-year window imported or skipped), on a
  virtual clock (the fake's 50-a-minute rate limit is waited out on it, not in real time);
- peak memory (Python allocations, tracemalloc) of the sync at 1,000 and at 10,000 matters: a sync holds
  one page at a time, so the two should be about the same;
- HTTP requests made against the fewest that could do it: one list page per 200 matters plus one
  contacts look-up per 200 distinct clients (goal ≤ 1.1×).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .harness import BenchmarkError, Figure, Goal

CLOCK_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
MATTERS = 10_000
SMALL = 1_000
PAGE = 200
REQUEST_GOAL = 1.1
MEMORY_GOAL = 1.5  # the 10,000-matter peak against the 1,000-matter one
MAX_WALL_RUNS = 3  # a run is tens of seconds: three give a median without an hour's wait


def _solution(tmp: Path, matters: int) -> Path:
    from emulator.solution.loading import demo_solution_path

    root = tmp / f"solution-{matters}"
    if root.exists():
        return root
    shutil.copytree(demo_solution_path(), root)
    toml = root / "operate.toml"
    text = toml.read_text("utf-8").replace('include = ["pkg:smartplans/examples"]', "include = []")
    toml.write_text(text.replace("[integrations.clio]\n", f"[integrations.clio]\nfake_matters = {matters}\n", 1))
    return root


def _connected(tmp: Path, matters: int, run: int) -> Any:
    """An emulator on a fresh data dir whose firm has connected the fake Clio (the grant stored as connect does)."""
    from emulator.core import Emulator
    from emulator.settings import Settings
    from pms_adapters.clio.client import Tokens

    em = Emulator(
        Settings(
            data_dir=tmp / f"state-{matters}-{run}",
            solution=_solution(tmp, matters),
            clock="virtual",
            clock_start=CLOCK_START,
        )
    )
    grant = em.clio.fake.issue_token(min(em.clio.fake.users))
    with em.store.transaction() as tx:
        em.clio.connection._save_tokens(tx, Tokens(grant["access_token"], grant["refresh_token"]), None)
        tx.execute("INSERT INTO integrations(provider, state, nightly) VALUES ('clio', 'connected', 0)")
    return em


def _minimum(em: Any) -> int:
    """List pages for the window plus batched contacts for the distinct clients of the matters that need them."""
    fake = em.clio.fake
    window = em.clock.now() - timedelta(days=em.clio.settings.first_window_days)
    listed = [m for m in fake.matters.values() if datetime.fromisoformat(m["updated_at"]) > window]
    clients = {m["client"]["id"] for m in listed if m.get("client")}
    return math.ceil(len(listed) / PAGE) + math.ceil(len(clients) / PAGE)


def _sync(em: Any) -> dict[str, Any]:
    run = em.clio.sync.sync_all(None, "all")
    if run["state"] != "done":
        raise BenchmarkError(f"the first sync did not finish: {run['state']} {run['error']}")
    return run


def figures(runs: int) -> Iterator[Figure]:
    with tempfile.TemporaryDirectory(prefix="operate-bench-clio-") as name:
        tmp = Path(name)
        walls, ratios, counts = [], [], {}
        for run in range(min(runs, MAX_WALL_RUNS)):
            em = _connected(tmp, MATTERS, run)
            try:
                started = time.perf_counter()
                result = _sync(em)
                walls.append(time.perf_counter() - started)
                ratios.append(em.clio.sync.last_requests / _minimum(em))
                counts = result["counts"]
            finally:
                em.close()
        done = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        yield Figure(f"first sync of {MATTERS:,} matters, wall", "s", walls, note=done)
        yield Figure(
            "HTTP requests / the minimum (pages of 200 + batched contacts)",
            "x",
            ratios,
            Goal(REQUEST_GOAL + 1e-9),
            f"{em.clio.sync.last_requests} requests",
        )
        peaks: dict[int, float] = {}
        for matters in (SMALL, MATTERS):
            em = _connected(tmp, matters, 99)
            try:
                tracemalloc.start()
                _sync(em)
                peaks[matters] = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
                em.close()
        yield Figure(f"peak memory of the sync at {SMALL:,} matters", "MB", [peaks[SMALL]], note="tracemalloc")
        yield Figure(f"peak memory of the sync at {MATTERS:,} matters", "MB", [peaks[MATTERS]], note="tracemalloc")
        yield Figure(
            f"peak memory ratio: {MATTERS:,} / {SMALL:,} matters",
            "x",
            [peaks[MATTERS] / peaks[SMALL]],
            Goal(MEMORY_GOAL),
            "flat: one page held at a time",
        )
