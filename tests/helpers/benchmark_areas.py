"""Benchmark areas that fail the way a real one did, for tests/kernel/test_benchmarks.py: each is a module with
`figures(runs)`, as a row of benchmarks.AREAS names it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.harness import Figure

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def _opened_enquiry(with_app: bool) -> None:
    """Open a new matter with no client, so the demo's matter-inception plan runs (inline, as in a test)
    and, when it gets as far, errors."""
    from emulator.app import create_app
    from emulator.core import Emulator
    from emulator.settings import Settings

    with tempfile.TemporaryDirectory(prefix="operate-bench-test-") as tmp:
        em = Emulator(Settings(data_dir=Path(tmp), demo=True, clock="virtual", clock_start=START))
        try:
            if with_app:
                create_app(emulator=em)
            principal = em.identity.principal("demo-client")
            body = {"workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "No client"}}
            item_id = em.workitems.create(body, principal).id
            em.workitems.change_phase(item_id, {"toPhaseSystemName": "matter-open"}, principal)
            if with_app:
                from benchmarks.core import _no_errored_execution

                _no_errored_execution(em)
        finally:
            em.close()


def no_app(runs: int) -> Iterator[Figure]:
    """What `benchmarks core` did: an Emulator with no app, so each plan's host call fails in the runtime,
    which logs it (a traceback) and carries on."""
    _opened_enquiry(with_app=False)
    yield Figure("opened a matter", "ms", [1.0])


def errored_execution(runs: int) -> Iterator[Figure]:
    """The plan runs and ends ERRORED (the matter has no client): measured, it would be a failure's time."""
    _opened_enquiry(with_app=True)
    yield Figure("opened a matter", "ms", [1.0])


def raises(runs: int) -> Iterator[Figure]:
    yield Figure("first figure", "ms", [1.0])
    raise KeyError("no such row")
