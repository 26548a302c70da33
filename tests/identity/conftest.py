"""The identity tests' shared fixtures: an app on the demo with the samples' clients (`oidc_app`), and Chromium
for a page its own context serves (`spa_browser`)."""

from __future__ import annotations

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START
from tests.helpers.oidc import solution_with


@pytest.fixture
def oidc_app(tmp_path):
    app = create_app(
        Settings(data_dir=tmp_path / "data", solution=solution_with(tmp_path), clock="virtual", clock_start=START)
    )
    yield app
    app.extensions["operate"].close()


@pytest.fixture(scope="module")
def spa_browser(operate_browser):
    """Chromium for a page the context itself serves: such a page has no address, so Chromium counts it as
    public and would refuse its calls to the loopback emulator (Local Network Access); those checks are off.
    Launched from the session's Playwright (one Playwright per process)."""
    from widgets.browser import CHROMIUM_ARGS, chromium_path

    args = [*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"]
    browser = operate_browser.browser_type.launch(executable_path=chromium_path(), headless=True, args=args)
    yield browser
    browser.close()
