"""The plans a solution holds: script plans (`plans/*.js`) and visual workflows (`workflows/*.json`).

A visual workflow runs from its generated scripts: each `GeneratedScript` is one action's block, and
a step is its actions' blocks in `Order` — `function <step>(ev, ctx, log) { <block> <block> }`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import get_ci
from emulator.solution.loading import Solution


class PlanError(ValueError):
    pass


@dataclass
class Plan:
    system_name: str
    title: str
    plan_type: str  # "script" | "visualWorkflow"
    source: str
    url: str  # what stack traces name: the plan's own file
    path: Path | None = None
    mtime: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)  # visual steps: systemName, name, isStart, isEnd
    variables: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, Any] = field(default_factory=dict)
    # Visual workflows: (first line, last line, step, label) of each action's block in `source`,
    # so an error at line N of the assembled script can name the action it came from.
    blocks: list[tuple[int, int, str, str]] = field(default_factory=list)

    def locate(self, line: int) -> str | None:
        for first, last, step, label in self.blocks:
            if first <= line <= last:
                return f"step {step!r}, {label}, line {line - first + 1} of its GeneratedScript"
        return None

    @property
    def key(self) -> str:
        """The key in V8: changes when the source does, so a reload never mixes versions."""
        return f"{self.system_name}@{hash(self.source) & 0xFFFFFFFF:08x}"


def script_plan(name: str, path: Path, limits: dict[str, Any] | None = None) -> Plan:
    try:
        source = path.read_text("utf-8-sig")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror}") from None
    return Plan(
        name, name, "script", source, f"plans/{path.name}", path=path, mtime=path.stat().st_mtime, limits=limits or {}
    )


def visual_plan(name: str, doc: dict[str, Any], limits: dict[str, Any] | None = None) -> Plan:
    """Assemble the generated blocks of an exported visual workflow into one script plan."""
    plan_info = get_ci(doc, "VisualPlan") or {}
    steps = get_ci(doc, "Steps") or []
    actions = get_ci(doc, "Actions") or []
    scripts = {
        str(get_ci(s, "VisualPlanStepActionId")).lower(): get_ci(s, "GeneratedScript") or ""
        for s in (get_ci(doc, "Scripts") or [])
    }
    lines: list[str] = []
    blocks: list[tuple[int, int, str, str]] = []
    step_names = []
    for step in steps:
        sn = get_ci(step, "SystemName")
        if not sn or not sn.replace("-", "_").replace("$", "_").isidentifier():
            raise PlanError(f"workflows/{name}.json: step system name {sn!r} is not usable as a function name")
        step_names.append(sn)
        own = sorted(
            (a for a in actions if get_ci(a, "VisualPlanStepSystemName") == sn), key=lambda a: get_ci(a, "Order") or 0
        )
        lines.append(f"function {sn.replace('-', '_')}(ev, ctx, log) {{")
        for action in own:
            action_id = str(get_ci(action, "Id")).lower()
            if action_id not in scripts:
                raise PlanError(
                    f"workflows/{name}.json: action {get_ci(action, 'Name') or action_id!r} in step "
                    f"{sn!r} has no GeneratedScript"
                )
            label = (
                f"action {get_ci(action, 'Name') or action_id!r} "
                f"({get_ci(action, 'ActionSystemName')} {get_ci(action, 'Id')})"
            )
            lines.append(f"  // {label}")
            first = len(lines) + 1
            lines.extend("  " + line for line in scripts[action_id].splitlines())
            blocks.append((first, len(lines), sn, label))
        lines.append("}")
    mapping = ", ".join(f"{json.dumps(sn)}: {sn.replace('-', '_')}" for sn in step_names)
    lines.append(f"return {{ {mapping} }};")
    return Plan(
        name,
        get_ci(plan_info, "Name") or name,
        "visualWorkflow",
        "\n".join(lines),
        f"workflows/{name}.js",
        steps=[
            {
                "systemName": get_ci(s, "SystemName"),
                "name": get_ci(s, "Name"),
                "isStart": bool(get_ci(s, "IsStart")),
                "isEnd": bool(get_ci(s, "IsEnd")),
            }
            for s in steps
        ],
        variables=list(get_ci(doc, "Variables") or []),
        limits=limits or {},
        blocks=blocks,
    )


def solution_plans(solution: Solution) -> dict[str, Plan]:
    per_plan = solution.config.get("plans", {})
    plans: dict[str, Plan] = {}
    for name, path in solution.plans.items():
        plans[name] = script_plan(name, path, per_plan.get(name))
    for name, doc in solution.workflows.items():
        if name in plans:
            raise PlanError(f"plan {name!r} is both plans/{name}.js and a visual workflow")
        plans[name] = visual_plan(name, doc, per_plan.get(name))
    return plans
