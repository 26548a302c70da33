"""`--operate-cov`: plan coverage for the operate pytest plugin (smartplans/testing.py registers it).

Every emulator the `operate` fixture and the scenarios build in a test process instruments its plans. At the
end of the session each process hands what it covered on: an xdist worker to the controller (workeroutput,
as pytest-cov does), which sums the parts; the process that saw every part writes the reports and the table,
and fails the run below `--operate-cov-fail-under`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from .data import RUN_FILE, RUN_FOLDER, CoverageData, percent
from .reports import cobertura, lcov, table

WORKER_KEY = "operate_coverage"


def add_options(group: Any) -> None:
    group.addoption(
        "--operate-cov",
        action="store_true",
        default=False,
        help="measure which lines and branches of the plans, IDE action templates and helper scripts ran",
    )
    group.addoption(
        "--operate-cov-dir",
        metavar="DIR",
        default=RUN_FOLDER,
        help="where --operate-cov writes lcov.info and cobertura.xml (default: coverage, in the current folder)",
    )
    group.addoption(
        "--operate-cov-fail-under",
        metavar="PERCENT",
        type=float,
        default=None,
        help="with --operate-cov: fail the run when line coverage is below PERCENT",
    )


class MergedAcrossWorkers:
    """A run's coverage summed over its xdist workers: each worker hands its part on (workeroutput, under
    `worker_key`), the controller adds the parts up as the workers finish. Plan and widget coverage share it."""

    worker_key = WORKER_KEY

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.data = CoverageData()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        part = getattr(node, "workeroutput", {}).get(self.worker_key)
        if part:
            self.data.add(CoverageData.from_json(part))

    def summarise(self, reporter: Any, title: str, nothing: str, text: str, written: Iterable[Path]) -> None:
        """The run's table at the end of pytest's report, on the process that saw every part (never a worker)."""
        if hasattr(self.config, "workerinput"):
            return
        reporter.write_sep("-", title)
        if self.data.files:
            reporter.write(text)
        else:
            reporter.write_line(nothing)
        for path in written:
            reporter.write_line(f"wrote {path}")

    def handed_on(self) -> bool:
        """On an xdist worker, hand this process's part to the controller and say so (the controller reports)."""
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput[self.worker_key] = self.data.to_json()  # type: ignore[attr-defined]
            return True
        return False


class CoveragePlugin(MergedAcrossWorkers):
    def __init__(self, config: pytest.Config, emulators: Callable[[], Iterable[Any]], source: Path) -> None:
        """`source`: the folder the reported paths are relative to (the solution's), named in Cobertura's XML."""
        super().__init__(config)
        self.source = source
        self.emulators = emulators  # the emulators this process built, each with smartplans.covered()
        self.failed: str | None = None
        self.written: list[Path] = []

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for emulator in self.emulators():
            covered = emulator.smartplans.covered()
            if covered is not None:
                self.data.add(covered)
        if self.handed_on():  # an xdist worker: the controller reports
            return
        out = self.config.invocation_params.dir / self.config.getoption("--operate-cov-dir")
        out.mkdir(parents=True, exist_ok=True)
        (out / "lcov.info").write_text(lcov(self.data), encoding="utf-8")
        (out / "cobertura.xml").write_text(cobertura(self.data, self.source), encoding="utf-8")
        self.data.write(out / RUN_FILE)  # what the plan pages show (emulator/web/plans.py)
        self.written = [out / "lcov.info", out / "cobertura.xml"]
        floor = self.config.getoption("--operate-cov-fail-under")
        total = percent(self.data.total("lines_hit"), self.data.total("lines_found"))
        if floor is not None and total < floor:
            self.failed = f"plan line coverage {total:.1f}% is below --operate-cov-fail-under {floor:g}%"
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        nothing = "no plan of the solution ran (nothing to report)"
        self.summarise(terminalreporter, "plan coverage", nothing, table(self.data), self.written)
        if self.failed:
            terminalreporter.write_line(f"FAIL: {self.failed}", red=True)
