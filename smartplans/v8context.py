"""A mini-racer context that closes quietly: its asyncio loop outlives the V8 context it serves.

`MiniRacer()` makes its own loop and, on close, stops and closes that loop *before* it frees the V8
context. A step stopped at its CPU-time limit (a promise callback that never ends, a spinning callback
between replays) leaves V8 work that is cancelled, not finished; its completion reaches Python while
the context is freed, and lands on a closed loop: `RuntimeError: Event loop is closed` in a ctypes
callback, printed as an unraisable exception long after the step (at garbage collection or exit).

Here the loop is ours: the V8 context is freed first, while the loop still runs and can take (and
drop) what a cancelled task sends back, then the loop is stopped and closed. Make and close a
`V8Context` on one thread (smartplans.runtime.Runtime's owner thread): V8 wants that.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from contextlib import AbstractContextManager
from types import TracebackType

from py_mini_racer import MiniRacer, mini_racer


class V8Context:
    """One V8 context (`.mr`, a MiniRacer) and the event loop it calls back on; `close()` or `with`. One
    never closed is closed when it is garbage-collected (as a MiniRacer is), not at interpreter exit."""

    def __init__(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_run_loop, args=(loop,), name="operate-v8-loop", daemon=True)
        thread.start()
        maker: AbstractContextManager[MiniRacer] = mini_racer(loop)
        try:
            self.mr: MiniRacer = maker.__enter__()
        except BaseException:
            _stop_loop(loop, thread)
            raise
        self._finalizer = weakref.finalize(self, _close, maker, loop, thread)
        self._finalizer.atexit = False

    def close(self) -> None:
        """Free the V8 context, then stop its loop: nothing V8 still sends finds the loop closed."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> V8Context:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _close(maker: AbstractContextManager[MiniRacer], loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    try:
        maker.__exit__(None, None, None)  # mr_free_context: a cancelled task's last callback lands on a live loop
    finally:
        _stop_loop(loop, thread)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(loop.stop)
    if thread is threading.current_thread():
        return  # collected on the loop's own thread: the loop stops once this callback returns
    thread.join()
    loop.close()
