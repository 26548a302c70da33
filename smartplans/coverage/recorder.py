"""One process's plan coverage: instruments plans as the runtime loads them and sums what each step ran.

The runtime (smartplans/runtime.py) calls `instrument` as it loads a plan and `add` with the counters of each
step's last run; the engine (smartplans/executions) tells it where each plan's lines came from (`note_plan`).
`covered()` then speaks of the source files: the part this process writes for the run's report.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from ..plans import Plan
from .attribution import Origin, origin_of, relative
from .data import CoverageData, FileCoverage, WorkflowCoverage
from .instrument import Instrumenter, InstrumentError


class PlanCoverage:
    def __init__(self, instrumenter: Instrumenter | None = None) -> None:
        self.instrumenter = instrumenter or Instrumenter()
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], dict[str, Any]] = {}  # (url, hash) -> Istanbul FileCoverage, summed
        self._hash: dict[str, str] = {}  # url -> the hash of the version last instrumented
        self._origins: dict[str, Origin] = {}  # url -> where its lines came from
        self._workflows: dict[str, _Workflow] = {}  # url -> a visual workflow's steps, actions and outlets
        self._steps: dict[str, dict[tuple[str, str | None], int]] = {}  # url -> (step, a step it started) -> runs

    def instrument(self, source: str, url: str) -> str:
        """The code to load instead of `source`; `source` itself when Istanbul cannot parse it (V8 then
        reports the plan's syntax error as it would without coverage)."""
        try:
            done = self.instrumenter.instrument(source, url)
        except InstrumentError:
            return source
        key = (url, done.file_coverage["hash"])
        with self._lock:
            self._files.setdefault(key, copy.deepcopy(done.file_coverage))
            self._hash[url] = key[1]
        return done.code

    def note_plan(self, plan: Plan, root: Path, outline: list[dict[str, Any]] | None = None) -> None:
        """Where the plan's lines come from; for a visual workflow also its `outline` (smartplans.plans.outline),
        so its steps, actions and outlets are reported."""
        with self._lock:
            self._origins[plan.url] = origin_of(plan, root)
            where = relative(plan.path, root)
            if plan.plan_type == "visualWorkflow" and outline is not None and where:
                self._workflows[plan.url] = _Workflow(where, plan, outline)

    def step_ran(self, url: str, step: str, started: list[str | None]) -> None:
        """A step of the plan at `url` ended (completed or failed), having started these steps."""
        with self._lock:
            runs = self._steps.setdefault(url, {})
            for key in [(step, None), *((step, s) for s in set(started) if s)]:
                runs[key] = runs.get(key, 0) + 1

    def add(self, counts: dict[str, Any]) -> None:
        """The counters one run handed back, by url: {hash, s, f, b}."""
        with self._lock:
            for url, part in counts.items():
                known = self._files.get((url, part.get("hash")))
                if known is None:
                    continue  # not a plan this recorder instrumented
                _sum(known["s"], part["s"])
                _sum(known["f"], part["f"])
                for b, arms in part["b"].items():
                    mine = known["b"][b]
                    for i, hits in enumerate(arms):
                        mine[i] += hits

    def covered(self) -> CoverageData:
        """Every instrumented plan's counters, as lines, branches and functions of the solution's files."""
        out = CoverageData()
        with self._lock:
            for (url, digest), fc in self._files.items():
                origin = self._origins.get(url)
                if origin is None or self._hash.get(url) != digest:
                    continue  # never run by an engine that knows its files, or replaced by an edited version
                for part in _attributed(fc, origin).values():
                    out.file(part.path).add(part)
                flow = self._workflows.get(url)
                if flow is not None:
                    taken = flow.taken(fc, self._steps.get(url, {}))
                    out.workflows.setdefault(taken.path, WorkflowCoverage(taken.path)).add(taken)
        return out

    def close(self) -> None:
        self.instrumenter.close()


def _sum(mine: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        mine[k] = mine.get(k, 0) + v


def _attributed(fc: dict[str, Any], origin: Origin) -> dict[str, FileCoverage]:
    """One instrumented script's counters as FileCoverage per source file; branches are keyed by their source
    line and their order on it."""
    files: dict[str, FileCoverage] = {}

    def part(path: str) -> FileCoverage:
        return files.setdefault(path, FileCoverage(path))

    script_lines: dict[int, int] = {}  # a script line's hits: its most-run statement's, as Istanbul counts lines
    for sid, loc in fc["statementMap"].items():
        line = loc["start"]["line"]
        script_lines[line] = max(script_lines.get(line, 0), fc["s"][sid])
    for line, hits in script_lines.items():
        where = origin(line)
        if where:  # a template line generated more than once (`$each`) ran as often as all its copies did
            lines = part(where[0]).lines
            lines[where[1]] = lines.get(where[1], 0) + hits
    nth: dict[int, int] = {}  # branches so far on each script line: a branch is known by its line and order on it
    for bid, branch in sorted(fc["branchMap"].items(), key=lambda kv: int(kv[0])):
        line = (branch.get("loc") or branch["locations"][0])["start"]["line"]
        n = nth[line] = nth.get(line, -1) + 1
        where = origin(line)
        if where:  # copies of one template line (`$each`) add up into one branch
            part(where[0]).add(FileCoverage(where[0], branches={(where[1], n): list(fc["b"][bid])}))
    for fid, fn in fc["fnMap"].items():
        where = origin(fn["decl"]["start"]["line"])
        if where:
            funcs = part(where[0]).functions
            key = (fn["name"], where[1])
            funcs[key] = funcs.get(key, 0) + fc["f"][fid]
    return files


class _Workflow:
    """A visual workflow's shape (its outline) and where each action's block is in its script."""

    def __init__(self, path: str, plan: Plan, outline: list[dict[str, Any]]) -> None:
        self.path = path
        self.outline = outline
        by_step: dict[str, list[tuple[int, int]]] = {}
        for block in plan.blocks:
            if block.step:
                by_step.setdefault(block.step, []).append((block.first, block.last))
        self.blocks = by_step

    def taken(self, fc: dict[str, Any], steps: dict[tuple[str, str | None], int]) -> WorkflowCoverage:
        out = WorkflowCoverage(self.path)
        for step in self.outline:
            sn = step["systemName"]
            out.steps[sn] = steps.get((sn, None), 0)
            blocks = self.blocks.get(sn, [])
            for i, action in enumerate(step["actions"]):
                first, last = blocks[i] if i < len(blocks) else (0, -1)
                out.actions[f"{sn}#{i}"] = max(
                    (fc["s"][sid] for sid, loc in fc["statementMap"].items() if first <= loc["start"]["line"] <= last),
                    default=0,
                )
                for outlet, target in action["outlets"].items():
                    out.outlets[f"{sn}#{i}:{outlet}"] = steps.get((sn, target), 0) if out.actions[f"{sn}#{i}"] else 0
        return out
