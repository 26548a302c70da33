"""Serve the demo PMS on a loopback port for people: `python -m pms_adapters.fakes.demo_pms.server --port 8766`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from emulator.kernel.clock import Clock
from emulator.kernel.http_server import WsgiServer, listen_or_explain, warn_if_reachable

from .app import API_KEY_HEADER, DEFAULT_API_KEY, DEFAULT_PORT, create_app
from .models import DemoPmsBackend


def build_server(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, api_key: str = DEFAULT_API_KEY, clock: Clock | None = None
) -> WsgiServer:
    """A threaded server for the demo PMS (port 0 picks a free port; read it back from `server_port`).

    Pass the emulator's clock when both run in one process, so invoices age on virtual time."""
    app = create_app(DemoPmsBackend(clock=clock), api_key=api_key)
    return WsgiServer(app, host, port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pms_adapters.fakes.demo_pms.server",
        description="Serve the demo PMS (a fake finance system with seeded matters, WIP and aged debt).",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"the {API_KEY_HEADER} value callers must send (default %(default)s)"
    )
    args = parser.parse_args(argv)
    if not args.api_key:
        print("demo PMS: --api-key must not be empty", file=sys.stderr)
        return 2
    if not (0 <= args.port <= 65535):
        print(f"demo PMS: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    warn_if_reachable("demo PMS", args.host)
    server = listen_or_explain(
        "demo PMS", args.host, args.port, lambda: build_server(args.host, args.port, args.api_key)
    )
    if server is None:
        return 2
    print(f"Demo PMS ready on http://{args.host}:{server.server_port} ({API_KEY_HEADER}: {args.api_key})", flush=True)

    server.run_until_stopped()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
