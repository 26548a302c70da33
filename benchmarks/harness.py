"""What every benchmark area shares: figures and their one-line format, timing, a served emulator.

Goals are printed as met or not, never asserted: timings belong to the machine, not to the code.
Everything talks to 127.0.0.1 only, and every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

LOOPBACK = "127.0.0.1"
CLIENT_ID = "demo-client"
CLIENT_SECRET = "demo-secret"  # the demo solution's published client, not a secret
HEALTH_PATH = "/api/_emulator/health"

START_TIMEOUT_S = 30.0  # from spawn to a healthy server, generous for a loaded CI box
STOP_TIMEOUT_S = 5.0  # after SIGTERM, and again after kill
HTTP_TIMEOUT_S = 10.0  # any one request
HEALTH_POLL_INTERVAL_S = 0.002
MAX_HEALTH_POLLS = 5_000  # a hard bound on the poll loop, besides its deadline

_READY = re.compile(r"ready on (http://\S+)")
_ERRORED = re.compile(r"^execution .*: ERRORED\b")  # the line `operate serve` prints for an execution that errored

QUICK = False  # `python -m benchmarks --quick`: one run, and areas that can shrink their sizes do


def quick() -> bool:
    """Whether this is a smoke run (`--quick`): it proves the area works, its figures mean little."""
    return QUICK


class BenchmarkError(RuntimeError):
    """A benchmark could not measure (server did not start, wrong status): not a slow result."""


def needs(*modules: str, area: str) -> None:
    """An area that needs an optional package (pytest-xdist, playwright) says which extra brings it, in one
    line, before it measures anything."""
    from emulator.extras import MissingExtra, need

    for module in modules:
        try:
            need(module, f"python -m benchmarks {area}", from_clone=True)
        except MissingExtra as exc:
            raise BenchmarkError(str(exc)) from None


@dataclass(frozen=True)
class Goal:
    """A target from the design, in the figure's own unit."""

    limit: float
    below: bool = True  # True: the figure should stay under the limit (a time); False: above it (a rate)

    def met(self, value: float) -> bool:
        return value < self.limit if self.below else value > self.limit

    def describe(self, unit: str) -> str:
        return f"goal {'<' if self.below else '>'} {self.limit:g} {unit}"


@dataclass(frozen=True)
class Figure:
    """One printed line: the median of per-run samples, with min and max to show the spread."""

    label: str
    unit: str
    samples: Sequence[float]
    goal: Goal | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def line(self, label_width: int = 58) -> str:
        text = (
            f"{self.label:<{label_width}} {_num(self.median):>9} {self.unit:<3}"
            f"  (min {_num(min(self.samples))}, max {_num(max(self.samples))}; {_runs(len(self.samples))})"
        )
        if self.goal is not None:
            verdict = "met" if self.goal.met(self.median) else "NOT met"
            text += f"  {self.goal.describe(self.unit)}: {verdict}"
        if self.note:
            text += f"  [{self.note}]"
        return text


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def _num(value: float) -> str:
    """Three or so significant digits: enough to compare runs, few enough to read."""
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def mean_ms(operation: Callable[[], object], count: int) -> float:
    """Mean wall time of `count` calls, in ms: cheap operations are timed as a batch, not one by one."""
    start = time.perf_counter()
    for _ in range(count):
        operation()
    return (time.perf_counter() - start) * 1000 / count


def http_client(base_url: str = "") -> httpx.Client:
    """A keep-alive client that ignores proxy settings from the environment, so loopback stays loopback."""
    return httpx.Client(base_url=base_url, trust_env=False, timeout=HTTP_TIMEOUT_S)


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise BenchmarkError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}, "
            f"expected {status}: {response.text[:300]}"
        )
    return response


