"""Business events: their types (data in emulator/catalogue/events.json), the numbered stream, and the
dispatcher that feeds subscribers."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .clock import Clock, iso
from .paging import Paged, equal_to, paged
from .schema import AreaSchema, sql_migrations
from .snapshot_rules import CURSOR_KEY  # the dispatcher's cursor: one name for it and the rule that checks it
from .store import Store, dumps

log = logging.getLogger("operate.events")


@dataclass(frozen=True)
class EventType:
    event_type: str
    status: str  # "confirmed" | "inferred"
    description: str
    data: tuple[str, ...]
    trigger_meta: str | None = None  # the TriggerMeta list a trigger filters on ("PhasesSystemNames")
    trigger_meta_field: str | None = None  # the Data key that list is matched against ("toPhase")


def load_event_types() -> dict[str, EventType]:
    raw = json.loads(resources.files("emulator.catalogue").joinpath("events.json").read_text("utf-8"))
    return {
        e["eventType"]: EventType(
            e["eventType"],
            e["status"],
            e["description"],
            tuple(e["data"]),
            e.get("triggerMeta"),
            e.get("triggerMetaField"),
        )
        for e in raw["events"]
    }


@dataclass
class Event:
    number: int
    event_type: str
    occurred_at: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The shape plans see as `ev` and the control API lists."""
        return {"number": self.number, "eventType": self.event_type, "occurredAt": self.occurred_at, "Data": self.data}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Event:
        return cls(row["number"], row["event_type"], row["occurred_at"], json.loads(row["data"]))


Subscriber = Callable[[Event], None]


@dataclass
class EventStream:
    """Appends happen inside the caller's transaction, so a change and its event commit together."""

    store: Store
    clock: Clock
    event_types: dict[str, EventType] = field(default_factory=load_event_types)

    def append(self, tx: sqlite3.Connection, event_type: str, data: dict[str, Any]) -> int:
        if event_type not in self.event_types:
            raise ValueError(f"unknown business event {event_type!r}; known: {sorted(self.event_types)}")
        row = tx.execute(
            "INSERT INTO events(number, event_type, occurred_at, work_item_id, data) "
            "VALUES ((SELECT COALESCE(MAX(number), 0) + 1 FROM events), ?, ?, ?, ?) RETURNING number",
            (event_type, iso(self.clock.now()), data.get("sharedoId"), dumps(data)),
        ).fetchone()
        return int(row[0])

    def after(self, number: int, limit: int = 1000, sharedo_id: str | None = None) -> list[Event]:
        """Events after `number`, oldest first; `sharedo_id`: only those of that work item (the control API's
        sharedoId filter)."""
        sql = "SELECT * FROM events WHERE number > ?"
        args: list[Any] = [number]
        if sharedo_id:
            sql += " AND work_item_id = ?"
            args.append(sharedo_id)
        sql += " ORDER BY number LIMIT ?"
        args.append(limit)
        with self.store.read() as conn:
            return [Event.from_row(r) for r in conn.execute(sql, args)]

    def page(self, page: int, size: int, *, event_type: str = "", work_item_id: str = "") -> tuple[Paged, int]:
        """One page of the stream, newest first, filtered by type and work item, with the number of the last
        event read in the same breath (the events page polls for what comes after it)."""
        where, args = _filtered(event_type, work_item_id)
        with self.store.read() as conn:
            result = paged(conn, "SELECT * FROM events WHERE 1=1" + where + " ORDER BY number DESC", args, page, size)
            return result, self.last_number()

    def newer(
        self, number: int, limit: int, *, event_type: str = "", work_item_id: str = ""
    ) -> tuple[list[sqlite3.Row], int]:
        """Events after `number`, newest first, at most `limit`, with the number of the last event read in the
        same breath (the events page's feed)."""
        where, args = _filtered(event_type, work_item_id)
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM events WHERE 1=1" + where + " AND number > ? ORDER BY number DESC LIMIT ?",
                [*args, number, limit],
            ).fetchall()
            return rows, self.last_number()

    def of_work_items(
        self, ids: list[str], limit: int, offset: int, conn: sqlite3.Connection
    ) -> tuple[int, list[sqlite3.Row]]:
        """How many events name one of the work items, and a page of them, newest first (a chronology), read
        on the caller's connection."""
        marks = ",".join("?" * len(ids))
        total = conn.execute(f"SELECT COUNT(*) FROM events WHERE work_item_id IN ({marks})", ids).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM events WHERE work_item_id IN ({marks}) ORDER BY number DESC LIMIT ? OFFSET ?",
            [*ids, limit, offset],
        ).fetchall()
        return int(total), rows

    def last_number(self) -> int:
        with self.store.read() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(number), 0) FROM events").fetchone()[0])


