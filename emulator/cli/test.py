"""`operate test`: a solution's tests (*.scenario.yaml, test_*.py) run with the operate pytest plugin.
pytest comes with the `test` extra, so it is imported only here, through `extras.need` (one line when missing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..extras import MissingExtra, need

HELP = "run a solution's tests (*.scenario.yaml and test_*.py in its tests/ folder)"
DESCRIPTION = (
    "Run the event-to-workflow tests of a solution folder with the operate pytest plugin. "
    "Exit status is non-zero when a test fails; --junit-xml writes a report any CI can read."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, nargs="?", default=Path("."), help="the solution folder (default: .)")
    parser.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("-k", metavar="EXPRESSION", help="only tests whose names match (as pytest -k)")
    parser.add_argument("-q", "--quiet", action="store_true", help="less output")


def run(args: argparse.Namespace) -> int:
    try:
        pytest = need("pytest", "operate test")  # not installed with the package: the `test` extra brings it
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 2

    folder = args.folder.resolve()
    if not folder.is_dir():
        print(f"operate test: {args.folder} is not a folder", file=sys.stderr)
        return 2
    tests = folder / "tests" if (folder / "tests").is_dir() else folder
    if not any(tests.rglob("test_*.py")) and not any(tests.rglob("*.scenario.yaml")):
        print(
            f"operate test: no tests in {args.folder}: put test_*.py files (the `operate` fixture) or "
            f"*.scenario.yaml files in {folder / 'tests'}; `operate init DIR` writes a solution with one",
            file=sys.stderr,
        )
        return 5
    argv = [str(tests), "-p", "no:cacheprovider", "--rootdir", str(folder)]
    if (folder / "operate.toml").is_file():
        argv += ["--operate-solution", str(folder)]
    if args.junit_xml:
        argv += ["--junit-xml", str(args.junit_xml)]
    if args.k:
        argv += ["-k", args.k]
    if args.quiet:
        argv.append("-q")
    return int(pytest.main(argv))
