"""`python -m benchmarks [area] [--runs N]`: print each area's figures, one line each.

Exit status says only whether the benchmarks could measure (1 when one could not: it raised, it logged
an error, or a plan execution it ran errored), with one line naming the area and the error; a missed
goal is reported in the line and never fails the command, since timings depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import platform
import sys
import time

from . import AREAS, harness
from .harness import BenchmarkError

DEFAULT_RUNS = 5
MAX_RUNS = 1000  # keeps a typo from turning into an all-night run


def _runs(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_RUNS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_RUNS}")
    return value


def build_parser() -> argparse.ArgumentParser:
    areas = "\n".join(f"  {a.name:<12} {a.summary}" for a in AREAS.values())
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the emulator: one line per figure, the median of several runs in one process.",
        epilog=f"areas:\n{areas}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "area",
        nargs="?",
        choices=sorted(AREAS),
        metavar="AREA",
        help=f"which area to run (one of: {', '.join(AREAS)}); default: all",
    )
    parser.add_argument(
        "--runs",
        type=_runs,
        default=DEFAULT_RUNS,
        metavar="N",
        help=f"repetitions per figure; the median is printed (default: {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: one run per figure and the smaller sizes only; proves the areas work (the tests use it)",
    )
    return parser


class _ErrorsLogged(logging.Handler):
    """Collects what the code under measurement logs at ERROR: an error swallowed into a log (a plan
    execution that failed in the runtime, say) fails its area instead of scrolling past as a traceback.
    Warnings are still shown, one line each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.errors.append(record)
        else:
            print(f"benchmarks: {record.name}: {record.getMessage()}", file=sys.stderr)

    def first(self) -> str:
        record = self.errors[0]
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {_one_line(record.exc_info[1])}"
        return f"{len(self.errors)} error(s) logged, first: {text}"


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = [args.area] if args.area else list(AREAS)
    if args.quick:
        args.runs = 1
        harness.QUICK = True
    python = platform.python_version()
    mode = "; --quick: a smoke run, smaller sizes where an area has them" if args.quick else ""
    print(f"# operate benchmarks: median of {args.runs} run(s), min/max in brackets; Python {python}{mode}")
    status = 0
    for name in names:
        if not _run_area(name, args.runs):
            status = 1
    return status


def _run_area(name: str, runs: int) -> bool:
    """One area's figures; False (after one line on stderr) when it raised, logged an error or saw an
    execution error."""
    logged = _ErrorsLogged()
    root = logging.getLogger()
    root.addHandler(logged)
    started = time.perf_counter()
    try:
        module = importlib.import_module(AREAS[name].module)
        for figure in module.figures(runs):
            print(f"{name:<6} {figure.line()}", flush=True)
    except BenchmarkError as exc:
        print(f"benchmarks: {name}: could not measure: {exc}", file=sys.stderr)
        return False
    except Exception as exc:  # a bug in the area or in the code it measures: one line, not a traceback
        print(f"benchmarks: {name}: failed: {_one_line(exc)}", file=sys.stderr)
        return False
    finally:
        root.removeHandler(logged)
    if logged.errors:
        print(f"benchmarks: {name}: failed: {logged.first()}", file=sys.stderr)
        return False
    print(f"# {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
