"""`operate record SERVICE`: serve the emulator (as `operate serve` does) while a linked service's real answers are
recorded into its cassette, so they can be replayed offline later (`replay = "cassettes/<service>"`).

Every call that reaches the service through the proxy is recorded (widgets in the browser, plans'
`sharedo.http`, the service's adapter); secrets are redacted before anything is written (emulator/cassettes.py).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import serve

if TYPE_CHECKING:
    from ..core import Emulator

HELP = "serve the emulator, recording a linked service's real answers into its cassette"
DESCRIPTION = (
    "Serve the emulator as `operate serve` does, with SERVICE (a [linked_services.<name>] of operate.toml) "
    "recorded into its cassette: a request the cassette holds is answered from it, any other is sent to the "
    "service and its answer recorded (--refresh: every request is sent and recorded again). Secrets are "
    'redacted before anything is written. Replay it later with replay = "cassettes/SERVICE".'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", metavar="SERVICE", help="the linked service to record")
    parser.add_argument(
        "--refresh", action="store_true", help="send every request to the service and record its answer again"
    )
    parser.add_argument(
        "--cassette",
        metavar="PATH",
        default=None,
        help="the cassette folder, relative to the solution (default: the service's cassette.path, "
        "else cassettes/SERVICE)",
    )
    serve.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    mode = "refresh" if args.refresh else "record"

    def prepare(em: Emulator) -> None:
        em.linked_services.use_cassette(args.service, mode, args.cassette)
        folder = em.linked_services.cassette_folder(args.service)
        print(f"recording linked service {args.service!r} into {folder} (mode {mode})", flush=True)

    return serve.run(args, prepare=prepare)
