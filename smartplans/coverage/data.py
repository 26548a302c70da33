"""What a run covered, per source file: line hits, branch arms taken, function calls.

This is the form that crosses processes (each xdist worker writes its part, the controller sums them) and
that the reports read. Lines are the source file's own: a plan file's, or for a visual workflow the template
and helper lines its generated code came from (attribution.py). Where one template is used by several actions,
or one file by several plans, the hits are summed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_FILE = "operate-coverage.json"  # written beside lcov.info; the plan pages read the last run from it
RUN_FOLDER = "coverage"  # where a run's reports go by default (`--operate-cov-dir`, `operate test --coverage`)


@dataclass
class FileCoverage:
    path: str  # relative to the solution folder, with forward slashes
    lines: dict[int, int] = field(default_factory=dict)  # line -> times a statement starting there ran
    branches: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (line, nth branch on it) -> arms
    functions: dict[tuple[str, int], int] = field(default_factory=dict)  # (name, line) -> calls

    def add(self, other: FileCoverage) -> None:
        for line, hits in other.lines.items():
            self.lines[line] = self.lines.get(line, 0) + hits
        for key, arms in other.branches.items():
            mine = self.branches.setdefault(key, [0] * len(arms))
            mine.extend([0] * (len(arms) - len(mine)))
            for i, hits in enumerate(arms):
                mine[i] += hits
        for key, calls in other.functions.items():
            self.functions[key] = self.functions.get(key, 0) + calls

    @property
    def lines_found(self) -> int:
        return len(self.lines)

    @property
    def lines_hit(self) -> int:
        return sum(1 for hits in self.lines.values() if hits)

    @property
    def branches_found(self) -> int:
        return sum(len(arms) for arms in self.branches.values())

    @property
    def branches_hit(self) -> int:
        return sum(1 for arms in self.branches.values() for hits in arms if hits)

    def missed_lines(self) -> list[int]:
        return sorted(line for line, hits in self.lines.items() if not hits)

    def missed_branches(self) -> list[tuple[int, int]]:
        """(line, arm) of each branch arm never taken: arm 0 is an `if`'s then, 1 its else, and so on."""
        return sorted(
            (line, arm) for (line, _), arms in self.branches.items() for arm, hits in enumerate(arms) if not hits
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": {str(k): v for k, v in sorted(self.lines.items())},
            "branches": [[line, n, arms] for (line, n), arms in sorted(self.branches.items())],
            "functions": [
                [name, line, calls]
                for (name, line), calls in sorted(self.functions.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            ],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> FileCoverage:
        return cls(
            doc["path"],
            {int(k): int(v) for k, v in doc["lines"].items()},
            {(int(line), int(n)): [int(a) for a in arms] for line, n, arms in doc["branches"]},
            {(str(name), int(line)): int(calls) for name, line, calls in doc["functions"]},
        )


@dataclass
class WorkflowCoverage:
    """A visual workflow as its modeller shows it, with what ran: each step, each action (by its step and its
    place in it, `main#0`), and each outlet (`main#0:notify`), counted when the action's step started the
    outlet's target step."""

    path: str  # the workflow's file, relative to the solution folder
    steps: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    outlets: dict[str, int] = field(default_factory=dict)

    def add(self, other: WorkflowCoverage) -> None:
        for mine, theirs in ((self.steps, other.steps), (self.actions, other.actions), (self.outlets, other.outlets)):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "steps": self.steps, "actions": self.actions, "outlets": self.outlets}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> WorkflowCoverage:
        return cls(doc["path"], dict(doc["steps"]), dict(doc["actions"]), dict(doc["outlets"]))


@dataclass
class CoverageData:
    """Every covered file of one run, by path, and every visual workflow that ran, by its file."""

    files: dict[str, FileCoverage] = field(default_factory=dict)
    workflows: dict[str, WorkflowCoverage] = field(default_factory=dict)

    def add(self, other: CoverageData) -> None:
        for path, part in other.files.items():
            self.files.setdefault(path, FileCoverage(path)).add(part)
        for path, flow in other.workflows.items():
            self.workflows.setdefault(path, WorkflowCoverage(path)).add(flow)

    def file(self, path: str) -> FileCoverage:
        return self.files.setdefault(path, FileCoverage(path))

    def total(self, measure: str) -> int:
        """A FileCoverage measure (lines_found, lines_hit, branches_found, branches_hit) summed over the files."""
        return sum(getattr(f, measure) for f in self.files.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "operate-coverage/1",
            "files": [f.to_json() for _, f in sorted(self.files.items())],
            "workflows": [w.to_json() for _, w in sorted(self.workflows.items())],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CoverageData:
        if not isinstance(doc, dict) or doc.get("format") != "operate-coverage/1":
            raise ValueError("not operate coverage data (expected format operate-coverage/1)")
        return cls(
            {f["path"]: FileCoverage.from_json(f) for f in doc["files"]},
            {w["path"]: WorkflowCoverage.from_json(w) for w in doc.get("workflows", [])},
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> CoverageData:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def percent(hit: int, found: int) -> float:
    """100 when there is nothing to cover, as Istanbul and coverage.py say."""
    return 100.0 if found == 0 else 100.0 * hit / found


def last_run(root: Path) -> tuple[CoverageData, float] | None:
    """The data of the last coverage run of the solution at `root` (`operate test --coverage`), and when it was
    written; None when there is none or it cannot be read."""
    path = root / RUN_FOLDER / RUN_FILE
    try:
        return CoverageData.read(path), path.stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        return None
