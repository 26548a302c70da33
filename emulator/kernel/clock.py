"""The one clock. Everything that reads time (events, timers, cron, tokens, V8's Date) reads this."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

# The virtual clock stays before this moment, so that "now + a token lifetime, a timer, a cron step"
# never runs past the last instant Python can represent (9999-12-31).
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

_ISO_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})[.,](\d+)")


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations as people write them in tests and the control API (`PT2M`, `P1D`, `P1DT2H`)."""
    match = _ISO_DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r} (examples: PT2M, PT1H30M, P1D)")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ValueError(f"duration {text.strip()[:40]!r} is too long to represent") from None


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; a value without an offset is taken as UTC, as Operate's APIs do."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected an ISO 8601 date-time string")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes exactly 3 or 6 fractional digits; .NET writes 7 (…00.1234567Z),
    # JavaScript 3. Microseconds, as 3.11 and later read them, on every supported Python.
    value = _FRACTION.sub(lambda m: f"{m.group(1)}.{(m.group(2) + '000000')[:6]}", value, count=1)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant in UTC
        raise ValueError(f"date-time out of range: {text!r}") from None


def iso(moment: datetime) -> str:
    """The one output format for instants: UTC, millisecond precision, `Z` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock:
    """System mode follows the wall clock (and so freezegun); virtual mode moves only when told.

    `advance()` hands each due moment to `on_due` (the scheduler) in time order before it returns,
    so a timer three days out fires inside one call, deterministically.
    """

    def __init__(self, mode: str = "system", start: datetime | None = None) -> None:
        if mode not in ("system", "virtual"):
            raise ValueError(f"clock mode must be 'system' or 'virtual', not {mode!r}")
        self.mode = mode
        self._virtual_now = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = threading.RLock()
        # The scheduler's "run the earliest job due by this moment; say whether there was one".
        self.on_due: Callable[[datetime], bool] | None = None
        self.on_change: Callable[[datetime], None] | None = None
        # Called with the moment the clock leaves before it goes back in time (set, restore): whatever expired
        # by then (tokens, codes) stays expired once the clock reads an earlier time.
        self.on_rewind: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        if self.mode == "system":
            return datetime.now(UTC)
        return self._virtual_now

    @property
    def is_virtual(self) -> bool:
        return self.mode == "virtual"

    def set(self, moment: datetime) -> datetime:
        """Jump to `moment` (virtual mode). Jobs due in between run, in order, as with advance."""
        self._require_virtual("set")
        return self._move_to(moment.astimezone(UTC))

    def advance(self, delta: timedelta) -> datetime:
        self._require_virtual("advance")
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward; use set() to go back")
        if delta > LATEST - self._virtual_now:
            raise ClockRangeError(f"advancing by {delta} would take the clock past {iso(LATEST)}")
        return self._move_to(self._virtual_now + delta)

    def restore(self, moment: datetime) -> None:
        """Put a persisted virtual time back without running anything (start-up, import, reset)."""
        self._rewinding(moment.astimezone(UTC))
        self._virtual_now = moment.astimezone(UTC)

    def left_behind(self, moment: datetime) -> None:
        """The clock once read `moment` (a previous run's saved time) and now reads earlier: as a move back."""
        if self.mode == "virtual" and moment > self._virtual_now:
            for hook in self.on_rewind:
                hook(moment)

    def _rewinding(self, target: datetime) -> None:
        if self.mode == "virtual" and target < self._virtual_now:
            for hook in self.on_rewind:
                hook(self._virtual_now)

    def _move_to(self, target: datetime) -> datetime:
        if target >= LATEST:
            raise ClockRangeError(f"the virtual clock stays before {iso(LATEST)}")
        with self._lock:
            if target < self._virtual_now:
                self._rewinding(target)
                self._virtual_now = target
            else:
                # The scheduler steps the clock to each job's due moment before running it,
                # so every job sees the time it was due at.
                while self.on_due is not None and self.on_due(target):
                    pass
                self._virtual_now = target
            if self.on_change:
                self.on_change(self._virtual_now)
            return self._virtual_now

    def _require_virtual(self, what: str) -> None:
        if self.mode != "virtual":
            raise ClockModeError(
                f"cannot {what} a system clock; start with a virtual clock "
                "(operate serve --virtual-clock, or Settings(clock='virtual'))"
            )


class ClockModeError(RuntimeError):
    pass


class ClockRangeError(ValueError):
    """A move the clock refuses before it runs anything: past `LATEST`."""
