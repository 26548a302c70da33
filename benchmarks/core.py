"""`python -m benchmarks core`: the emulator's own costs, the floor under everything built on it.

- cold start of `operate serve --demo` to the first 200 from health (goal < 1 s), and a warm
  restart on the data dir the cold start left behind;
- work-item create + phase change pairs per second over loopback HTTP on one keep-alive
  connection, beside the raw cost of a health round trip on that same connection (the floor:
  Flask + werkzeug + loopback) and the ratio of the two, measured in the same run;
- per-test reset (goal < 10 ms), in-process as the pytest fixtures do it and over HTTP as an
  external test runner does, each after some work items were created and moved;
- one findByQuery for a 20-row page at 1,000, 10,000 and 100,000 work items (goal: under twice the 1k
  figure): a default search and a filtered, sorted one. The work items are written straight into the
  store (copies of a demo matter, one transaction per size), the time that takes is printed too.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx

from .harness import (
    CLIENT_ID,
    HEALTH_PATH,
    START_TIMEOUT_S,
    BenchmarkError,
    Figure,
    Goal,
    ServeProcess,
    bearer_token,
    expect,
    http_client,
    mean_ms,
    quick,
    served_emulator,
    wait_healthy,
)

COLD_START_GOAL_MS = 1000.0
RESET_GOAL_MS = 10.0

WORK_TYPE = "matter-private-client"
TO_PHASE = "matter-open"  # one legal step from the type's start phase, matter-enquiry
# The demo's matter-inception plan runs when a matter opens and needs a client and a fee earner (the
# README's example pair): without them every pair would leave an ERRORED execution behind.
NEW_MATTER = {
    "workItem": {"sharedoTypeSystemName": WORK_TYPE, "title": "bench"},
    "participants": [
        {"roleSystemName": "client", "odsId": "2b000000-0000-4000-8000-000000000001"},
        {"roleSystemName": "fee-earner", "odsId": "1a000000-0000-4000-8000-000000000001"},
    ],
}
WORK_ITEM_PATH = "/api/v1/public/workItem"
RESET_PATH = "/api/_emulator/reset"
EXECUTING_PATH = "/api/executionengine/plans/executing"

PAIRS_PER_RUN = 200
HEALTH_PER_RUN = 200
WARMUP_REQUESTS = 20  # untimed, so the first run does not pay for imports and first-call caches
RESETS_PER_RUN_HTTP = 10
RESETS_PER_RUN_IN_PROCESS = 20
ITEMS_BETWEEN_RESETS = 10  # a test's worth of state: created and moved one phase
CLOCK_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # as the test fixtures: virtual clock


def figures(runs: int) -> Iterator[Figure]:
    """The area's figures in report order; each is yielded as soon as it is measured."""
    fresh, warm = _start_times(runs)
    yield Figure(
        "cold start: serve --demo, fresh data dir -> first 200",
        "ms",
        fresh,
        Goal(COLD_START_GOAL_MS),
        "after one untimed start warms the OS cache",
    )
    yield Figure("warm restart: serve --demo, existing data dir -> first 200", "ms", warm, Goal(COLD_START_GOAL_MS))
    http = _http_figures(runs)
    yield from http[:-1]
    yield _in_process_reset(runs)
    yield http[-1]
    yield from _find_by_query_at_scale(runs)


# -- 1. start-up -----------------------------------------------------------------------------------
def _start_times(runs: int) -> tuple[list[float], list[float]]:
    """Each run: a start in a new data dir, then a restart on the dir that start left behind."""
    fresh: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        root = Path(tmp)
        _time_start(root / "primer", root / "primer.log")  # bytecode and page cache, as on a dev box
        for i in range(runs):
            data_dir = root / f"run{i}"
            fresh.append(_time_start(data_dir, root / f"run{i}-fresh.log"))
            warm.append(_time_start(data_dir, root / f"run{i}-warm.log"))
    return fresh, warm


def _time_start(data_dir: Path, log_path: Path) -> float:
    """Spawn to first healthy answer, in ms. The client exists before the clock starts: its SSL
    context costs milliseconds that are the benchmark's, not the emulator's."""
    with http_client() as client:
        start = time.perf_counter()
        with ServeProcess(data_dir, log_path) as server:
            deadline = start + START_TIMEOUT_S
            url = server.wait_url(deadline)
            wait_healthy(client, url, deadline)
            elapsed = (time.perf_counter() - start) * 1000
        server.check_no_errored()
        return elapsed


