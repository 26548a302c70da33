"""`python -m benchmarks widgets`: the portal harness in Debian's chromium, as a widget developer sees it.

- request to data bound (the harness marks the moment every `$ajax` call a widget started has settled
  and rendered) for the WIP widget, the aged-debt widget and the demo matter's portal page (both),
  with the demo PMS in process;
- the same with 50 ms of latency injected on every PMS call: the widgets' PMS calls must overlap,
  so the page stays under 150 ms where serial calls would add n × 50 ms;
- the harness page's cold load (a new browser profile: every library fetched again).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from .harness import BenchmarkError, Figure, Goal, needs

CLOCK_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
MATTER = "3c000000-0000-4000-8000-000000000001"
LATENCY_S = 0.05
LATENCY_GOAL_MS = 150.0
PAGES = {
    "WIP widget": f"/widgets/OperateFinance.WipWidget?workItem={MATTER}",
    "aged-debt widget": f"/widgets/OperateFinance.AgedDebtWidget?workItem={MATTER}",
    "matter portal page (both)": f"/portal/{MATTER}",
}
BOUND_TIMEOUT_MS = 15_000


def _bound_ms(page, base: str, path: str) -> float:
    page.goto(base + path)
    page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=BOUND_TIMEOUT_MS)
    errors = page.evaluate("window.__operate.errors")
    if errors:
        raise BenchmarkError(f"{path}: the page logged {errors} error(s): {page.evaluate('window.__operate.log')}")
    return float(page.evaluate("window.__operate.boundAt"))


def figures(runs: int) -> Iterator[Figure]:
    needs("pytest", "playwright", area="widgets")
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from emulator.app import create_app
    from emulator.settings import Settings
    from widgets.browser import CHROMIUM_ARGS, chromium_path

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp) / "state", demo=True, clock="virtual", clock_start=CLOCK_START))
        em = app.extensions["operate"]
        backend = em.linked_services.fakes["demo-pms"]
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                try:
                    yield from _measure(browser, base, backend, runs)
                finally:
                    browser.close()
        except RuntimeError as exc:  # no chromium: say so, as a benchmark that could not measure
            raise BenchmarkError(str(exc)) from None
        finally:
            server.shutdown()
            server.server_close()
            em.close()


def _measure(browser, base: str, backend, runs: int) -> Iterator[Figure]:
    context = browser.new_context()
    page = context.new_page()
    for path in PAGES.values():  # warm the browser's cache and the server's first requests
        _bound_ms(page, base, path)
    plain: dict[str, list[float]] = {}
    for label, path in PAGES.items():
        plain[label] = [_bound_ms(page, base, path) for _ in range(runs)]
        yield Figure(f"request to data bound: {label}, PMS in process", "ms", plain[label])

    backend.add_fault("/api/**", delay=LATENCY_S)
    try:
        for label, path in PAGES.items():
            backend.clear_requests()
            samples = [_bound_ms(page, base, path) for _ in range(runs)]
            calls = len(backend.requests()) // runs  # PMS calls one page load makes
            added = statistics.median(samples) - statistics.median(plain[label])
            serial = calls * LATENCY_S * 1000
            yield Figure(
                f"request to data bound: {label}, +50 ms per PMS call",
                "ms",
                samples,
                Goal(LATENCY_GOAL_MS),
                note=f"{calls} PMS calls; the latency added {added:.0f} ms, serial calls would add {serial:.0f}",
            )
    finally:
        backend.clear_faults()
    context.close()

    cold = []
    for _ in range(runs):
        fresh = browser.new_context()  # a new profile: no cached library, font or script
        cold_page = fresh.new_page()
        _bound_ms(cold_page, base, PAGES["matter portal page (both)"])
        cold.append(float(cold_page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")))
        fresh.close()
    yield Figure("harness page cold load (portal page, new profile): load event", "ms", cold)
