"""V8 through mini-racer: one warm context holding the host globals and every loaded plan.

Per-execution state crosses as JSON arguments, never as JS globals, so one context serves every
execution. A step runs under a CPU-time limit and a heap limit; hitting either fails that step
only. After a heap-limit stop the context is replaced (V8 keeps the limit flag set), and the
plans are loaded again from their sources.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException, MiniRacer

from .v8context import V8Context

if TYPE_CHECKING:
    from .coverage.recorder import PlanCoverage

DEFAULT_CPU_SECONDS = 5.0
DEFAULT_HEAP_MB = 64
DEFAULT_LOG_LINES = 1_000  # [limits] log_lines_per_step: a step keeps its first lines and says how many it dropped
DEFAULT_TEXT_KB = 64  # [limits] text_kb: one error message, stack or log line; the start is kept, the cut said
DEFAULT_CTX_KB = 1_024  # [limits] ctx_kb: the ctx a step leaves; a larger one errors the step
# A run this long may have allocated a lot; collecting after it costs little beside it (a trivial step
# takes well under a millisecond and is never followed by a collection).
HEAVY_RUN_SECONDS = 0.01


class PlanLoadError(ValueError):
    """A plan that does not compile or does not return a map of steps; says file and line."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = DEFAULT_CPU_SECONDS
    heap_mb: int = DEFAULT_HEAP_MB
    log_lines: int = DEFAULT_LOG_LINES
    text_kb: int = DEFAULT_TEXT_KB
    ctx_kb: int = DEFAULT_CTX_KB


@dataclass
class StepResult:
    """What one attempt of one step came to: completed, needs a host call, or failed."""

    status: str  # "completed" | "host-call" | "error"
    ctx: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    request: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def plan_globals_source() -> str:
    return resources.files("smartplans").joinpath("plan_globals.js").read_text("utf-8")


