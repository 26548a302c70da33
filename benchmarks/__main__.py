"""`python -m benchmarks [area] [--runs N]`: print each area's figures, one line each.

Exit status says only whether the benchmarks could measure (1 when one could not); a missed goal
is reported in the line and never fails the command, since timings depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time

from . import AREAS
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = [args.area] if args.area else list(AREAS)
    python = platform.python_version()
    print(f"# operate benchmarks: median of {args.runs} run(s), min/max in brackets; Python {python}")
    status = 0
    for name in names:
        module = importlib.import_module(AREAS[name].module)
        started = time.perf_counter()
        try:
            for figure in module.figures(args.runs):
                print(f"{name:<6} {figure.line()}", flush=True)
        except BenchmarkError as exc:
            print(f"benchmarks: {name}: could not measure: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"# {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
