"""The mandatory dependencies manifest.json names that the package does not hold, so the report can say what a
tenant importing it must already have: every ExportedSteps[].Dependencies.Mandatory[] whose PackageStepId is
not a step of this package, grouped by what is missing, with the items that need it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.kernel.jsonfile import get_ci

from .manifest import Steps
from .report import MissingDependency

Warning_ = tuple[str, str]  # (entry, what is wrong)


def missing_dependencies(
    manifest: dict, steps: Steps, display_path: Callable[[str], str]
) -> tuple[list[MissingDependency], list[Warning_]]:
    """The missing dependencies, sorted by kind and name (the repeats of one item counted once), and a warning
    for each step whose Dependencies is not `{Mandatory: [...]}`. `display_path` turns a data entry into
    the path it was written to."""
    found: dict[tuple[str, str], MissingDependency] = {}
    warnings: list[Warning_] = []
    for i, step in enumerate(get_ci(manifest, "ExportedSteps") or []):
        if not isinstance(step, dict):
            continue
        mandatory = _mandatory(step)
        if mandatory is None:
            warnings.append(
                ("manifest.json", f"ExportedSteps[{i}].Dependencies is not {{Mandatory: [...]}}; not checked")
            )
            continue
        who = _needed_by(step, i, steps, display_path)
        for dep in mandatory:
            if isinstance(dep, dict) and not _in_package(dep, steps):
                _record(found, dep, who)
    return sorted(found.values(), key=lambda m: (m.kind.lower(), m.name.lower())), warnings


def _mandatory(step: dict) -> list[Any] | None:
    """The step's Dependencies.Mandatory list (empty when it has none), or None when it is malformed."""
    deps = get_ci(step, "Dependencies")
    if deps is None:
        return []
    if not isinstance(deps, dict):
        return None
    mandatory = get_ci(deps, "Mandatory")
    if not isinstance(mandatory, (list, type(None))):
        return None
    return mandatory or []


def _needed_by(step: dict, i: int, steps: Steps, display_path: Callable[[str], str]) -> str:
    """Who needs the step's dependencies: the path its data file was written to, else its description."""
    step_entry = steps.get(str(get_ci(step, "Id") or f"#{i}").lower(), ("", None))[1]
    if step_entry:
        return display_path(step_entry)
    return str(get_ci(step, "Description") or f"step {i}")


def _in_package(dep: dict, steps: Steps) -> bool:
    step_id = get_ci(dep, "PackageStepId")
    return bool(step_id) and str(step_id).lower() in steps


def _record(found: dict[tuple[str, str], MissingDependency], dep: dict, who: str) -> None:
    """Add `who` (and the dependency's reason) to the missing item `dep` names, creating it the first time."""
    what = get_ci(dep, "Dependency")
    what = what if isinstance(what, dict) else {}
    selector = get_ci(what, "Selector")
    description = str(get_ci(what, "Description") or "")
    name = get_ci(selector, "SystemName") if isinstance(selector, dict) else None
    name = str(name or description or get_ci(dep, "PackageStepId") or "?")
    kind = str(get_ci(what, "SystemName") or "item")
    item = found.setdefault(
        (kind.lower(), name.lower()), MissingDependency(kind=kind, name=name, description=description)
    )
    reason = str(get_ci(what, "Reason") or "")
    if reason and reason not in item.reasons:
        item.reasons.append(reason)
    if who not in item.needed_by:
        item.needed_by.append(who)
