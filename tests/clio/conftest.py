"""The Clio tests' shared fixtures: the fake Clio firm and its clients run on one virtual clock; `env`
(tests/helpers/clio_sync.py), an emulator on the demo with the fake Clio firm; `fake_clio`
(tests/helpers/served_clio.py), the fake Clio served on a loopback port."""

from __future__ import annotations

import pytest

from emulator.kernel.clock import Clock
from tests.conftest import START
from tests.helpers.clio_sync import env  # noqa: F401  (a fixture: an emulator on the demo with the fake Clio firm)
from tests.helpers.served_clio import fake_clio  # noqa: F401  (a fixture: the fake Clio on a loopback port)


@pytest.fixture
def clock() -> Clock:
    """A virtual clock at the suite's START: the fake Clio's dates and the adapter's windows are taken from it."""
    return Clock("virtual", START)
