"""What a snapshot must hold beyond fitting the tables: the rules the running emulator keeps between its rows.

A snapshot that fits every column can still be a state the emulator never makes and cannot run: a
dispatcher cursor past the last event (the events after it are never delivered, silently), a counter that
is not a number, a clock that is not a time. Each rule here names itself in the refusal, so whoever edited
the file learns which rule their edit broke; nothing is imported when one is broken.

The rules read rows by column name (`Rows`), so a later migration that adds a column leaves them alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from .clock import LATEST, iso, parse_instant

CURSOR_KEY = "dispatcher.cursor"  # kernel/events.py keeps the same name (it imports the store, not this)
CLOCK_KEY = "clock.virtualNow"  # core.py: the virtual clock's saved time
CLOCK_MODES = ("system", "virtual")

# Columns that hold JSON text the emulator parses when it reads the row back.
JSON_COLUMNS = {
    "work_items": ("body",),
    "ods": ("body",),
    "events": ("data",),
    "jobs": ("payload",),
    "plan_executions": ("ev", "ctx"),
}
# Columns that hold instants the emulator compares or parses (the scheduler, the event stream).
INSTANT_COLUMNS = {"events": ("occurred_at",), "jobs": ("due_at",)}
GENERATED_REFERENCE = re.compile(r"^reference:(?P<prefix>[A-Z]+)$")  # workitems.py: PREFIX-00001 [inferred]


class Rows:
    """A snapshot's rows as dicts by column name; a table the snapshot leaves out is empty (import empties it)."""

    def __init__(self, tables: dict[str, Any]) -> None:
        self._tables = tables

    def __call__(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        spec = self._tables.get(table) or {}
        columns = spec.get("columns") or []
        for i, row in enumerate(spec.get("rows") or []):
            yield i, dict(zip(columns, row, strict=False))

    def meta(self, key: str) -> Any:
        return next((row["value"] for _, row in self("meta") if row.get("key") == key), None)


Rule = Callable[[Rows, dict[str, Any]], "str | None"]


def _whole(value: Any) -> int | None:
    """A whole number, or its decimal text as meta keeps it; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    return None


def cursor_within_events(rows: Rows, snapshot: dict[str, Any]) -> str | None:
    """The dispatcher has delivered events up to its cursor: a cursor past the last event means the next
    events raised would be taken as delivered and never reach a plan."""
    cursor = rows.meta(CURSOR_KEY)
    if cursor is None:
        return None
    number = _whole(cursor)
    if number is None or number < 0:
        return f"meta {CURSOR_KEY} must be a whole number of events (0 or more), not {cursor!r}"
    last = max((n for _, r in rows("events") if (n := _whole(r.get("number"))) is not None), default=0)
    if number > last:
        return (
            f"meta {CURSOR_KEY} is {number} but the last event is {last or 'none'}: the cursor must not be past "
            "the last event (events after it would never be dispatched)"
        )
    return None


def events_numbered_from_one(rows: Rows, snapshot: dict[str, Any]) -> str | None:
    for i, row in rows("events"):
        number = _whole(row.get("number"))
        if number is None or number < 1:
            return f"events.rows[{i}] (number): an event's number is a whole number from 1, not {row.get('number')!r}"
    return None


def counters_are_counts(rows: Rows, snapshot: dict[str, Any]) -> str | None:
    """A counter is the last number handed out: a whole number, at least every generated reference's."""
    highest: dict[str, int] = {}
    for _, item in rows("work_items"):
        try:
            generated = json.loads(item.get("body") or "{}").get("referenceIsUserProvided") is False
        except (ValueError, AttributeError):
            generated = False  # json_columns names the body
        match = re.fullmatch(r"([A-Z]+)-([0-9]{1,18})", str(item.get("reference") or ""))
        if generated and match:
            prefix, n = match.group(1), int(match.group(2))
            highest[prefix] = max(highest.get(prefix, 0), n)
    for i, row in rows("counters"):
        value = row.get("value")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"counters.rows[{i}] ({row.get('name')}): a counter is a whole number (0 or more), not {value!r}"
        named = GENERATED_REFERENCE.match(str(row.get("name")))
        if named and value < highest.get(named["prefix"], 0):
            prefix = named["prefix"]
            return (
                f"counters.rows[{i}] ({row.get('name')}) is {value} but {prefix}-{highest[prefix]:05d} was generated "
                "from it: a counter must be at least every number it handed out"
            )
    return None


def clock_is_a_time(rows: Rows, snapshot: dict[str, Any]) -> str | None:
    """The saved virtual time (meta) and the export's clock (mode, now) are times the clock can take."""
    saved = rows.meta(CLOCK_KEY)
    if saved is not None:
        problem = _instant_problem(saved)
        if problem:
            return f"meta {CLOCK_KEY}: {problem}"
    clock = snapshot.get("clock")
    if clock is None:
        return None
    if not isinstance(clock, dict) or clock.get("mode") not in CLOCK_MODES:
        return f"clock must be an object with mode one of {list(CLOCK_MODES)} and now, not {str(clock)[:80]!r}"
    problem = _instant_problem(clock.get("now"))
    return f"clock.now: {problem}" if problem else None


def json_columns(rows: Rows, snapshot: dict[str, Any]) -> str | None:
    for table, columns in JSON_COLUMNS.items():
        for i, row in rows(table):
            for column in columns:
                value = row.get(column)
                try:
                    json.loads(value)
                except (TypeError, ValueError):
                    return f"{table}.rows[{i}] ({column}): must be JSON text, not {str(value)[:60]!r}"
    return None


def instant_columns(rows: Rows, snapshot: dict[str, Any]) -> str | None:
    for table, columns in INSTANT_COLUMNS.items():
        for i, row in rows(table):
            for column in columns:
                problem = _instant_problem(row.get(column))
                if problem:
                    return f"{table}.rows[{i}] ({column}): {problem}"
    return None


def _instant_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected an ISO 8601 time, not {value!r}"
    try:
        moment = parse_instant(value)
    except ValueError as exc:
        return f"{value[:60]!r} is not a time: {exc}"
    if moment >= LATEST:
        return f"{value!r} is not before {iso(LATEST)}"
    return None


RULES: list[Rule] = [
    events_numbered_from_one,
    cursor_within_events,
    counters_are_counts,
    clock_is_a_time,
    json_columns,
    instant_columns,
]


def broken_rule(snapshot: dict[str, Any]) -> str | None:
    """The first rule the snapshot breaks, said as "rule: what is wrong"; None when it keeps them all."""
    rows = Rows(snapshot.get("tables") or {})
    for rule in RULES:
        problem = rule(rows, snapshot)
        if problem:
            return f"{rule.__name__.replace('_', ' ')}: {problem}"
    return None
