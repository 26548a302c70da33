"""`python -m benchmarks [area]`: one line per figure, each the median of several runs in one process.

Areas live in one table, `AREAS`, so a new one (smartplans, pms, testing, ...) is a module with a
`figures(runs)` generator plus one row here; `__main__` needs no change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    """One benchmark area: imported only when run, so `--help` and other areas stay cheap."""

    name: str
    module: str  # dotted module exposing `figures(runs: int) -> Iterator[Figure]`
    summary: str


AREAS: dict[str, Area] = {
    area.name: area
    for area in (
        Area(
            "core",
            "benchmarks.core",
            "cold/warm start of `operate serve`, work-item round trips over HTTP, per-test reset",
        ),
        Area(
            "smartplans",
            "benchmarks.smartplans",
            "raw V8 floor, events through a trivial plan end to end, cost of k host calls in a step",
        ),
        Area(
            "pms",
            "benchmarks.pms",
            "proxied PMS call against a direct one, aged debt for a client with 10,000 invoices",
        ),
        Area(
            "widgets",
            "benchmarks.widgets",
            "widget pages in chromium: request to data bound, with 50 ms PMS latency, cold load",
        ),
        Area(
            "ui",
            "benchmarks.ui",
            "the web pages' server time: executions list with 10,000 runs, events page with 100,000 events",
        ),
        Area(
            "clio",
            "benchmarks.clio",
            "a first sync of 10,000 Clio matters: wall, requests against the minimum, peak memory 1k vs 10k",
        ),
        Area(
            "load",
            "benchmarks.load",
            "100 matters whose plans wait on a slow PMS (500 ms a call), health beside 100 half-open connections",
        ),
        Area(
            "testing",
            "benchmarks.testing",
            "1,000 generated event-to-workflow tests and 1,000 scenario files through pytest",
        ),
    )
}
