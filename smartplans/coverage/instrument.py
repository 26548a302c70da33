"""Istanbul's instrumenter, in a V8 context of its own.

Never the plans' context: Babel is 1.2 MB of code no plan should reach, and instrumenting must not count
against a step's limits. Instrumenting a plan takes tens of milliseconds, so each (url, source) is done once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

from py_mini_racer import JSEvalException

from ..v8context import V8Context

COVERAGE_VARIABLE = "__operate_coverage__"  # the plans' context defines it (smartplans/plan_globals.js)
BUNDLE = "istanbul-instrument.js"


class InstrumentError(ValueError):
    """A plan Istanbul could not parse; the plan then loads as it is and V8 reports the error itself."""


@dataclass(frozen=True)
class Instrumented:
    code: str
    file_coverage: dict[str, Any]  # Istanbul's FileCoverage: path, hash, statementMap, fnMap, branchMap, s, f, b


def bundle_source() -> str:
    return resources.files("smartplans.coverage").joinpath("instrumenter", BUNDLE).read_text("utf-8")


class Instrumenter:
    """Made on first use, closed with `close()`. Callable from any thread; its V8 context is made, used and
    closed on one owner thread, as smartplans/runtime.py's is (V8 wants that)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: ThreadPoolExecutor | None = None
        self._v8: V8Context | None = None
        self._done: dict[tuple[str, str], Instrumented] = {}

    def instrument(self, source: str, url: str) -> Instrumented:
        key = (url, hashlib.sha256(source.encode("utf-8")).hexdigest())
        with self._lock:
            if key not in self._done:
                if self._owner is None:
                    self._owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="operate-instrumenter")
                self._done[key] = self._owner.submit(self._instrument, source, url).result()
            return self._done[key]

    def _instrument(self, source: str, url: str) -> Instrumented:
        if self._v8 is None:
            self._v8 = V8Context()
            self._v8.mr.eval(bundle_source())
        args = ", ".join(json.dumps(a) for a in (source, url, COVERAGE_VARIABLE))
        try:
            out = json.loads(
                self._v8.mr.eval(f"JSON.stringify(OperateInstrumenter.instrument({args}))", timeout_sec=60)
            )
        except JSEvalException as exc:
            raise InstrumentError(f"{url}: cannot be instrumented: {str(exc).splitlines()[0]}") from None
        return Instrumented(out["code"], out["coverage"])

    def close(self) -> None:
        with self._lock:
            if self._owner is not None:
                if self._v8 is not None:
                    self._owner.submit(self._v8.close).result()
                    self._v8 = None
                self._owner.shutdown(wait=True)
                self._owner = None