# -- 2. and 3. over HTTP ---------------------------------------------------------------------------
def _http_figures(runs: int) -> list[Figure]:
    """Pairs per second, the health floor, their ratio, then HTTP reset (last), from one client."""
    pair_ms: list[float] = []
    health_ms: list[float] = []
    reset_ms: list[float] = []
    with served_emulator() as url, http_client(url) as client:
        client.headers["Authorization"] = f"Bearer {bearer_token(client, url)}"
        for _ in range(WARMUP_REQUESTS):
            _health(client)
            _pair(client)
        _check_reset_over_http(client)
        keeps_alive = _keeps_alive(client)
        for _ in range(runs):
            expect(client.post(RESET_PATH), 200)  # every run starts from the seed
            health_ms.append(mean_ms(lambda: _health(client), HEALTH_PER_RUN))
            pair_ms.append(mean_ms(lambda: _pair(client), PAIRS_PER_RUN))
            reset_ms.append(_http_reset_ms(client, opened=PAIRS_PER_RUN))
    connection = "one keep-alive connection" if keeps_alive else "server sends Connection: close, one TCP connect each"
    return [
        Figure(
            "create + phase-change pairs over HTTP",
            "/s",
            [1000 / ms for ms in pair_ms],
            note=f"{PAIRS_PER_RUN} pairs a run; {connection}",
        ),
        Figure(f"floor: GET {HEALTH_PATH} round trip, same client", "ms", health_ms, note=f"{HEALTH_PER_RUN} a run"),
        Figure(
            "ratio: one create+phase pair / one health round trip",
            "x",
            [pair / floor for pair, floor in zip(pair_ms, health_ms, strict=True)],
            note="per run, then median",
        ),
        Figure(
            "per-test reset over HTTP: POST /api/_emulator/reset",
            "ms",
            reset_ms,
            Goal(RESET_GOAL_MS),
            f"after {ITEMS_BETWEEN_RESETS} items created+moved and their plans stopped",
        ),
    ]


def _health(client: httpx.Client) -> None:
    expect(client.get(HEALTH_PATH), 200)


def _pair(client: httpx.Client) -> str:
    """One work item created, then moved out of its start phase: the smallest real workflow step."""
    created = expect(client.post(WORK_ITEM_PATH, json=NEW_MATTER), 201)
    item_id = created.json()["workItem"]["id"]
    expect(client.put(f"{WORK_ITEM_PATH}/{item_id}/phase", json={"toPhaseSystemName": TO_PHASE}), 200)
    return item_id


def _http_reset_ms(client: httpx.Client, opened: int) -> float:
    """Mean of several resets, each timed alone after a test's worth of writes and the plans they set off
    (a served emulator runs them on its worker: the reset would otherwise time them too). `opened`: the
    matters opened since the last reset, whose plans may still be running."""
    total = 0.0
    for _ in range(RESETS_PER_RUN_HTTP):
        for _ in range(ITEMS_BETWEEN_RESETS):
            _pair(client)
        _wait_for_plans(client, opened + ITEMS_BETWEEN_RESETS)
        opened = 0
        start = time.perf_counter()
        expect(client.post(RESET_PATH), 200)
        total += time.perf_counter() - start
    return total * 1000 / RESETS_PER_RUN_HTTP


