"""A sync killed half-way (kill -9) resumes on the next run with nothing duplicated or lost.

The fake Clio is a real server on loopback in the test's own process, so it outlives the emulator process
that is killed mid-sync; the firm's grant stays in the data dir.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from emulator.app import create_app
from emulator.settings import Settings
from tests.helpers.served_clio import MATTERS, connect_served_clio, solution_on

POLL_LIMIT = 600  # × 0.05 s: a bounded wait for the child's first results


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from emulator.core import Emulator
    from emulator.settings import Settings
    em = Emulator(Settings(data_dir=Path(sys.argv[1]), solution=Path(sys.argv[2])))
    print("started", flush=True)
    em.clio.sync.sync_all(None, "all")
    print("finished", flush=True)
    """
)


def results_so_far(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM clio_sync_results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_sync_killed_half_way_resumes_with_nothing_duplicated_or_lost(tmp_path, fake_clio):
    solution, data = solution_on(tmp_path, fake_clio), tmp_path / "data"
    app = create_app(Settings(data_dir=data, solution=solution))
    connect_served_clio(app, fake_clio)
    app.extensions["operate"].close()
    httpx.post(f"{fake_clio}/_fake/switches", json={"latency_seconds": 0.2})  # slow enough to be caught mid-way

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(solution)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "started"
        for _ in range(POLL_LIMIT):
            if results_so_far(data / "operate.db") >= 40:
                break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    done_before = results_so_far(data / "operate.db")
    assert 40 <= done_before < MATTERS  # killed in the middle

    httpx.post(f"{fake_clio}/_fake/switches", json={"latency_seconds": 0})
    app = create_app(Settings(data_dir=data, solution=solution))
    em = app.extensions["operate"]
    try:
        run = em.clio.sync.sync_all(em.identity.principal("demo-client", "priya.shah"), "all")
        assert run["state"] == "done" and run["first"] is True  # the interrupted first sync is still the first
        runs = em.clio.sync.runs()["rows"]
        assert [r["state"] for r in runs] == ["done", "interrupted"]
        with em.store.read() as conn:
            per_matter = conn.execute(
                "SELECT value, COUNT(*) FROM attributes WHERE name='clioIntegrationId' GROUP BY value"
            ).fetchall()
            links = conn.execute("SELECT COUNT(*) FROM clio_matters").fetchone()[0]
        assert all(count == 1 for _, count in per_matter)  # nothing duplicated
        imported_now = run["counts"]["imported"] + run["counts"]["unchanged"]
        assert len(per_matter) == links == imported_now  # nothing lost: every importable matter is there once
        listed = httpx.get(
            f"{fake_clio}/api/v4/matters.json",
            params={"limit": 1, "updated_since": (datetime.now(timezone.utc) - timedelta(days=3650)).isoformat()},
            headers=em.clio.connection.headers(),
        ).json()["meta"]["records"]
        assert sum(run["counts"].values()) == listed  # every matter in the window attempted
        assert run["counts"]["unchanged"] > 0  # the ones the killed run finished were found, not redone
    finally:
        em.close()
