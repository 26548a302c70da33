"""Serve the fake Clio on a loopback port for people: `operate fake clio --port 8767`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from emulator.kernel.http_server import WsgiServer, listen_or_explain, warn_if_reachable

from .app import create_app
from .models import App, ClioBackend
from .seed import DEFAULT_MATTERS

DEFAULT_PORT = 8767
MAX_SEED_MATTERS = 100_000


def build_server(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, matters: int = DEFAULT_MATTERS, insecure_webhooks: bool = False
) -> WsgiServer:
    backend = ClioBackend(matters=matters, app=App(), allow_insecure_webhooks=insecure_webhooks)
    return WsgiServer(create_app(backend), host, port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="operate fake clio",
        description="Serve a fake Clio Manage (OAuth and API v4: matters, stages, practice areas, contacts, "
        "users, activities, bills, communications, documents, webhooks) with a seeded firm, for the Clio adapter "
        "or a person to connect to.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--matters",
        type=int,
        default=DEFAULT_MATTERS,
        help=f"matters to seed (default {DEFAULT_MATTERS}; up to {MAX_SEED_MATTERS})",
    )
    parser.add_argument(
        "--allow-insecure-webhooks",
        action="store_true",
        help="take http webhook URLs too (a receiver on this machine); Clio takes https only. "
        "Webhook requests go to loopback addresses only, either way",
    )
    args = parser.parse_args(argv)
    if not (0 <= args.port <= 65535):
        print(f"fake Clio: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    if not (0 <= args.matters <= MAX_SEED_MATTERS):
        print(f"fake Clio: --matters must be between 0 and {MAX_SEED_MATTERS}, not {args.matters}", file=sys.stderr)
        return 2
    warn_if_reachable("fake Clio", args.host)
    server = listen_or_explain(
        "fake Clio",
        args.host,
        args.port,
        lambda: build_server(args.host, args.port, args.matters, args.allow_insecure_webhooks),
    )
    if server is None:
        return 2
    app = App()
    print(
        f"Fake Clio ready on http://{args.host}:{server.server_port} "
        f"(app key {app.client_id}, secret {app.client_secret}; {args.matters} matters)",
        flush=True,
    )

    server.run_until_stopped()
    return 0
