"""The HTTP server `operate serve` and the demo PMS run on: cheroot, CherryPy's WSGI server.

Why not werkzeug's: that is a development server that closes every connection (`Connection: close`,
so each request pays a new TCP handshake, and a proxy's pooled upstream connections are never reused)
and drops header names holding `_` (so the official demo's `API_KEY` header never arrives). cheroot
keeps HTTP/1.1 connections alive, passes every header name through, is pure Python and runs on
Windows, macOS and Linux.

A few idle sockets must not stall it: cheroot's pool is fixed unless told otherwise, so a client that
sends half a request and stops holds a thread until `timeout`, and `THREADS` of them made the server
unreachable. The pool here grows by one thread whenever a connection arrives and none is free (up to
`MAX_THREADS`), gives the extra ones back when they idle, and drops a client silent for `TIMEOUT` s.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cheroot import wsgi
from cheroot.workers import threadpool

THREADS = 16  # threads kept ready; more are started while all are busy
MAX_THREADS = 256  # requests served at once; beyond it, connections wait for a thread
TIMEOUT = 5.0  # seconds a connection may stay silent in the middle of a request (or of its answer)
SHRINK_AFTER = 30.0  # seconds between giving back threads above THREADS that sit idle
# Connections the kernel holds before the server accepts them: cheroot's default of 5 made every sixth of a
# burst of connections wait a second for the kernel to retry (seen with 16 and 100 stalled clients).
BACKLOG = socket.SOMAXCONN


class _ElasticPool(threadpool.ThreadPool):
    """cheroot's pool, started with `min` threads and one more for each connection that finds none idle."""

    def __init__(self, server: Any, *, min: int, max: int) -> None:  # noqa: A002 - cheroot's own names
        super().__init__(server, min=min, max=max)
        self._grow_lock = threading.Lock()
        self._shrunk = time.monotonic()

    def put(self, obj: Any) -> None:
        with self._grow_lock:
            if self.idle - self._queue.qsize() <= 0 and len(self._threads) < self.max:
                self._threads.append(self._spawn_worker())  # not waiting for it: the queue holds the connection
            elif self.idle > self.min and time.monotonic() - self._shrunk > SHRINK_AFTER:
                self._shrunk = time.monotonic()
                self.shrink(self.idle - self.min)
        super().put(obj)


class WsgiServer:
    """Bound on construction (port 0 picks a free one: read `server_port`); `serve_forever` until `shutdown`."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        threads: int = THREADS,
        max_threads: int = MAX_THREADS,
        timeout: float = TIMEOUT,
    ) -> None:
        self._server = wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            server_name="operate-toolkit",
            timeout=timeout,
            request_queue_size=BACKLOG,
        )
        self._server.requests = _ElasticPool(self._server, min=threads, max=max(max_threads, threads))
        self._server.prepare()  # binds and listens: an address in use is an OSError here, not later
        self.host = host
        self.server_port = int(self._server.bind_addr[1])

    def serve_forever(self) -> None:
        self._server.serve()

    def shutdown(self) -> None:
        self._server.stop()

    def server_close(self) -> None:
        self._server.stop()

    def run_until_stopped(self) -> None:
        """Serve until Ctrl+C or SIGTERM (what a terminal and a service manager send), then close."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=self.shutdown, daemon=True).start())
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.server_close()


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine (where fakes and the emulator's own servers live)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Server = TypeVar("Server")


def warn_if_reachable(name: str, host: str) -> None:
    """Say on standard error, as `name`, when a stand-alone server's address lets other machines in."""
    if not is_loopback_host(host):
        print(f"{name}: warning: {host} is not a loopback address; other machines can reach it", file=sys.stderr)


def listen_or_explain(name: str, host: str, port: int, build: Callable[[], Server]) -> Server | None:
    """The server `build` opens on host:port, or None after saying on standard error, as `name`, why the
    address cannot be had (the command then exits 2): `operate serve`, `operate pms demo`, `operate fake clio`."""
    try:
        return build()
    except OSError as exc:
        reason = exc.strerror or "the address is in use or not available"
        print(f"{name}: cannot listen on {host}:{port}: {reason}; pass --port 0 to pick a free port", file=sys.stderr)
        return None