def bearer_token(client: httpx.Client, base_url: str) -> str:
    """A client-credentials token for the demo client, as a real caller would get one."""
    response = client.post(
        f"{base_url}/connect/token",
        data={"grant_type": "client_credentials", "scope": "sharedo"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    return expect(response, 200).json()["access_token"]


class ServeProcess:
    """One `operate serve --demo --port 0` child: its URL read from stdout, stopped with SIGTERM.

    Run through `sys.executable -m emulator.cli` so the benchmark measures this interpreter and
    this checkout, whatever `operate` on PATH happens to be.
    """

    def __init__(self, data_dir: Path, log_path: Path, extra_args: Sequence[str] = ()) -> None:
        command = [
            sys.executable, "-m", "emulator.cli", "serve", "--demo",
            "--host", LOOPBACK, "--port", "0", "--data-dir", str(data_dir), *extra_args,
        ]  # fmt: skip
        self.log_path = log_path
        # stderr (werkzeug's request log) goes to a file: an undrained pipe would stall the server.
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._read_stdout, name="serve-stdout", daemon=True)
        self._pump.start()
        self.killed = False  # set when SIGTERM was not enough
        self.errored: list[str] = []  # `execution ...: ERRORED` lines: a benchmark that measured failures

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        with contextlib.suppress(ValueError, OSError):
            for line in self.proc.stdout:
                if _ERRORED.match(line):
                    self.errored.append(line.strip())
                self._lines.put(line)
        self._lines.put(None)

    def check_no_errored(self) -> None:
        """Raise when a plan execution in this server errored (the server prints one line for each)."""
        if self.errored:
            raise BenchmarkError(
                f"{len(self.errored)} plan execution(s) ERRORED in operate serve, first: {self.errored[0]}"
            )

    def wait_url(self, deadline: float) -> str:
        """The URL from the "ready on" line; by then the socket is already listening."""
        while (remaining := deadline - time.perf_counter()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise BenchmarkError(f"operate serve exited ({self.proc.poll()}) before it was ready{self._tail()}")
            match = _READY.search(line)
            if match:
                url = match.group(1)
                if not url.startswith(f"http://{LOOPBACK}:"):
                    raise BenchmarkError(f"operate serve is not on loopback: {url}")
                return url
        raise BenchmarkError(f"operate serve printed no URL within {START_TIMEOUT_S:.0f} s{self._tail()}")

    def _tail(self) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            text = self.log_path.read_text("utf-8", errors="replace").strip()
            if text:
                return ":\n" + "\n".join(text.splitlines()[-15:])
        return ""

    def stop(self) -> None:
        """SIGTERM (the CLI's clean shutdown), then kill if it lingers; both waits bounded. Idempotent."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(STOP_TIMEOUT_S)
                print(f"benchmarks: operate serve (pid {self.proc.pid}) ignored SIGTERM; killed", file=sys.stderr)
        self._pump.join(STOP_TIMEOUT_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_healthy(client: httpx.Client, base_url: str, deadline: float) -> None:
    """Poll the open health route until the first 200, within the deadline and a fixed number of tries."""
    last = "no answer"
    for _ in range(MAX_HEALTH_POLLS):
        try:
            response = client.get(f"{base_url}{HEALTH_PATH}")
            if response.status_code == 200:
                return
            last = f"status {response.status_code}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        if time.perf_counter() >= deadline:
            break
        time.sleep(HEALTH_POLL_INTERVAL_S)
    raise BenchmarkError(f"{base_url}{HEALTH_PATH} never answered 200 ({last})")


@contextlib.contextmanager
def served_emulator(extra_args: Sequence[str] = ()) -> Iterator[str]:
    """A served demo emulator in a throwaway data dir, for areas that measure over HTTP; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="operate-bench-") as tmp:
        root = Path(tmp)
        with ServeProcess(root / "data", root / "serve.log", extra_args) as server, http_client() as probe:
            deadline = time.perf_counter() + START_TIMEOUT_S
            url = server.wait_url(deadline)
            wait_healthy(probe, url, deadline)
            yield url
            server.stop()  # its last lines are read: an execution that errored at the end counts too
            server.check_no_errored()
