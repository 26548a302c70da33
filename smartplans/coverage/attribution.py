"""Where each line of the script a plan runs as came from, so coverage speaks of the user's own files.

A script plan runs its file as it is. A visual workflow runs one generated script: its helper scripts, then a
function per step holding each action's block, expanded from the action type's template (plans.py keeps the
blocks, action_templates.py each generated line's template line). A line from a template or helper file of the
solution counts for that file's line; glue (the step functions, comments) and the platform's built-in actions
and helpers, which are not the solution's code, count for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..plans import Plan

Origin = Callable[[int], "tuple[str, int] | None"]  # a line of the plan's script -> (path in the solution, line)


def origin_of(plan: Plan, root: Path) -> Origin:
    """The function that names a script line's source file (relative to the solution folder) and line."""
    if plan.plan_type == "script":
        rel = _relative(plan.path, root)
        return (lambda line: (rel, line)) if rel else (lambda line: None)
    blocks = [(b, _relative(b.source, root)) for b in plan.blocks]

    def origin(line: int) -> tuple[str, int] | None:
        for block, rel in blocks:
            if block.first <= line <= block.last:
                own = block.origin(line) if rel else None
                return (rel, own) if rel and own else None
        return None

    return origin


def _relative(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None  # not the solution's own file (a built-in action, a platform helper, a file run from elsewhere)