class Runtime:
    """V8 contexts are made and closed on one owner thread: closing a context from another thread than
    the one that made it can crash the process. Calls may come from any thread (mini-racer hops)."""

    def __init__(self, coverage: PlanCoverage | None = None) -> None:
        """`coverage`: instrument each plan as it loads and count what every step's last run executed
        (smartplans/coverage/); off (None) unless asked for, as it costs time."""
        self.coverage = coverage
        self.heavy_run_seconds = HEAVY_RUN_SECONDS  # a run this long is followed by a collection
        self._lock = threading.RLock()
        self._mr: MiniRacer | None = None
        self._v8: V8Context | None = None  # owns _mr and its event loop (closed in that order)
        self._owner: ThreadPoolExecutor | None = None
        self._sources: dict[str, tuple[str, str]] = {}  # key -> (source, url)
        self.crossings = 0  # calls into V8, for the benchmark's "k host calls cost k+1 crossings"
        self.recorded_sent = 0  # recorded host calls handed to V8: linear in k when each is sent once
        self.replaced_for_intrinsics = 0  # contexts replaced because a step changed built-ins beyond repair
        self._baseline = 0  # bytes the runtime itself holds (host, loaded plans), not charged to a step

    def _on_owner(self, fn: Any) -> Any:
        if self._owner is None:
            self._owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="operate-v8")
        return self._owner.submit(fn).result()

    def _context(self) -> MiniRacer:
        if self._mr is None:

            def make() -> V8Context:
                v8 = V8Context()
                try:
                    v8.mr.eval(plan_globals_source() + "\n//# sourceURL=operate-host.js")
                except BaseException:
                    v8.close()
                    raise
                return v8

            self._v8 = self._on_owner(make)
            self._mr = self._v8.mr
            for key, (source, url) in self._sources.items():
                self._call("__operate.load", key, source, url)
            self._call_for_text("__operate.drain", timeout_sec=DEFAULT_CPU_SECONDS, max_memory=None)
            self._measure_baseline()
        return self._mr

    def _measure_baseline(self) -> None:
        """What the context holds after a full collection: a step's heap limit comes on top of it, so a
        plan is charged neither for the other plans loaded beside it nor for an earlier step's garbage."""
        self._mr.low_memory_notification()  # type: ignore[union-attr]
        self._baseline = int(self._mr.heap_stats()["used_heap_size"])  # type: ignore[union-attr]

    def _max_memory(self, limits: Limits) -> int:
        return self._baseline + limits.heap_mb * 1024 * 1024

    def _call(self, fn: str, *args: Any, timeout_sec: float | None = None, max_memory: int | None = None) -> Any:
        self.crossings += 1
        return self._mr.call(fn, *args, timeout_sec=timeout_sec, max_memory=max_memory)  # type: ignore[union-attr]

    def _call_for_text(self, fn: str, *args: Any, timeout_sec: float, max_memory: int) -> Any:
        """A call whose JS side returns a string or number: `eval` hands it back as it is, where `call`
        would stringify the result once more in V8 (with the plan-reachable global JSON) and parse it here."""
        self.crossings += 1
        source = f"{fn}({json.dumps(args, separators=(',', ':'))[1:-1]})"
        return self._mr.eval(source, timeout_sec=timeout_sec, max_memory=max_memory)  # type: ignore[union-attr]

    def _check_intrinsics(self) -> str:
        """After a plan's top-level code ran: put back the shared built-ins; what could not be, named (then
        the context is replaced, so no other plan sees it)."""
        lost = self._call_for_text("__operate.drain", timeout_sec=DEFAULT_CPU_SECONDS, max_memory=None)
        if lost:
            self.replaced_for_intrinsics += 1
            self._replace_context()
        return str(lost)

    def load(self, key: str, source: str, url: str) -> list[str]:
        """Compile a plan (its text is a function body ending in `return {main: main, ...}`)."""
        with self._lock:
            self._context()
            if self.coverage is not None:
                source = self.coverage.instrument(source, url)
            try:
                names = self._call(
                    "__operate.load",
                    key,
                    source,
                    url,
                    timeout_sec=DEFAULT_CPU_SECONDS,
                    max_memory=self._max_memory(Limits()),
                )
            except JSTimeoutException:
                raise PlanLoadError(f"{url}: loading the plan did not finish within {DEFAULT_CPU_SECONDS} s") from None
            except JSOOMException:
                self._replace_context()
                raise PlanLoadError(f"{url}: loading the plan passed the heap limit of {DEFAULT_HEAP_MB} MB") from None
            except JSEvalException as exc:
                self._check_intrinsics()
                raise PlanLoadError(_first_lines(str(exc), url)) from None
            lost = self._check_intrinsics()
            if lost:
                raise PlanLoadError(f"{url}: the plan's top-level code changed built-ins other plans share: {lost}")
            self._sources[key] = (source, url)
            if self.coverage is not None:  # what the plan's top-level code ran as it loaded
                taken = self._call_for_text("__operate.takeCoverage", timeout_sec=DEFAULT_CPU_SECONDS, max_memory=None)
                self.coverage.add(json.loads(taken))
            self._measure_baseline()
            return list(names)

    def is_loaded(self, key: str) -> bool:
        return key in self._sources

    def run_step(self, key: str, step: str, payload: dict[str, Any], limits: Limits) -> StepResult:
        self.recorded_sent += len(payload.get("recorded") or ())
        with self._lock:
            self._context()
            started = time.perf_counter()
            try:
                raw = self._call_for_text(
                    "__operate.runJson",
                    key,
                    step,
                    {
                        **payload,
                        "heapBytes": limits.heap_mb * 1024 * 1024,  # buffers are charged against it
                        "logLines": limits.log_lines,
                        "textChars": limits.text_kb * 1024,
                        "coverage": self.coverage is not None,
                    },
                    timeout_sec=limits.cpu_seconds,
                    max_memory=self._max_memory(limits),
                )
                if '"status":"host-call"' not in raw[:40]:  # the step is over: what it queued runs now, or never
                    left = max(limits.cpu_seconds - (time.perf_counter() - started), 0.001)
                    try:
                        lost = self._call_for_text(
                            "__operate.drain", timeout_sec=left, max_memory=self._max_memory(limits)
                        )
                    except (JSTimeoutException, JSOOMException):
                        self._replace_context()  # nothing the step queued may run on into another step
                        return StepResult("error", error=_outlived(step, limits))
                    if lost:  # built-ins the step changed beyond putting back: the next step gets a new context
                        self.replaced_for_intrinsics += 1
                        self._replace_context()
                    # Only once the step is over: between replays a callback the step queued may be running
                    # with no time limit, and the untimed heap calls would wait for it for ever.
                    if time.perf_counter() - started > self.heavy_run_seconds:
                        self._measure_baseline()  # it may have left garbage: the next step starts from a collected heap
            except JSTimeoutException:
                # What was stopped may have been work an earlier run queued (a promise callback that spins):
                # a fresh context, so nothing of it is left to run into another plan's step.
                self._replace_context()
                return StepResult(
                    "error",
                    error={
                        "message": f"step {step!r} was stopped at its CPU-time limit of {limits.cpu_seconds:g} s",
                        "limit": "cpu",
                        "stack": None,
                    },
                )
            except JSOOMException:
                self._replace_context()
                return StepResult(
                    "error",
                    error={
                        "message": f"step {step!r} was stopped at its heap limit of {limits.heap_mb} MB",
                        "limit": "heap",
                        "stack": None,
                    },
                )
            except JSEvalException as exc:
                self._replace_context()  # the protocol itself failed: nothing of the step may be left
                return StepResult("error", error={"message": str(exc).splitlines()[0], "stack": str(exc)})
        data = json.loads(raw)
        if self.coverage is not None and data["status"] in ("completed", "error"):
            self.coverage.add(data.get("coverage") or {})
            url = self._sources.get(key, ("", ""))[1]
            self.coverage.step_ran(url, step, [t.get("step") for t in data.get("triggers") or ()])
        if data.get("error") and data["error"].get("stack"):
            data["error"]["stack"] = _plan_frames(data["error"]["stack"])
        return StepResult(
            data["status"],
            ctx=data.get("ctx") or {},  # with a host call: the ctx at that moment, when the payload asked for snapshots
            logs=data.get("logs") or [],
            triggers=data.get("triggers") or [],
            request=data.get("request"),
            error=data.get("error"),
        )

    def globals(self) -> dict[str, list[str]]:
        with self._lock:
            self._context()
            return json.loads(self._mr.eval("JSON.stringify(__operate.globals())"))  # type: ignore[union-attr]

    def _replace_context(self) -> None:
        old, self._v8, self._mr = self._v8, None, None
        if old is not None:
            self._on_owner(old.close)
        self._context()

    def close(self) -> None:
        """Free the V8 context and its loop (smartplans/v8context.py says why the order matters)."""
        with self._lock:
            if self._v8 is not None:
                self._on_owner(self._v8.close)
                self._v8, self._mr = None, None
            if self._owner is not None:
                self._owner.shutdown(wait=True)
                self._owner = None

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def cut(text: str, limit_kb: int) -> str:
    """The start of a text too long to store, and how much was cut (a plan may throw or log 50 MB)."""
    limit = limit_kb * 1024
    if len(text) <= limit:
        return text
    more = len(text) - limit
    return f"{text[:limit]}… [cut: {more} more characters; the limit is {limit} ([limits] text_kb in operate.toml)]"


def _outlived(step: str, limits: Limits) -> dict[str, Any]:
    return {
        "message": f"step {step!r} queued work (a promise callback) that was still running at its CPU-time limit "
        f"of {limits.cpu_seconds:g} s; a step's work must finish within the step",
        "limit": "cpu",
        "stack": None,
    }


def _first_lines(message: str, url: str) -> str:
    """V8 names a compile error's script `undefined`; name the plan file instead."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    head = " ".join(lines[:2]) if lines else "the plan does not compile"
    if head.startswith("undefined:"):
        head = url + head[len("undefined") :]
    return head if url in head else f"{url}: {head}"


def _plan_frames(stack: str) -> str:
    """Keep the error line and the frames in plan files; drop the host's and the harness's."""
    lines = stack.splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if "operate-host.js" not in line and "<anonymous>" not in line]
    return "\n".join(kept)
