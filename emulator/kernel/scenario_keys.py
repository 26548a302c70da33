"""Scenario keys: what lets a widget scenario belong to the page (the browser tab, or the test) that chose it.

A harness page rendered with a scenario gets a fresh random key; the page's host script sends it in
`SCENARIO_HEADER` on the calls it makes through the linked-service proxy, the proxy forwards it to an
in-process fake, and the fake applies what the scenario set (faults) for that key only. A call with no key,
or a key the fake does not hold (a plan's, another tab's, an expired one), sees the fake as it is.

`ScenarioKeys` holds what the keys stand for, bounded: at most `cap` keys, each forgotten `ttl` seconds of
wall time after it was last set or used, the least recently used going first when full, so rendering pages
in a loop cannot grow memory without bound. Fakes import this from the kernel (they import nothing else of
the emulator).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

SCENARIO_HEADER = "X-Operate-Scenario"  # the emulator's own header, never forwarded to a real service
MAX_KEYS = 256  # pages with a scenario of their own at once, per fake
KEY_TTL_SECONDS = 4 * 3600.0  # a page left open this long without a call falls back to the shared state
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")

V = TypeVar("V")


def new_key() -> str:
    """A fresh key for one page: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def valid_key(value: object) -> str | None:
    """The key when `value` is one (16-64 URL-safe characters), else None: anything else is no key."""
    return value if isinstance(value, str) and _KEY.fullmatch(value) else None


class ScenarioKeys(Generic[V]):
    """Values by scenario key, bounded in number and in time (see the module's docstring); thread-safe."""

    def __init__(
        self, cap: int = MAX_KEYS, ttl: float = KEY_TTL_SECONDS, now: Callable[[], float] = time.monotonic
    ) -> None:
        if cap < 1 or ttl <= 0:
            raise ValueError("a ScenarioKeys needs cap >= 1 and ttl > 0")
        self.cap = cap
        self.ttl = ttl
        self._now = now
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (used, _) = next(iter(self._entries.items()))
            if now - used < self.ttl:
                break
            del self._entries[key]

    def put(self, key: str, value: V) -> None:
        """Keep `value` for `key` (replacing what it had), forgetting the least recently used key when full."""
        if valid_key(key) is None:
            raise ValueError("a scenario key is 16-64 URL-safe characters (scenario_keys.new_key() makes one)")
        with self._lock:
            now = self._now()
            self._expire(now)
            self._entries.pop(key, None)
            self._entries[key] = (now, value)
            while len(self._entries) > self.cap:
                self._entries.popitem(last=False)

    def get(self, key: object) -> V | None:
        """The value held for `key` (its use keeps it), or None: no key, not one of ours, or expired."""
        found = valid_key(key)
        if found is None:
            return None
        with self._lock:
            now = self._now()
            self._expire(now)
            entry = self._entries.pop(found, None)
            if entry is None:
                return None
            self._entries[found] = (now, entry[1])
            return entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._now())
            return len(self._entries)
