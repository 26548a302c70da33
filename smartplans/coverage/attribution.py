"""Where each line of the script a plan runs as came from, so coverage speaks of the user's own files.

A script plan runs its file as it is. A visual workflow runs one generated script: its helper scripts, then a
function per step holding each action's block, expanded from the action type's template (plans.py keeps the
blocks, action_templates.py each generated line's template line). A line from a template or helper file counts
for that file's line; glue (the step functions, comments) and the built-in actions, which have no file of their
own, count for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..plans import Plan
from .data import CoverageData

Origin = Callable[[int], "tuple[str, int] | None"]  # a line of the plan's script -> (path in the solution, line)


def origin_of(plan: Plan, root: Path) -> Origin:
    """The function that names a script line's source file (relative to the solution folder) and line."""
    if plan.plan_type == "script":
        rel = relative(plan.path, root)
        return (lambda line: (rel, line)) if rel else (lambda line: None)
    blocks = [(b, relative(b.source, root)) for b in plan.blocks]

    def origin(line: int) -> tuple[str, int] | None:
        for block, rel in blocks:
            if block.first <= line <= block.last:
                own = block.origin(line) if rel else None
                return (rel, own) if rel and own else None
        return None

    return origin


def relative(path: Path | None, root: Path) -> str | None:
    """A file's path as reports name it: relative to the solution folder, or whole for a file outside it (a
    folder operate.toml includes, a platform helper library); None for code with no file (a built-in action)."""
    if path is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


@dataclass(frozen=True)
class LineMark:
    """What coverage says of one line of a plan's script, for the plan page."""

    hits: int  # times the source line it came from ran (a template line: across all its uses)
    arms: int  # branch arms starting on that source line
    missed_arms: int  # of those, never taken

    @property
    def state(self) -> str:
        return "miss" if not self.hits else "partial" if self.missed_arms else "hit"


def line_marks(plan: Plan, root: Path, data: CoverageData) -> dict[int, LineMark]:
    """For each line of `plan.source` that holds code: the coverage of the source line it came from."""
    origin = origin_of(plan, root)
    arms: dict[tuple[str, int], tuple[int, int]] = {}
    for path, f in data.files.items():
        for (line, _), counts in f.branches.items():
            found, missed = arms.get((path, line), (0, 0))
            arms[(path, line)] = (found + len(counts), missed + sum(1 for c in counts if not c))
    out: dict[int, LineMark] = {}
    for number in range(1, plan.source.count("\n") + 2):
        where = origin(number)
        f = data.files.get(where[0]) if where else None
        if f is not None and where[1] in f.lines:
            found, missed = arms.get(where, (0, 0))
            out[number] = LineMark(f.lines[where[1]], found, missed)
    return out