def _filtered(event_type: str, work_item_id: str) -> tuple[str, list[Any]]:
    """The WHERE clause (after `WHERE 1=1`) of an event type and a work item, either empty for all."""
    return equal_to({"event_type": event_type, "work_item_id": work_item_id})


class EventDispatcher:
    """Feeds every event to every subscriber in stream order, at least once.

    The cursor (last processed number) is persisted after each event, so a crash between commit and
    dispatch resumes from there on restart. Inline mode drains on the committing thread, so an API
    call returns only when every plan it set off has settled (what tests want); threaded mode
    drains on a worker (what `operate serve` wants).
    """

    def __init__(self, stream: EventStream, *, inline: bool = True) -> None:
        self.stream = stream
        self.store = stream.store
        self.inline = inline
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._drain_lock = threading.RLock()
        self._draining = threading.local()
        self._wake = threading.Condition()
        self._interrupt = threading.Event()  # set while reset or import waits to take the stream
        self._held = False  # inside paused(): commits do not deliver inline either
        self._stopping = False
        self._worker: threading.Thread | None = None
        self.store.on_commit(self._on_commit)

    def subscribe(self, name: str, subscriber: Subscriber) -> None:
        self._subscribers.append((name, subscriber))

    @property
    def cursor(self) -> int:
        return int(self.store.get_meta(CURSOR_KEY, "0") or 0)

    def backlog(self) -> int:
        return self.stream.last_number() - self.cursor

    def _on_commit(self) -> None:
        if self.inline and self._held:
            return  # reset or import is swapping the stream; whoever paused drains afterwards
        if self.inline:
            self.drain()
        else:
            with self._wake:
                self._wake.notify_all()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold delivery while reset or import swaps the whole stream. A worker stops after the event it
        is delivering (the rest of its batch is about to be replaced) and waits."""
        self._interrupt.set()
        try:
            with self._drain_lock:
                self._interrupt.clear()
                self._held = True
                try:
                    yield
                finally:
                    self._held = False
        finally:
            self._interrupt.clear()
            with self._wake:
                self._wake.notify_all()

    def drain(self) -> int:
        """Process every event past the cursor; returns how many. Re-entrant calls return at once."""
        if getattr(self._draining, "active", False):
            return 0  # a subscriber's own commit: the outer loop picks its events up
        processed = 0
        with self._drain_lock:
            self._draining.active = True
            try:
                while True:
                    batch = self.stream.after(self.cursor, limit=100)
                    if not batch:
                        return processed
                    for event in batch:
                        if self._interrupt.is_set():
                            return processed
                        self._deliver(event)
                        with self.store.transaction() as tx:
                            self.store.set_meta(tx, CURSOR_KEY, str(event.number))
                        processed += 1
            finally:
                self._draining.active = False

    def _deliver(self, event: Event) -> None:
        for name, subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:  # a broken subscriber must not stop the stream: dead-letter it
                error = traceback.format_exc()
                log.error("subscriber %s failed on event %s: %s", name, event.number, error)
                with self.store.transaction() as tx:
                    tx.execute(
                        "INSERT INTO dead_letters VALUES (?, ?, ?, ?)",
                        (event.number, name, error, iso(self.stream.clock.now())),
                    )

    # -- threaded mode --------------------------------------------------------------------------
    def start(self) -> None:
        self.inline = False
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name="operate-dispatcher", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stopping = True
        with self._wake:
            self._wake.notify_all()
        if self._worker:
            self._worker.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping:
            try:
                self.drain()
            except Exception:
                log.exception("dispatcher failed; retrying")
            with self._wake:
                if not self._stopping and self.backlog() == 0:
                    self._wake.wait(timeout=1.0)


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="events",
    modules=("emulator.kernel.events",),
    tables=("events", "dead_letters"),
    migrations=sql_migrations(__name__),
)
