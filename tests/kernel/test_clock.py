from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from emulator.kernel.clock import Clock, ClockModeError, iso, parse_duration, parse_instant

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("PT2M", timedelta(minutes=2)),
        ("P1D", timedelta(days=1)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("pt20m", timedelta(minutes=20)),
        ("PT0.5S", timedelta(seconds=0.5)),
    ],
)
def test_parse_duration_reads_iso_8601(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "2 minutes", "P1DT", "-PT1M", "PT1X"])
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(text)


def test_parse_instant_takes_naive_values_as_utc_and_writes_z():
    assert parse_instant("2026-01-05T09:00:00") == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert iso(parse_instant("2026-01-05T10:00:00+01:00")) == "2026-01-05T09:00:00.000Z"
    with pytest.raises(ValueError):
        parse_instant("yesterday")


def test_system_clock_follows_freezegun():
    clock = Clock("system")
    with freeze_time("2030-02-03 04:05:06"):
        assert clock.now() == datetime(2030, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_virtual_clock_moves_only_when_told():
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    clock = Clock("virtual", start)
    assert clock.now() == start
    assert clock.advance(timedelta(minutes=2)) == start + timedelta(minutes=2)
    assert clock.set(start + timedelta(days=3)) == start + timedelta(days=3)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))


def test_system_clock_cannot_be_moved():
    with pytest.raises(ClockModeError, match="virtual clock"):
        Clock("system").advance(timedelta(minutes=1))


def test_advance_hands_each_due_moment_to_the_scheduler_in_order():
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    clock = Clock("virtual", start)
    due = [start + timedelta(hours=h) for h in (3, 1, 2)]
    seen = []

    def run_next(until):
        ready = sorted(d for d in due if d <= until)
        if not ready:
            return False
        due.remove(ready[0])
        clock.restore(ready[0])
        seen.append(clock.now())
        return True

    clock.on_due = run_next
    clock.advance(timedelta(hours=2, minutes=30))
    assert seen == [start + timedelta(hours=1), start + timedelta(hours=2)]
    assert clock.now() == start + timedelta(hours=2, minutes=30)
