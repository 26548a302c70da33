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
from contextlib import AbstractContextManager
from types import TracebackType

from py_mini_racer import MiniRacer, mini_racer


class V8Context:
    """One V8 context (`.mr`, a MiniRacer) and the event loop it calls back on; `close()` or `with`."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="operate-v8-loop", daemon=True)
        self._thread.start()
        self._maker: AbstractContextManager[MiniRacer] | None = mini_racer(self._loop)
        try:
            self.mr: MiniRacer = self._maker.__enter__()
        except BaseException:
            self._maker = None
            self._stop_loop()
            raise

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def close(self) -> None:
        """Free the V8 context, then stop its loop: nothing V8 still sends finds the loop closed."""
        maker, self._maker = self._maker, None
        if maker is None:
            return
        try:
            maker.__exit__(None, None, None)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    @property
    def closed(self) -> bool:
        return self._maker is None

    def __enter__(self) -> V8Context:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
