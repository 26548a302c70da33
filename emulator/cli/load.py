"""`operate load`: replace the state in --data-dir with a snapshot, all of it or nothing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..kernel.store import SnapshotError
from .common import add_state_args, open_emulator

HELP = "replace the emulator's state with a JSON snapshot"
DESCRIPTION = (
    "Replace the whole state in --data-dir with a snapshot from `operate export` (or "
    "GET /api/_emulator/export). A snapshot it cannot fully use is refused, naming the table, row and "
    "column, and nothing is changed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_args(parser)
    parser.add_argument("snapshot", type=Path, help="a file written by `operate export`")


def run(args: argparse.Namespace) -> int:
    try:
        snapshot = json.loads(args.snapshot.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        print(f"operate load: cannot read {args.snapshot}: {exc}", file=sys.stderr)
        return 2
    em = open_emulator(args)
    try:
        em.import_snapshot(snapshot)
    except SnapshotError as exc:
        print(f"operate load: {args.snapshot}: {exc}", file=sys.stderr)
        return 2
    finally:
        em.close()
    print(f"loaded {args.snapshot} into {args.data_dir}")
    return 0
