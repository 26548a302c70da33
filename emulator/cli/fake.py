"""`operate fake clio`: a fake of an external system the emulator integrates with, on a loopback port."""

from __future__ import annotations

import argparse

HELP = "serve a fake of an external system (clio) on a loopback port"
DESCRIPTION = (
    "Serve a fake of an external system the emulator integrates with. `operate fake clio`: "
    "Clio Manage's OAuth and API v4 with a seeded firm (pms_adapters/fakes/clio/README.md)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("system", choices=["clio"], help="which system")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="its options; `operate fake clio --help` lists them")


def run(args: argparse.Namespace) -> int:
    from pms_adapters.fakes.clio.server import main as serve_fake_clio  # the fake firm and its server: only when served

    return serve_fake_clio(args.rest)
