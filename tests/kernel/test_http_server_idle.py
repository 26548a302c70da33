"""A few idle or half-open sockets do not stall `operate serve`: the server `operate serve` and the demo
PMS run on (emulator/kernel/http_server.py) takes more threads when all are busy, and drops a client
that stops half way through its request.

A half-open connection here sends the start of a request and then nothing, as a stalled client or a
hostile one does; each holds a server thread until the server gives up on it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from emulator.kernel.http_server import THREADS, WsgiServer


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture
def server() -> Iterator[WsgiServer]:
    srv = WsgiServer(_hello, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    thread.join(10)


def _half_open(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and never the blank line that ends it
        socks.append(s)
    time.sleep(0.3)  # let the server hand each to a thread
    return socks


@pytest.mark.parametrize("count", [THREADS, 100])
def test_the_server_answers_beside_half_open_connections(server, count):
    socks = _half_open(server.server_port, count)
    try:
        started = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/", timeout=3.0)
        assert response.text == "hello"
        assert time.monotonic() - started < 3.0
    finally:
        for s in socks:
            s.close()


def test_a_client_that_stops_half_way_is_dropped():
    srv = WsgiServer(_hello, "127.0.0.1", 0, timeout=0.5)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        (sock,) = _half_open(srv.server_port, 1)
        sock.settimeout(5)
        started = time.monotonic()
        answer = sock.recv(4096)  # the server closes it (perhaps with a 408) once it has waited long enough
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 3.0
        sock.close()
    finally:
        srv.shutdown()
        thread.join(10)
