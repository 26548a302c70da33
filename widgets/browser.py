"""Chromium on the emulator's pages: the one browser of a test process, the served app, and HarnessPage (a
Playwright page with what a widget check reads: text, console, the harness log, axe, snapshots).

The pytest plugin (testing.py) builds its fixtures on these, and a scenario's `pages` (scenario_pages.py) opens
its pages with the same pieces, so a page and its snapshot are the same whichever way a user asked for it.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest

from . import widget_coverage
from .modes import KINDS as MODE_KINDS
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
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            """No line per request: a failing widget test's report shows its own logs, not every script fetched."""

            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
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
        self.node: Any = None  # the test's pytest item (a test function, a scenario): where snapshots are kept
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
        opened.node = self.node
        return opened

    def open(self, path: str, wait: bool = True) -> HarnessPage:
        if self.node is not None:  # --operate-widget-cov: measured from the first script on
            widget_coverage.before_navigation(self.node.config, self.page)
        response = self.page.goto(self.base_url + path)
        if response is not None and response.status >= 400:
            shown = next(s for s in ("[role=alert]", "main", "body") if self.page.locator(s).count())
            problem = self.page.locator(shown).first.inner_text()  # the page's problem, not its menu
            raise AssertionError(f"{path} answered {response.status}: {problem[:2000]}")
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


_BROWSER = pytest.StashKey[tuple]()


def browser(config: pytest.Config, purpose: str = "a browser fixture (widget_page, portal_page)") -> Any:
    """Headless Debian Chromium, one per test process, started by the first page that needs it (a fixture's or
    a scenario's `pages`) and closed as the session ends; MissingExtra without the `browser` extra."""
    found = config.stash.get(_BROWSER, None)
    if found is None:
        from emulator.extras import need
        from widgets.snapshots import font_environment  # one pinned font package, for stable snapshots

        sync_playwright = need("playwright.sync_api", purpose).sync_playwright
        playwright = sync_playwright().start()
        try:
            env = {**os.environ, **font_environment()}
            launched = playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS, env=env
            )
        except BaseException:
            playwright.stop()
            raise
        found = config.stash[_BROWSER] = (playwright, launched)
    return found[1]


def close_browser(config: pytest.Config) -> None:
    found = config.stash.get(_BROWSER, None)
    if found is not None:
        del config.stash[_BROWSER]
        playwright, launched = found
        launched.close()
        playwright.stop()


@contextmanager
def harness_tab(config: pytest.Config, operate: Any, node: Any) -> Iterator[HarnessPage]:
    """A fresh browser context on the served emulator (1280 × 900, en-GB, device scale 1), closed afterwards;
    `node` is the pytest item the page belongs to (its snapshots are kept beside its file)."""
    server = served(config, operate)
    context = browser(config).new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", device_scale_factor=1
    )
    widget_coverage.watch(config, context, operate)
    try:
        page = HarnessPage(context.new_page(), server.url)
        page.node = node
        yield page
    finally:
        widget_coverage.closing(config, context)
        context.close()


def open_widget(
    page: HarnessPage,
    widget_id: str,
    *,
    work_item: str | None = None,
    scenario: str | None = None,
    user: str | None = None,
    config: dict[str, Any] | None = None,
    mode: str | None = None,
    wait: bool = True,
    **modes: str | None,
) -> HarnessPage:
    """The widget on the harness page, in a tab of `page`'s context (`page` itself while it is blank);
    `modes`: locale=, currency=, viewport= (widgets/modes.py)."""
    params = {"workItem": work_item, "scenario": scenario, "user": user, "config": config, "mode": mode}
    return _open_in_modes(page, f"/widgets/{widget_id}", params, wait, modes)


def open_portal(
    page: HarnessPage,
    work_item: str,
    *,
    user: str | None = None,
    scenario: str | None = None,
    page_name: str | None = None,
    wait: bool = True,
    **modes: str | None,
) -> HarnessPage:
    """The work item's portal page, in a tab of `page`'s context; `modes` as for open_widget."""
    params = {"user": user, "scenario": scenario, "page": page_name}
    return _open_in_modes(page, f"/portal/{work_item}", params, wait, modes)


def _open_in_modes(page: HarnessPage, path: str, params: dict, wait: bool, modes: dict) -> HarnessPage:
    unknown = sorted(set(modes) - set(MODE_KINDS))
    if unknown:
        raise TypeError(f"unknown argument(s) {unknown}: the modes are {', '.join(MODE_KINDS)}")
    chosen = {kind: modes.get(kind) for kind in MODE_KINDS}
    return prepare_modes(page.tab(), **chosen).open(path + _query(**params, **chosen), wait=wait)


def close_servers(config: pytest.Config) -> None:
    servers = config.stash.get(_SERVED, {})
    while servers:
        _, server = servers.popitem()
        server.close()
