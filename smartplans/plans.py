"""The plans a solution holds: script plans (`plans/*.js`) and visual workflows (`workflows/*.json`).

A visual workflow runs as one script: a step is its actions' blocks in `Order` —
`function <step>(ev, ctx, log) { <block> <block> }` — each block the action's `GeneratedScript` or the
code its action type's template generates (`action_templates.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import get_ci
from emulator.solution.loading import Solution

from .action_templates import Block as ExpandedBlock
from .action_templates import Template, TemplateError, expand
from .workflow_actions import ActionError, ActionTypes, action_types


class PlanError(ValueError):
    pass


@dataclass
class _Block:
    first: int
    last: int
    step: str
    label: str
    expanded: ExpandedBlock | None = None  # None: the file's own GeneratedScript
    template: str | None = None

    def shifted(self, by: int) -> _Block:
        return _Block(self.first + by, self.last + by, self.step, self.label, self.expanded, self.template)

    def locate(self, line: int) -> str:
        own = line - self.first + 1
        where = f"step {self.step!r}, {self.label}" if self.step else self.label
        if self.template is None:
            return f"{where}, line {own} of its GeneratedScript"
        origin = self.expanded.template_line(own) if self.expanded else own
        return f"{where}, {self.template} line {origin}" if origin else f"{where}, {self.template}"


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
    # Visual workflows: where each action's block is in `source`, so an error at line N of the assembled
    # script can name the action, and the template line, it came from.
    blocks: list[_Block] = field(default_factory=list)

    def locate(self, line: int) -> str | None:
        for block in self.blocks:
            if block.first <= line <= block.last:
                return block.locate(line)
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


def visual_plan(
    name: str,
    doc: dict[str, Any],
    limits: dict[str, Any] | None = None,
    types: ActionTypes | None = None,
    where: str | None = None,
) -> Plan:
    """One script plan from a visual workflow, in the export shape (`Steps`, `Actions` with `Configuration`
    and `Connections` as JSON text, `Scripts[].GeneratedScript`) or the API shape (`steps[].actions[]` with
    `actionSystemName`, `config`, `connections`). An action runs its GeneratedScript when the file has one
    (what the tenant compiled), else the code its action type's template generates."""
    where = where or f"workflows/{name}.json"  # what errors name: the file the workflow came from
    plan_info = get_ci(doc, "VisualPlan") or doc
    steps = get_ci(doc, "Steps") or []
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise PlanError(f'{where}: "steps" must be a list of objects')
    scripts = {
        str(get_ci(s, "VisualPlanStepActionId")).lower(): get_ci(s, "GeneratedScript") or ""
        for s in (get_ci(doc, "Scripts") or [])
        if isinstance(s, dict)
    }
    types = types if types is not None else action_types(None)
    lines: list[str] = []
    blocks: list[_Block] = []
    helpers: dict[str, Template] = {}
    step_names = []
    for step in steps:
        sn = get_ci(step, "SystemName")
        if not isinstance(sn, str) or not sn.replace("-", "_").replace("$", "_").isidentifier():
            raise PlanError(f"{where}: step system name {sn!r} is not usable as a function name")
        step_names.append(sn)
        lines.append(f"function {sn.replace('-', '_')}(ev, ctx, log) {{")
        for action in _step_actions(doc, step, sn, where):
            label = f"action {action.name!r} ({action.type}{' ' + action.id if action.id else ''})"
            script = scripts.get(action.id.lower()) if action.id else None
            block: ExpandedBlock | None = None
            template_name = None
            if not script:
                try:
                    action_type = types.find(action.type)
                except ActionError as exc:
                    raise PlanError(f"{where}: step {sn!r}, {label}: {exc}") from None
                if action_type is None:
                    unreadable = "".join(f"; and {problem}" for problem in types.unreadable)
                    raise PlanError(
                        f"{where}: step {sn!r}, {label}: nothing to run: the file has no GeneratedScript for it, and "
                        f"there is no template for action type {action.type!r} (no *.wf-action.json in _IDE/ names it, "
                        f"nor is it one of the built-in actions {types.builtin}){unreadable}"
                    )
                try:
                    block = expand(action_type.template, action.configuration, action.connections)
                except TemplateError as exc:
                    raise PlanError(f"{where}: step {sn!r}, {label}: {exc}") from None
                script, template_name = block.code, action_type.template.name
                helpers.update((h.name, h) for h in action_type.helper_scripts)
            lines.append(f"  // {label}")
            first = len(lines) + 1
            lines.extend("  " + line for line in script.splitlines())
            blocks.append(_Block(first, len(lines), sn, label, block, template_name))
        lines.append("}")
    prelude: list[str] = []
    for helper in helpers.values():  # helper scripts run before the generated script, once each
        prelude.append(f"// helper script {helper.name}")
        first = len(prelude) + 1
        prelude.extend(helper.text.splitlines())
        blocks.append(_Block(first, len(prelude), "", f"helper script {helper.name}", None, helper.name))
    if prelude:
        blocks = [b.shifted(len(prelude)) if b.step else b for b in blocks]
        lines = prelude + lines
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


@dataclass
class _Action:
    id: str
    name: str
    type: str
    configuration: dict[str, Any]
    connections: dict[str, Any]


def _step_actions(doc: dict[str, Any], step: dict[str, Any], sn: str, where: str) -> list[_Action]:
    """A step's actions in order: the export's top-level `Actions` of that step, or the step's own `actions`."""
    nested = get_ci(step, "Actions")
    exported = [
        a for a in (get_ci(doc, "Actions") or []) if isinstance(a, dict) and get_ci(a, "VisualPlanStepSystemName") == sn
    ]
    raw = (nested if isinstance(nested, list) else []) + sorted(exported, key=lambda a: get_ci(a, "Order") or 0)
    out = []
    for index, action in enumerate(raw):
        if not isinstance(action, dict):
            raise PlanError(f"{where}: step {sn!r}: action {index + 1} is not an object")
        action_id = str(get_ci(action, "Id") or "")
        name = get_ci(action, "Name") or action_id or f"#{index + 1}"
        kind = get_ci(action, "ActionSystemName")
        if not isinstance(kind, str) or not kind:
            raise PlanError(f"{where}: step {sn!r}, action {name!r}: no actionSystemName")
        parts = []
        for keys in (("Configuration", "config"), ("Connections",)):
            value = next((get_ci(action, k) for k in keys if get_ci(action, k) is not None), None)
            if isinstance(value, str):
                try:
                    value = json.loads(value) if value.strip() else {}
                except ValueError as exc:
                    raise PlanError(f"{where}: step {sn!r}, action {name!r}: {keys[0]} is not JSON: {exc}") from None
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise PlanError(f"{where}: step {sn!r}, action {name!r}: {keys[0]} must be an object")
            parts.append(value)
        out.append(_Action(action_id, str(name), kind, parts[0], parts[1]))
    return out


def solution_plans(solution: Solution) -> dict[str, Plan]:
    per_plan = solution.config.get("plans", {})
    plans: dict[str, Plan] = {}
    types: ActionTypes | None = None
    for name, path in solution.plans.items():
        plans[name] = script_plan(name, path, per_plan.get(name))
    for name, doc in solution.workflows.items():
        if name in plans:
            raise PlanError(f"plan {name!r} is both plans/{name}.js and a visual workflow")
        types = types or action_types(solution.ide_root)
        plans[name] = visual_plan(name, doc, per_plan.get(name), types)
    return plans
