"""Executions take turns, one step each: a plan that schedules itself step after step holds up no other.

Inline (tests, `operate run`): whoever drives runs the queue on its own thread until it is empty, so a
call returns only when every execution it set off has settled. Background (`operate serve`): a worker
thread runs the queue, and the dispatcher only queues, so the next event's executions take their turns
beside a long one instead of after it.

A step that waits on a host call (a slow PMS behind the proxy) lets go of the queue while it waits
(`released`): V8 and the store's writes stay one step at a time, only the HTTP calls overlap. In the
background another worker is started then (up to `host_calls_in_flight`, and gone again when the queue
is empty), so executions of other work items take their turns meanwhile. One work item's steps never
overlap: a turn whose work item has a step under way waits, and its turns keep their order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("operate.smartplans")

# Runs one step of an execution (the given first attempt, or its next queued step); True while more are queued.
StepOnce = Callable[[str, Any], bool]
# The work item an execution belongs to (None: it belongs to none, and is its own).
KeyOf = Callable[[str, Any], "str | None"]
DEFAULT_HOST_CALLS_IN_FLIGHT = 128  # [limits] host_calls_in_flight: workers waiting on host calls at once


class Superseded(BaseException):
    """A reset or import replaced the store while this turn's host call was in flight: the turn is dropped
    without a write (not an Exception, so the engine does not mistake it for the execution's failure)."""


class RunQueue:
    def __init__(
        self, step_once: StepOnce, *, key_of: KeyOf | None = None, workers: int = DEFAULT_HOST_CALLS_IN_FLIGHT
    ) -> None:
        self._step_once = step_once
        self._key_of = key_of
        self.max_workers = max(1, workers)
        self._lock = threading.RLock()  # held while a step runs: V8 and the step's writes are one at a time
        self._turns: deque[tuple[str, Any]] = deque()
        self._active: set[str] = set()  # queued or running now
        self._again: set[str] = set()  # driven again while its step ran: it gets another turn
        self._keys: dict[str, str] = {}  # execution -> its work item (while active), background only
        self._busy: set[str] = set()  # work items with a turn under way
        self._changed = threading.Condition()
        self._local = threading.local()
        self._worker: threading.Thread | None = None
        self._helpers: set[threading.Thread] = set()
        self._idle = 0  # workers waiting for a turn, or for the queue to take one
        self._epoch = 0  # moved on by `paused`: a turn that let go of the queue sees the store was replaced
        self._stopping = False
        self._abandoned = False  # stop gave up waiting: a call that returns now must not touch V8 or the store
        self.in_flight_peak = 0  # most turns let go at once (waiting on host calls), for tests and benchmarks
        self._in_flight = 0

    @property
    def background(self) -> bool:
        return self._worker is not None

    def add(self, execution_id: str, first: Any = None, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Give an execution turns until it has no queued step. Inline, the queue runs here (unless this
        thread is already running it, or holding it); in the background, `wait` waits for it."""
        key = None
        if self.background and execution_id not in self._keys:
            key = (self._key_of(execution_id, first) if self._key_of else None) or execution_id
        with self._changed:
            if execution_id in self._active:
                self._again.add(execution_id)
            else:
                self._active.add(execution_id)
                self._turns.append((execution_id, first))
                if key is not None:
                    self._keys[execution_id] = key
            self._changed.notify_all()
        if getattr(self._local, "holding", 0):
            return  # the holder runs them (inline) or has them run (background) without waiting
        if not self.background:
            self.run()
        elif wait and not getattr(self._local, "running", False):  # a worker (a step's host call) never waits
            self._wait_for(execution_id, timeout)

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Queue without running until the block ends: the executions one event starts all take turns."""
        self._local.holding = getattr(self._local, "holding", 0) + 1
        try:
            yield
        finally:
            self._local.holding -= 1
        if not self._local.holding and not self.background:
            self.run()

    def run(self) -> None:
        """Take turns until the queue is empty. A nested call (a step's own commit) returns at once."""
        if getattr(self._local, "running", False):
            return
        self._local.running = True
        try:
            while True:
                with self._changed:
                    self._idle += 1
                try:
                    self._lock.acquire()  # taken per turn: a reset waits for one step, not for the whole queue
                finally:
                    with self._changed:
                        self._idle -= 1
                try:
                    if not self._turn():
                        return
                finally:
                    self._lock.release()
        finally:
            self._local.running = False

    @contextmanager
    def released(self) -> Iterator[None]:
        """Around a host call of the step this thread runs: others take turns while it waits (in the
        background, on another worker, started if none is free). Inline, or outside a turn, it holds on."""
        if not (self.background and getattr(self._local, "turn", False)):
            yield
            return
        epoch = self._epoch
        with self._changed:
            self._in_flight += 1
            self.in_flight_peak = max(self.in_flight_peak, self._in_flight)
            self._more_hands()
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            with self._changed:
                self._in_flight -= 1
            if epoch != self._epoch or self._abandoned:
                raise Superseded()

    def _more_hands(self) -> None:
        """A worker for the turns waiting, if none is idle and the bound allows (under `_changed`)."""
        if self._stopping or self._idle or not self._turns:
            return
        if 1 + len(self._helpers) >= self.max_workers:
            return
        helper = threading.Thread(target=self._help, name="operate-plans-helper", daemon=True)
        self._helpers.add(helper)
        helper.start()

    def _help(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("a plan run queue helper failed")
        finally:
            with self._changed:
                self._helpers.discard(threading.current_thread())
                self._changed.notify_all()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """While reset or import replaces the store: no step runs, and the turns queued for the old
        state are dropped (what the new state holds RUNNING is resumed on the next start); a turn whose
        host call is in flight is dropped when the call returns."""
        with self._lock:
            with self._changed:
                self._epoch += 1
                self._turns.clear()
                self._active.clear()
                self._again.clear()
                self._keys.clear()
                self._busy.clear()
                self._changed.notify_all()
            yield

    def _next(self) -> tuple[str, Any, str | None] | None:
        """The first turn whose work item has no step under way (under `_changed`)."""
        for i, (execution_id, first) in enumerate(self._turns):
            key = self._keys.get(execution_id)
            if key is None or key not in self._busy:
                del self._turns[i]
                if key is not None:
                    self._busy.add(key)
                return execution_id, first, key
        return None

    def _turn(self) -> bool:
        with self._changed:
            if self._stopping:
                return False  # stopping: what is left is RUNNING or QUEUED in the store, resumed on restart
            picked = self._next()
            if picked is None:
                return False  # empty, or every waiting turn's work item has a step under way elsewhere
            execution_id, first, key = picked
            epoch = self._epoch
        more = False
        self._local.turn = True
        try:
            more = self._step_once(execution_id, first)
        except Superseded:
            return True
        finally:
            self._local.turn = False
            with self._changed:
                if epoch == self._epoch:
                    if key is not None:
                        self._busy.discard(key)
                    if more or execution_id in self._again:
                        self._again.discard(execution_id)
                        self._turns.append((execution_id, None))
                    else:
                        self._active.discard(execution_id)
                        self._keys.pop(execution_id, None)
                self._changed.notify_all()
        return True

    def _wait_for(self, execution_id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while execution_id in self._active and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return  # the caller reads the execution as it is now (still RUNNING)
                self._changed.wait(left)

    # -- background -----------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = self._abandoned = False
        self._worker = threading.Thread(target=self._work, name="operate-plans", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        worker, self._stopping = self._worker, True
        with self._changed:
            self._changed.notify_all()
            helpers = list(self._helpers)
        deadline = time.monotonic() + 10
        for thread in [worker, *helpers]:
            if thread is not None:
                thread.join(timeout=max(deadline - time.monotonic(), 0.01))
        # A turn still waiting on its host call is dropped when the call returns (its step stays RUNNING in
        # the store and runs again on the next start); one that returned in time finished its step.
        self._abandoned = True
        self._worker = None

    def _work(self) -> None:
        while not self._stopping:
            with self._changed:
                self._idle += 1
                try:
                    while not self._stopping and not self._ready():
                        self._changed.wait(1.0)
                finally:
                    self._idle -= 1
            try:
                self.run()
            except Exception:  # step_once ends its own failures; this is the queue's own, so keep serving
                log.exception("the plan run queue failed; going on")

    def _ready(self) -> bool:
        """A turn this worker could take now (under `_changed`)."""
        return any(self._keys.get(e) not in self._busy for e, _ in self._turns)