def _wait_for_plans(client: httpx.Client, count: int) -> None:
    """Until `count` executions have STOPPED since the last reset; one that ERRORED stops the benchmark."""
    deadline = time.perf_counter() + START_TIMEOUT_S
    while True:
        errored = expect(client.get(EXECUTING_PATH, params={"state": "ERRORED"}), 200).json()
        if errored:
            first = errored[0]
            raise BenchmarkError(
                f"{len(errored)} plan execution(s) ERRORED, first: {first['planSystemName']} on "
                f"{first['sharedoReference']}: {first['lastErrored']}"
            )
        if len(expect(client.get(EXECUTING_PATH, params={"state": "STOPPED"}), 200).json()) >= count:
            return
        if time.perf_counter() > deadline:
            raise BenchmarkError(f"the plans of {count} opened matters did not all stop within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.005)


def _check_reset_over_http(client: httpx.Client) -> None:
    """A reset that forgot the new rows would be fast and wrong: make sure it really resets."""
    item_id = _pair(client)
    expect(client.post(RESET_PATH), 200)
    if client.get(f"{WORK_ITEM_PATH}/{item_id}").status_code != 404:
        raise BenchmarkError(f"work item {item_id} survived POST {RESET_PATH}")


def _keeps_alive(client: httpx.Client) -> bool:
    """Whether the server lets the connection live on (werkzeug's dev server answers `Connection: close`)."""
    response = expect(client.get(HEALTH_PATH), 200)
    return response.http_version == "HTTP/1.1" and response.headers.get("connection", "").lower() != "close"


# -- 3. in process ---------------------------------------------------------------------------------
def _in_process_reset(runs: int) -> Figure:
    """`Emulator.reset()` as a test fixture calls it: demo solution, virtual clock, inline dispatch."""
    from emulator.app import create_app
    from emulator.core import Emulator
    from emulator.settings import Settings

    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        em = Emulator(Settings(data_dir=Path(tmp) / "state", demo=True, clock="virtual", clock_start=CLOCK_START))
        try:
            create_app(emulator=em)  # as the fixture does: the plans' sharedo.http calls reach this app
            principal = em.identity.principal(CLIENT_ID)

            def write_a_test() -> str:
                item_id = ""
                for _ in range(ITEMS_BETWEEN_RESETS):
                    item_id = em.workitems.create(NEW_MATTER, principal).id
                    em.workitems.change_phase(item_id, {"toPhaseSystemName": TO_PHASE}, principal)
                _no_errored_execution(em)
                return item_id

            item_id = write_a_test()  # warm-up, and proof that reset really removes what a test wrote
            em.reset()
            if em.workitems.find(item_id) is not None:
                raise BenchmarkError(f"work item {item_id} survived Emulator.reset()")
            for _ in range(runs):
                total = 0.0
                for _ in range(RESETS_PER_RUN_IN_PROCESS):
                    write_a_test()
                    start = time.perf_counter()
                    em.reset()
                    total += time.perf_counter() - start
                samples.append(total * 1000 / RESETS_PER_RUN_IN_PROCESS)
        finally:
            em.close()
    return Figure(
        "per-test reset in process: Emulator.reset()",
        "ms",
        samples,
        Goal(RESET_GOAL_MS),
        f"after {ITEMS_BETWEEN_RESETS} items created+moved",
    )


def _no_errored_execution(em: object) -> None:
    """An execution that errored means the benchmark measured a failure, not the work: stop."""
    errored = em.smartplans.executions(state="ERRORED")  # type: ignore[attr-defined]
    if errored:
        first = errored[0]
        raise BenchmarkError(
            f"{len(errored)} plan execution(s) ERRORED, first: {first['planSystemName']} on "
            f"{first['sharedoReference']}: {first['lastErrored']}"
        )


# -- 4. findByQuery as the store grows ---------------------------------------------------------------
SCALES = (1_000, 10_000, 100_000)
QUERIES_PER_RUN = 20
PAGE_SEARCHES = {
    "default": {"page": {"rowsPerPage": 20}},
    "matters, open, by updated": {
        "types": {"includeTypesDerivedFrom": ["matter"]},
        "phase": {"includeOpen": True, "includeClosed": False},
        "sort": {"orderBy": "updatedDate", "direction": "descending"},
        "page": {"page": 3, "rowsPerPage": 20},
    },
}


def _find_by_query_at_scale(runs: int) -> Iterator[Figure]:
    """A 20-row page at each size; the store grows in place from one size to the next (`--quick`: the
    two smaller sizes only)."""
    from emulator.core import Emulator
    from emulator.settings import Settings

    enrich = [{"path": "title"}, {"path": "reference"}, {"path": "phase.systemName"}]
    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        em = Emulator(Settings(data_dir=Path(tmp), demo=True, clock="virtual", clock_start=CLOCK_START))
        try:
            baseline: dict[str, float] = {}
            for size in SCALES[:2] if quick() else SCALES:
                built = _grow_to(em, size)
                for name, search in PAGE_SEARCHES.items():
                    body = {"search": search, "enrich": enrich}
                    for _ in range(QUERIES_PER_RUN):  # warm: statement cache, pages in memory
                        em.queries.find_by_query(body)
                    samples = [
                        mean_ms(lambda b=body: em.queries.find_by_query(b), QUERIES_PER_RUN) for _ in range(runs)
                    ]
                    median = sorted(samples)[len(samples) // 2]
                    baseline.setdefault(name, median)
                    goal = None if size == SCALES[0] else Goal(2 * baseline[name])
                    note = f"{size:,} work items written in {built:.1f} s" if name == "default" else ""
                    yield Figure(f"findByQuery, 20-row page, {name}, {size // 1000}k items", "ms", samples, goal, note)
        finally:
            em.close()


def _grow_to(em: object, size: int) -> float:
    """Copies of a demo matter (new id, reference, title, times; a fifth of them closed) up to `size`."""
    import json
    import uuid

    started = time.perf_counter()
    with em.store.transaction() as tx:  # type: ignore[attr-defined]
        have = tx.execute("SELECT COUNT(*) FROM work_items").fetchone()[0]
        model = tx.execute("SELECT * FROM work_items WHERE type=? LIMIT 1", (WORK_TYPE,)).fetchone()
        body = json.loads(model["body"])
        rows = []
        for n in range(have, size):
            item_id = str(uuid.UUID(int=(7 << 100) + n, version=4))
            stamp = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z"
            phase = "matter-closed" if n % 5 == 0 else model["phase"]
            rows.append(
                (
                    item_id,
                    model["type"],
                    f"Bulk matter {n}",
                    f"BULK-{n:06d}",
                    None,
                    phase,
                    None,
                    stamp,
                    stamp,
                    json.dumps({**body, "id": item_id}),
                )
            )
        tx.executemany("INSERT INTO work_items VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    return time.perf_counter() - started
