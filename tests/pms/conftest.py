"""The demo PMS tests' shared values and fixtures: one firm key and one virtual clock, on a Monday in March;
`both` (tests/helpers/pms_push.py), a served emulator beside a served demo PMS, and `upstream`
(tests/helpers/upstream.py), a recording stand-in for a PMS."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator.kernel.clock import Clock
from tests.helpers.pms_push import both  # noqa: F401  (a fixture: a served emulator beside a served demo PMS)
from tests.helpers.upstream import upstream  # noqa: F401  (a fixture: a recording PMS stand-in on a loopback port)

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
TODAY = START.date()
KEY = "demo-pms-key"


@pytest.fixture
def clock() -> Clock:
    """A virtual clock at START: the demo PMS's dates and the adapter's windows are taken from it."""
    return Clock("virtual", START)
