"""Executions take turns, one step each: a plan that schedules itself step after step holds up no other.

Inline (tests, `operate run`): whoever drives runs the queue on its own thread until it is empty, so a
call returns only when every execution it set off has settled. Background (`operate serve`): one worker
thread runs the queue, and the dispatcher only queues, so the next event's executions take their turns
beside a long one instead of after it.
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


class RunQueue:
    def __init__(self, step_once: StepOnce) -> None:
        self._step_once = step_once
        self._lock = threading.RLock()  # held while a step runs: V8 and the step's writes are one at a time
        self._turns: deque[tuple[str, Any]] = deque()
        self._active: set[str] = set()  # queued or running now
        self._again: set[str] = set()  # driven again while its step ran: it gets another turn
        self._changed = threading.Condition()
        self._local = threading.local()
        self._worker: threading.Thread | None = None
        self._stopping = False

    @property
    def background(self) -> bool:
        return self._worker is not None

    def add(self, execution_id: str, first: Any = None, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Give an execution turns until it has no queued step. Inline, the queue runs here (unless this
        thread is already running it, or holding it); in the background, `wait` waits for it."""
        with self._changed:
            if execution_id in self._active:
                self._again.add(execution_id)
            else:
                self._active.add(execution_id)
                self._turns.append((execution_id, first))
            self._changed.notify_all()
        if getattr(self._local, "holding", 0):
            return  # the holder runs them (inline) or has them run (background) without waiting
        if not self.background:
            self.run()
        elif wait and threading.current_thread() is not self._worker:
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
                with self._lock:  # taken per turn: a reset waits for one step, not for the whole queue
                    if not self._turn():
                        return
        finally:
            self._local.running = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """While reset or import replaces the store: no step runs, and the turns queued for the old
        state are dropped (what the new state holds RUNNING is resumed on the next start)."""
        with self._lock:
            with self._changed:
                self._turns.clear()
                self._active.clear()
                self._again.clear()
                self._changed.notify_all()
            yield

    def _turn(self) -> bool:
        with self._changed:
            if not self._turns or self._stopping:
                return False  # stopping: what is left is RUNNING or QUEUED in the store, resumed on restart
            execution_id, first = self._turns.popleft()
        more = False
        try:
            more = self._step_once(execution_id, first)
        finally:
            with self._changed:
                if more or execution_id in self._again:
                    self._again.discard(execution_id)
                    self._turns.append((execution_id, None))
                else:
                    self._active.discard(execution_id)
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
        self._stopping = False
        self._worker = threading.Thread(target=self._work, name="operate-plans", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        worker, self._stopping = self._worker, True
        with self._changed:
            self._changed.notify_all()
        if worker is not None:
            worker.join(timeout=10)
        self._worker = None

    def _work(self) -> None:
        while not self._stopping:
            with self._changed:
                while not self._turns and not self._stopping:
                    self._changed.wait(1.0)
            try:
                self.run()
            except Exception:  # step_once ends its own failures; this is the queue's own, so keep serving
                log.exception("the plan run queue failed; going on")
