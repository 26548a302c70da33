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

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from . import widget_coverage
from .browser import HarnessPage, browser, close_browser, close_servers, harness_tab, open_portal, open_widget


@pytest.fixture(scope="session")
def operate_browser(pytestconfig: pytest.Config) -> Any:
    """Headless Debian Chromium, one per test process."""
    from emulator.extras import MissingExtra

    try:  # playwright is the `browser` extra: without it, one line says so instead of a traceback per test
        return browser(pytestconfig)
    except MissingExtra as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def harness_page(request: pytest.FixtureRequest, operate: Any, operate_browser: Any) -> Iterator[HarnessPage]:
    """A fresh browser context on the served emulator; closed after the test."""
    with harness_tab(request.config, operate, request.node) as page:
        yield page


@pytest.fixture
def widget_page(harness_page: HarnessPage) -> Any:
    """`widget_page(widget_id, work_item=, scenario=, user=, config=, mode=, wait=True, locale=, currency=,
    viewport=)` → HarnessPage, in a tab of its own (the first call's is `harness_page`)."""
    return partial(open_widget, harness_page)


@pytest.fixture
def portal_page(harness_page: HarnessPage) -> Any:
    """`portal_page(work_item, user=, scenario=, page=, wait=True, locale=, currency=, viewport=)` → HarnessPage
    on the work item's portal."""

    def open_(work_item: str, *, page: str | None = None, **options: Any) -> HarnessPage:
        return open_portal(harness_page, work_item, page_name=page, **options)

    return open_


@pytest.hookimpl(optionalhook=True)  # the hook is smartplans.testing's (operate): a plugin loaded beside this one
def pytest_operate_scenario_checks(item: pytest.Item) -> dict[str, Any]:
    """`pages` in a *.scenario.yaml's `then` (widgets/scenario_pages.py)."""
    from .scenario_pages import check_pages

    return {"pages": partial(check_pages, item)}


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
    close_browser(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    close_servers(config)
    close_browser(config)
