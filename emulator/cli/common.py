"""What several `operate` commands share: the state options and opening the emulator on them."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel.datadir import DataDirInUse
from ..settings import Settings

if TYPE_CHECKING:
    from ..core import Emulator

DEFAULT_PORT = 8765


def add_state_args(p: argparse.ArgumentParser) -> None:
    """--data-dir, and --demo or --solution: where the state lives and which solution it holds."""
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".operate"),
        help="where the state (a SQLite file) lives (default: ./.operate). One process per data dir: "
        "serve, run and load refuse a data dir another process holds (naming its PID and URL); "
        "export reads a consistent copy of it instead",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--demo", action="store_true", help="load the demo solution shipped with the package")
    which.add_argument("--solution", type=Path, metavar="DIR", help="load your own solution folder")


def open_emulator(args: argparse.Namespace, **extra: Any) -> Emulator:
    """The emulator on the command's --data-dir, or exit 2 with one line saying why it cannot open."""
    # The emulator (V8, Flask, every area) is imported only by the commands that open one: `operate --help`
    # and the commands that talk to a server stay quick.
    from ..core import Emulator
    from ..solution.loading import SolutionError

    try:
        return Emulator(
            Settings(
                data_dir=args.data_dir,
                demo=args.demo,
                solution=args.solution,
                command=f"operate {args.command}",
                **extra,
            )
        )
    except SolutionError as exc:
        print(f"operate: cannot load the solution: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except DataDirInUse as exc:
        print(f"operate {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as exc:  # a file where the folder should be, a folder that cannot be made or read
        print(f"operate {args.command}: --data-dir {args.data_dir}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except sqlite3.DatabaseError as exc:
        print(
            f"operate {args.command}: --data-dir {args.data_dir}: operate.db is not a state file this tool can "
            f"read ({exc}); move it away, or pass another --data-dir",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    except RuntimeError as exc:  # a state file written by a newer version
        print(f"operate {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
