"""Browser fixtures for testing widgets in CI (entry point `pytest11: operate_widgets`).

    def test_my_widget_shows_the_balance(widget_page):
        page = widget_page("Demo01.PMSWidget", work_item=MATTER, scenario="ok")
        assert "£1,000.00" in page.text()
        page.assert_no_console_errors()

`widget_page(widget_id, work_item=, scenario=, user=, config=, mode=)` opens the widget on the harness
page and waits until the data it loaded is bound (`locale=`, `currency=`, `viewport=` render it in a mode:
widgets/modes.py); `portal_page(work_item, user=, scenario=)` opens a
work item's whole portal page. Both serve the `operate` fixture's emulator (your solution, fresh state
per test) on a loopback port and drive Debian's `chromium` through Playwright (`executable_path`;
nothing downloads a browser). `OPERATE_CHROMIUM` names another Chromium binary.

Each call opens its own tab (the first uses `harness_page`'s), and a scenario belongs to the tab that chose
it: two pages of one test with different scenarios stay open side by side, each with its own PMS.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from . import widget_coverage
from .modes import prepare as prepare_modes

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",  # no calls home from a machine with no network
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BOUND_TIMEOUT_MS = 15_000
FAILED_RESOURCE = "Failed to load resource"


def chromium_path() -> str:
    """The Chromium binary: `OPERATE_CHROMIUM`, else Debian's `chromium` on PATH."""
    configured = os.environ.get("OPERATE_CHROMIUM")
    found = configured or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not os.path.exists(found):
        raise RuntimeError(
            "no Chromium to drive: install Debian's package (scripts/install-chromium, or sudo apt-get install "
            "chromium) or point OPERATE_CHROMIUM at a Chromium binary"
        )
    return found


class Served:
    """The operate fixture's app on a loopback port, in a thread, for the browser to reach."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="operate-widgets", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


_SERVED = pytest.StashKey[dict]()


def served(config: pytest.Config, operate: Any) -> Served:
    """One server per emulator per test process (the emulator is reset between tests, the port stays)."""
    servers = config.stash.setdefault(_SERVED, {})
    found = servers.get(id(operate))
    if found is None:
        found = servers[id(operate)] = Served(operate.app)
    return found


class HarnessPage:
    """A Playwright page on the harness, with what a widget test checks: text, console, the harness log."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.console: list[tuple[str, str]] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.request: Any = None  # the test's pytest request: where assert_snapshot keeps its baselines
        self.modes: dict[str, str] = {}  # the page's modes (locale, currency, viewport) when any was chosen
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

    def tab(self) -> HarnessPage:
        """This page while it is still blank, else a new tab in the same browser context: what widget_page /
        portal_page open, so an earlier page (and its scenario) stays open to check."""
        if self.page.url == "about:blank":
            return self
        opened = HarnessPage(self.page.context.new_page(), self.base_url)
        opened.request = self.request
        return opened

    def open(self, path: str, wait: bool = True) -> HarnessPage:
        widget_coverage.before_navigation(self.page)  # --operate-widget-cov: measured from the first script on
        response = self.page.goto(self.base_url + path)
        if response is not None and response.status >= 400:
            raise AssertionError(f"{path} answered {response.status}: {self.page.inner_text('body')[:2000]}")
        if wait:
            self.wait_bound()
        return self

    def wait_bound(self, timeout_ms: int = BOUND_TIMEOUT_MS) -> float:
        """Wait until every $ajax call the widgets started has settled and the result is rendered."""
        try:
            self.page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=timeout_ms)
        except Exception as exc:
            pending = self.page.evaluate("window.__operate ? Object.values(window.__operate.inflight) : null")
            raise AssertionError(
                f"the page was not bound within {timeout_ms} ms; calls still pending: {pending}; "
                f"console: {self.console}; errors: {self.page_errors}"
            ) from exc
        return float(self.page.evaluate("window.__operate.boundAt"))

    def widget(self, index: int = 0) -> Any:
        """The Playwright locator of a placed widget (its section, chrome included)."""
        return self.page.locator("section.op-widget").nth(index)

    def text(self, selector: str = ".op-portal") -> str:
        return self.page.inner_text(selector)

    def harness_log(self, level: str | None = None) -> list[dict[str, Any]]:
        """What the page's console panel shows: JS errors, failed $ajax calls, $ui.log lines."""
        if level == "error":  # kept apart in the page, so later chatter cannot push an error out
            return list(self.page.evaluate("window.__operate.errorLog"))
        entries = self.page.evaluate("window.__operate.log")
        return [e for e in entries if level is None or e["level"] == level]

    def console_errors(self, allow_failed_requests: bool = False) -> list[str]:
        """Errors in the browser console and uncaught exceptions; a failed request's own line when allowed."""
        errors = [f"pageerror: {e}" for e in self.page_errors]
        for kind, text in self.console:
            if kind == "error" and not (allow_failed_requests and text.startswith(FAILED_RESOURCE)):
                errors.append(text)
        return errors

    def assert_no_console_errors(self, allow_failed_requests: bool = False) -> None:
        errors = self.console_errors(allow_failed_requests)
        panel = [] if allow_failed_requests else [e["text"] for e in self.harness_log("error")]
        counted = 0 if allow_failed_requests else int(self.page.evaluate("window.__operate.errors"))
        if errors or panel or counted:
            raise AssertionError(f"console errors: {errors}; the page's console panel ({counted} errors): {panel}")

    def assert_accessible(self, impact: str = "serious", **options: Any) -> dict[str, Any]:
        """Run axe-core in the page and fail with each violation at `impact` or above (minor < moderate < serious <
        critical): rule id, impact, element and help link. Options: `rules=`, `disable=`, `include=` (CSS; None for
        the whole page). See widgets/accessibility.py."""
        from .accessibility import assert_accessible

        return assert_accessible(self.page, self.base_url, impact=impact, **options)

    def offsite_requests(self) -> list[str]:
        """Every request the page made to another origin (the page must work offline)."""
        return [u for u in self.requests if not u.startswith(self.base_url) and not u.startswith("data:")]

    def assert_snapshot(self, name: str, **options: Any) -> None:
        """Compare with the PNG baseline `__snapshots__/<test file stem>/<name>.png` (widgets/snapshots.py:
        selector=, full_page=, mask=, max_diff_pixels=, threshold=); `--operate-update-snapshots` rewrites."""
        from widgets.snapshots import assert_snapshot

        assert_snapshot(self, name, **options)


