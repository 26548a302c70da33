"""How the fake Clio sends webhook requests (handshakes and deliveries): off the request path, in order.

A change in the fake queues a job and returns at once; one worker thread (started on the first job) posts
each job to its URL with httpx, retrying a failure a bounded number of times after short waits (wall time:
Clio retries with exponential backoff, §11; the fake's waits are seconds, not Clio's minutes). Nothing
goes off this machine unless the backend was built with `allow_remote_webhooks=True`: a URL whose host is
not loopback is refused, and the refusal is recorded. Every attempt is one `Delivery` in `deliveries`, for
tests; `wait_idle()` returns when every queued job has settled, so a test never sleeps.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from emulator.kernel.clock import Clock
from emulator.kernel.http_server import is_loopback_host

from . import seed

RETRY_DELAYS = (1.0, 4.0)  # [inferred] seconds before the 2nd and 3rd attempt; then the job is given up
TIMEOUT = 5.0  # [inferred] "Clio will wait a short period of time before the request will timeout" (§11)
MAX_DELIVERIES_KEPT = 10_000  # the log of attempts is bounded too
IDLE_WAIT = 30.0  # seconds `wait_idle()` waits by default


@dataclass(frozen=True)
class Delivery:
    """One attempt: what was sent where, and what came of it (`status` None: no HTTP answer)."""

    webhook_id: int
    url: str
    event: str  # "handshake", or the webhook event: created, updated, deleted, matter_opened, ...
    attempt: int
    status: int | None
    error: str | None
    at: str  # on the backend's clock


@dataclass(frozen=True)
class Job:
    """A request to make. `settled(status, headers)` says whether that answer ends the job (else it is retried);
    `wanted()` is asked before each attempt (a webhook deleted or changed meanwhile sends nothing more)."""

    webhook_id: int
    url: str
    event: str
    body: bytes
    headers: Mapping[str, str]
    settled: Callable[[int, Mapping[str, str]], bool]
    wanted: Callable[[], bool]


class WebhookSender:
    """Sends the fake Clio's webhook jobs on one worker thread, retrying each until its answer settles it."""

    def __init__(
        self,
        clock: Clock,
        *,
        allow_remote: bool = False,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        timeout: float = TIMEOUT,
    ) -> None:
        if any(d < 0 for d in retry_delays):
            raise ValueError("webhook retry delays cannot be negative")
        self.clock = clock
        self.allow_remote = allow_remote
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()

    def submit(self, job: Job) -> None:
        with self._idle:
            self._pending += 1
            if self._worker is None or not self._worker.is_alive():
                self._stopping.clear()
                self._worker = threading.Thread(target=self._run, name="fake-clio-webhooks", daemon=True)
                self._worker.start()
        self._queue.put(job)

    def wait_idle(self, timeout: float = IDLE_WAIT) -> bool:
        """Block until every submitted job has settled (True), or `timeout` seconds pass (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop the worker (a job mid-wait is abandoned); a later `submit` starts a new one."""
        worker = self._worker
        if worker is None:
            return
        self._stopping.set()
        self._queue.put(None)
        worker.join(timeout=self.timeout + 5)
        self._worker = None

    # -- the worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                try:
                    if not self._stopping.is_set():
                        self._attempts(client, job)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _attempts(self, client: httpx.Client, job: Job) -> None:
        host = httpx.URL(job.url).host
        if not self.allow_remote and not is_loopback_host(host):
            self._record(job, 1, None, f"refused: {host} is not a loopback address (allow_remote_webhooks is off)")
            return
        for attempt, delay in enumerate((0.0, *self.retry_delays), start=1):
            if (delay and self._stopping.wait(delay)) or not job.wanted():
                return
            try:
                answer = client.post(job.url, content=job.body, headers=dict(job.headers))
            except httpx.HTTPError as exc:
                self._record(job, attempt, None, f"{type(exc).__name__}: {exc}"[:300])
                continue
            self._record(job, attempt, answer.status_code, None)
            if job.settled(answer.status_code, answer.headers):
                return

    def _record(self, job: Job, attempt: int, status: int | None, error: str | None) -> None:
        entry = Delivery(job.webhook_id, job.url, job.event, attempt, status, error, seed.stamp(self.clock.now()))
        with self._idle:
            self.deliveries.append(entry)
            del self.deliveries[:-MAX_DELIVERIES_KEPT]
