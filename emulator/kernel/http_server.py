"""The HTTP server `operate serve` and the demo PMS run on: cheroot, CherryPy's WSGI server.

Why not werkzeug's: that is a development server that closes every connection (`Connection: close`,
so each request pays a new TCP handshake, and a proxy's pooled upstream connections are never reused)
and drops header names holding `_` (so the official demo's `API_KEY` header never arrives). cheroot
keeps HTTP/1.1 connections alive, passes every header name through, is pure Python and runs on
Windows, macOS and Linux.
"""

from __future__ import annotations

import ipaddress
import signal
import threading
from typing import Any

from cheroot import wsgi

THREADS = 16  # concurrent requests; more wait on the socket's backlog


class WsgiServer:
    """Bound on construction (port 0 picks a free one: read `server_port`); `serve_forever` until `shutdown`."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = THREADS) -> None:
        self._server = wsgi.Server((host, port), app, numthreads=threads, server_name="operate-toolkit")
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
