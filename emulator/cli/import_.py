"""`operate import`: a real solution-export package (zip or folder) turned into a solution folder.
(The module's name ends in `_` because `import` is a Python keyword.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "turn a real solution-export package into a solution folder"
DESCRIPTION = (
    "Read a solution export (.zip, the GUID-named file a tenant "
    "saves, or the folder it unzips to) and write a solution folder you can serve."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("package", type=Path, help="the export package (a zip, or an unzipped export folder)")
    parser.add_argument("target", type=Path, nargs="?", help="folder to write (default: the package's name)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty target folder")


def run(args: argparse.Namespace) -> int:
    from ..solution.importer import PackageError, import_package  # its XML and zip readers: only when importing

    target = args.target or Path(args.package.stem)
    try:
        report = import_package(args.package, target, overwrite=args.overwrite)
    except PackageError as exc:
        print(f"operate import: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"Serve it with: operate serve --solution {target}")
    return 0
