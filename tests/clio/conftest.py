"""The Clio tests' shared fixture: the fake Clio firm and its clients run on one virtual clock."""

from __future__ import annotations

import pytest

from emulator.kernel.clock import Clock
from tests.conftest import START


@pytest.fixture
def clock() -> Clock:
    """A virtual clock at the suite's START: the fake Clio's dates and the adapter's windows are taken from it."""
    return Clock("virtual", START)
