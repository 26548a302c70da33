"""`operate export`: the state in --data-dir as a JSON snapshot — read from a consistent copy when a
running server holds the data dir."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from ..kernel.datadir import DataDirInUse, DataDirLock
from .common import add_state_args, open_emulator

HELP = "write the emulator's whole state to a JSON snapshot"
DESCRIPTION = (
    "Write the state in --data-dir to a snapshot that POST /api/_emulator/import (or `operate load`) reads back."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_args(parser)
    parser.add_argument("output", type=Path, help="snapshot file to write ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    if not (args.data_dir / "operate.db").is_file():
        print(
            f"operate export: {args.data_dir} holds no state (no operate.db there); nothing to export", file=sys.stderr
        )
        return 2
    probe = DataDirLock(args.data_dir)
    try:
        probe.acquire("operate export")
        probe.release()
        text = _export_text(args)
    except DataDirInUse as exc:  # a live server's: export a consistent copy, without dispatching anything
        print(f"operate export: {exc.holder.get('command', 'another process')} holds {args.data_dir}; "
              "exporting a consistent copy of its state", file=sys.stderr)  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="operate-export-") as tmp:
            _copy_documents(args.data_dir / "documents", Path(tmp) / "documents")
            copy_state(args.data_dir / "operate.db", Path(tmp) / "operate.db")
            _copy_documents(args.data_dir / "documents", Path(tmp) / "documents")  # and any uploaded meanwhile
            args.data_dir = Path(tmp)
            text = _export_text(args)
    if str(args.output) == "-":
        sys.stdout.write(text + "\n")
    else:
        args.output.write_text(text + "\n", "utf-8")
        print(f"wrote {args.output}")
    return 0


def _export_text(args: argparse.Namespace) -> str:
    em = open_emulator(args)
    try:
        return json.dumps(em.export(), indent=1)
    finally:
        em.close()


def copy_state(source: Path, target: Path) -> None:
    """SQLite's online backup from a read-only connection: one consistent moment of a database in use."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)  # a URI needs an absolute path
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy_documents(source: Path, target: Path) -> None:
    """A live server's document files, before and after the database copy: they are immutable and named by
    their SHA-256, so a link (or a copy) of each is exact; the copy's emulator drops those no row names."""
    if not source.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name.startswith(".") or (target / path.name).exists():
            continue  # a half-written upload, or linked already
        try:
            os.link(path, target / path.name)
        except OSError:  # another file system: copy it
            try:
                shutil.copyfile(path, target / path.name)
            except FileNotFoundError:
                continue  # deleted meanwhile
