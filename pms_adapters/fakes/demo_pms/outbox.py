"""What the demo PMS owes Operate: one delivery per PMS record that changed (a matter opened in the PMS, a
disbursement paid, an invoice settled, a supplier created or changed, a matter's billed fees), kept until
Operate has it.

The books' own changes queue a delivery in the same lock as the change; the worker (`delivery.py`) sends
them. A record changed again before its delivery went out is still ONE pending delivery: the worker reads
the record as it is when it sends. A delivery that fails waits `RETRY_MINUTES` on the clock, then tries
again, and gives up after `MAX_ATTEMPTS` (state `failed`, with the last error, until someone retries it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from emulator.kernel.clock import Clock, iso

KINDS = ("matter", "payment", "invoice", "supplier", "fees")
RETRY_MINUTES = (1, 2, 5, 10, 30)  # [inferred] the wait after the 1st ... 5th failure; the 6th gives up
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
MAX_DELIVERIES = 10_000  # the most recent are kept; a delivered one is the first to go
MAX_HISTORY = 20  # attempts remembered per delivery


@dataclass
class Delivery:
    delivery_id: str
    kind: str
    subject: str  # the PMS record: PMS-260111, PMS-DISB-9001, PMS-INV-40040, SUP-0006
    created_at: datetime
    next_attempt_at: datetime
    state: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    last_error: str | None = None
    operate_id: str | None = None  # what Operate holds for it, once known (kept across attempts)
    delivered_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.delivery_id,
            "kind": self.kind,
            "subject": self.subject,
            "state": self.state,
            "attempts": self.attempts,
            "maxAttempts": MAX_ATTEMPTS,
            "createdAt": iso(self.created_at),
            "nextAttemptAt": iso(self.next_attempt_at) if self.state == "pending" else None,
            "deliveredAt": iso(self.delivered_at) if self.delivered_at else None,
            "lastError": self.last_error,
            "operateId": self.operate_id,
            "history": list(self.history),
        }


class DeliveryOutbox:
    """Pending, delivered and failed deliveries, in order; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._items: dict[str, Delivery] = {}
        self._seq = 0

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._seq = 0

    def queue(self, kind: str, subject: str) -> Delivery:
        """One pending delivery for (kind, subject): a second change before it is sent joins the first."""
        if kind not in KINDS:
            raise ValueError(f"no delivery kind {kind!r}; kinds: {', '.join(KINDS)}")
        with self._lock:
            for item in self._items.values():
                if item.kind == kind and item.subject == subject and item.state == "pending":
                    return item
            earlier = next((i for i in reversed(self._items.values()) if i.kind == kind and i.subject == subject), None)
            self._seq += 1
            now = self.clock.now()
            item = Delivery(f"DLV-{self._seq}", kind, subject, now, now)
            if earlier is not None:
                item.operate_id = earlier.operate_id  # what Operate already holds for this record
            self._items[item.delivery_id] = item
            self._trim()
            return item

    def _trim(self) -> None:
        while len(self._items) > MAX_DELIVERIES:
            done = next((k for k, v in self._items.items() if v.state != "pending"), None)
            self._items.pop(done if done is not None else next(iter(self._items)))

    def due(self, now: datetime) -> list[Delivery]:
        with self._lock:
            return [i for i in self._items.values() if i.state == "pending" and i.next_attempt_at <= now]

    def get(self, delivery_id: str) -> Delivery | None:
        with self._lock:
            return self._items.get(delivery_id)

    def all(self) -> list[Delivery]:
        with self._lock:
            return list(self._items.values())

    def succeeded(self, item: Delivery, operate_id: str | None, note: str) -> None:
        with self._lock:
            now = self.clock.now()
            item.attempts += 1
            item.state, item.delivered_at, item.last_error = "delivered", now, None
            item.operate_id = operate_id or item.operate_id
            self._note(item, now, True, note)

    def failed(self, item: Delivery, error: str) -> None:
        """One failed attempt: wait and try again, or give up after MAX_ATTEMPTS."""
        with self._lock:
            now = self.clock.now()
            item.attempts += 1
            item.last_error = error
            if item.attempts >= MAX_ATTEMPTS:
                item.state = "failed"
            else:
                item.next_attempt_at = now + timedelta(minutes=RETRY_MINUTES[item.attempts - 1])
            self._note(item, now, False, error)

    def retry(self, delivery_id: str) -> Delivery:
        """Someone sends a failed delivery again: pending now, with a fresh set of attempts."""
        with self._lock:
            item = self._items.get(delivery_id)
            if item is None:
                raise KeyError(delivery_id)
            if item.state == "failed":
                item.state, item.attempts, item.next_attempt_at = "pending", 0, self.clock.now()
            return item

    @staticmethod
    def _note(item: Delivery, at: datetime, ok: bool, text: str) -> None:
        item.history.append({"at": iso(at), "ok": ok, "note": text[:500]})
        del item.history[:-MAX_HISTORY]
