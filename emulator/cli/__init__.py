"""`operate`: serve the emulator, import a real solution export, export the state.

One module per command, each with its `HELP` (its line in `operate --help`), its `DESCRIPTION` (the top of
`operate COMMAND --help`), `add_arguments(parser)` and `run(args) -> int` (the exit status); this package
registers each command once, from those, in the order `operate --help` lists them.
"""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

from . import export, fake, import_, init, load, pms, record, run, serve, sync, test

__all__ = ["COMMANDS", "build_parser", "main"]

# command name -> its module, in the order of `operate --help`
COMMANDS: dict[str, ModuleType] = {
    "serve": serve,
    "pms": pms,
    "fake": fake,
    "import": import_,
    "export": export,
    "run": run,
    "init": init,
    "test": test,
    "load": load,
    "sync": sync,
    "record": record,
}


def _version() -> str:
    try:
        return version("operate-toolkit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="operate",
        description="A local Clio Operate: run SmartPlans, preview widgets and test PMS integrations without a tenant.",
    )
    parser.add_argument("--version", action="version", version=f"operate-toolkit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP, description=command.DESCRIPTION))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        return 130
