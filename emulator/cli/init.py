"""`operate init`: a new solution folder to start from, or a copy of the demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "write a new solution folder to start from"
DESCRIPTION = (
    "Write a new solution folder: the demo's work types, people, roles, seed and demo PMS, a "
    "first plan with its trigger and a test, and the plans' type declarations in types/ (so jsconfig.json "
    "works wherever the folder goes). Then: operate serve --solution DIR, operate test DIR."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="the folder to write (new, or empty)")
    parser.add_argument("--name", help="the solution's name (default: the folder's name; with --from-demo, the demo's)")
    parser.add_argument(
        "--from-demo",
        action="store_true",
        help="copy the demo solution as it is (its work types, people, seed, demo PMS, fake Clio firm and the "
        "finance example plans it includes) instead, to change at will",
    )


def run(args: argparse.Namespace) -> int:
    from ..solution.scaffold import ScaffoldError, copy_demo, init_solution  # its templates: only when writing

    try:
        written = (copy_demo if args.from_demo else init_solution)(args.folder, args.name)
    except (ScaffoldError, OSError) as exc:
        print(f"operate init: {exc}", file=sys.stderr)
        return 2
    if args.from_demo:
        print(f"copied the demo solution into {args.folder} ({len(written)} files)")
        print(f"Next: operate serve --solution {args.folder}")
        return 0
    for path in written:
        print(f"wrote {path}")
    print(f"Next: operate test {args.folder}    operate serve --solution {args.folder}")
    return 0
