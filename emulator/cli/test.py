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
    "Exit status is non-zero when a test fails; --junit-xml writes a report any CI can read; --coverage measures "
    "which lines and branches of the plans, IDE action templates and helper scripts ran. With --record-from, it "
    "runs nothing: it saves a plan execution (from --data-dir) as a test in the folder's tests/recorded/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, nargs="?", default=Path("."), help="the solution folder (default: .)")
    parser.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("-k", metavar="EXPRESSION", help="only tests whose names match (as pytest -k)")
    parser.add_argument("-q", "--quiet", action="store_true", help="less output")
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="plan coverage: a table, and coverage/lcov.info and coverage/cobertura.xml in the folder",
    )
    parser.add_argument(
        "--coverage-fail-under",
        type=float,
        metavar="PERCENT",
        help="with --coverage: fail when line coverage is below PERCENT",
    )
    parser.add_argument(
        "--update-snapshots",
        action="store_true",
        help="write the visual snapshots' baselines that are missing or differ (tests/__snapshots__/)",
    )
    parser.add_argument(
        "--record-from",
        metavar="EXECUTION_ID",
        help="save this plan execution as a replay test (tests/recorded/<plan>-<id>.scenario.yaml) instead of "
        "running the tests; it is read from --data-dir, while a server holds it too",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".operate"),
        help="with --record-from: where the emulator's state is (default: ./.operate)",
    )


def run(args: argparse.Namespace) -> int:
    if args.record_from:
        from .recording import save_recording

        return save_recording(args.record_from, args.data_dir, args.folder)
    if args.coverage_fail_under is not None and not args.coverage:
        print("operate test: --coverage-fail-under goes with --coverage", file=sys.stderr)
        return 2
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
    if args.coverage:
        argv += ["--operate-cov", "--operate-cov-dir", str(folder / "coverage")]
    if args.coverage_fail_under is not None:
        argv += ["--operate-cov-fail-under", str(args.coverage_fail_under)]
    if args.update_snapshots:
        argv.append("--operate-update-snapshots")
    return int(pytest.main(argv))
