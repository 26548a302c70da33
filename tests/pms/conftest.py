"""The demo PMS tests' shared values and fixture: one firm key and one virtual clock, on a Monday in March."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator.kernel.clock import Clock

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
TODAY = START.date()
KEY = "demo-pms-key"


@pytest.fixture
def clock() -> Clock:
    """A virtual clock at START: the demo PMS's dates and the adapter's windows are taken from it."""
    return Clock("virtual", START)