def _query(**params: Any) -> str:
    clean = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(clean)) if clean else ""


@pytest.fixture(scope="session")
def operate_browser() -> Iterator[Any]:
    """Headless Debian Chromium, one per test process."""
    from emulator.extras import MissingExtra, need

    try:  # playwright is the `browser` extra: without it, one line says so instead of a traceback per test
        sync_playwright = need("playwright.sync_api", "a browser fixture (widget_page, portal_page)").sync_playwright
    except MissingExtra as exc:
        pytest.fail(str(exc), pytrace=False)

    with sync_playwright() as playwright:
        from widgets.snapshots import font_environment  # one pinned font package, for stable snapshots

        env = {**os.environ, **font_environment()}
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS, env=env
        )
        yield browser
        browser.close()


@pytest.fixture
def harness_page(request: pytest.FixtureRequest, operate: Any, operate_browser: Any) -> Iterator[HarnessPage]:
    """A fresh browser context on the served emulator; closed after the test."""
    server = served(request.config, operate)
    context = operate_browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", device_scale_factor=1
    )
    widget_coverage.watch(request.config, context, operate)
    page = HarnessPage(context.new_page(), server.url)
    page.request = request
    yield page
    widget_coverage.closing(request.config, context)
    context.close()


@pytest.fixture
def widget_page(harness_page: HarnessPage) -> Any:
    """`widget_page(widget_id, work_item=, scenario=, user=, config=, mode=, wait=True, locale=, currency=,
    viewport=)` → HarnessPage, in a tab of its own (the first call's is `harness_page`)."""

    def open_widget(
        widget_id: str,
        *,
        work_item: str | None = None,
        scenario: str | None = None,
        user: str | None = None,
        config: dict[str, Any] | None = None,
        mode: str | None = None,
        wait: bool = True,
        locale: str | None = None,
        currency: str | None = None,
        viewport: str | None = None,
    ) -> HarnessPage:
        modes = {"locale": locale, "currency": currency, "viewport": viewport}  # widgets/modes.py
        query = _query(workItem=work_item, scenario=scenario, user=user, config=config, mode=mode, **modes)
        return prepare_modes(harness_page.tab(), **modes).open(f"/widgets/{widget_id}{query}", wait=wait)

    return open_widget


@pytest.fixture
def portal_page(harness_page: HarnessPage) -> Any:
    """`portal_page(work_item, user=, scenario=, page=, wait=True, locale=, currency=, viewport=)` → HarnessPage
    on the work item's portal."""

    def open_portal(
        work_item: str,
        *,
        user: str | None = None,
        scenario: str | None = None,
        page: str | None = None,
        wait=True,
        locale: str | None = None,
        currency: str | None = None,
        viewport: str | None = None,
    ) -> HarnessPage:
        modes = {"locale": locale, "currency": currency, "viewport": viewport}  # widgets/modes.py
        query = _query(user=user, scenario=scenario, page=page, **modes)
        return prepare_modes(harness_page.tab(), **modes).open(f"/portal/{work_item}{query}", wait=wait)

    return open_portal


def pytest_addoption(parser: pytest.Parser) -> None:
    from widgets.snapshots import add_options

    add_options(parser)
    widget_coverage.add_options(parser.getgroup("operate-widgets", "operate-toolkit: widget tests in Chromium"))


def pytest_configure(config: pytest.Config) -> None:
    widget_coverage.configure(config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The servers stop as the session ends, before the emulators they serve close (smartplans/testing.py, trylast)
    and before an xdist worker reports itself finished."""
    close_servers(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    widget_coverage.unconfigure(config)
    close_servers(config)


def close_servers(config: pytest.Config) -> None:
    servers = config.stash.get(_SERVED, {})
    while servers:
        _, server = servers.popitem()
        server.close()
