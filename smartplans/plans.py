"""The plans a solution holds: script plans (`plans/*.js`) and visual workflows (`workflows/*.json`).

A visual workflow runs as one script: a step is its actions' blocks in `Order` —
`function <step>(ev, ctx, log) { <block> <block> }` — each block the action's `GeneratedScript` or the
code its action type's template generates (`action_templates.py`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.kernel.binding import value_problem
from emulator.kernel.jsonfile import get_ci
from emulator.solution.loading import Solution

from .action_templates import LINE_BREAK, Template, TemplateError, expand
from .action_templates import Block as ExpandedBlock
from .workflow_actions import ActionError, ActionTypes, action_types, platform_helper, platform_helpers


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
    source: Path | None = None  # the template's or helper's file, when it is one (coverage reports its lines)

    def shifted(self, by: int) -> _Block:
        return dataclasses.replace(self, first=self.first + by, last=self.last + by)

    def origin(self, line: int) -> int | None:
        """The line of the template (or helper file) that line `line` of the assembled script came from."""
        own = line - self.first + 1
        return self.expanded.template_line(own) if self.expanded else own

    def locate(self, line: int) -> str:
        own = line - self.first + 1
        where = f"step {self.step!r}, {self.label}" if self.step else self.label
        if self.template is None:
            return f"{where}, line {own} of its GeneratedScript"
        origin = self.origin(line)
        return f"{where}, {self.template} line {origin}" if origin else f"{where}, {self.template}"


@dataclass
class Plan:
    system_name: str
    title: str
    plan_type: str  # "script" | "visualWorkflow"
    source: str
    url: str  # what stack traces name: the plan's own file
    where: str | None = None  # what load errors name: the file it was read from, when not `url`
    path: Path | None = None
    mtime: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)  # visual steps: systemName, name, isStart, isEnd
    variables: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, Any] = field(default_factory=dict)
    # The files a visual workflow was made from (its JSON, the templates and helpers it used) and their
    # modification times, so an edit is picked up on the next run as a script plan's is.
    files: dict[Path, float | None] = field(default_factory=dict)
    # Visual workflows: where each action's block is in `source`, so an error at line N of the assembled
    # script can name the action, and the template line, it came from.
    blocks: list[_Block] = field(default_factory=list)

    def locate_in(self, text: str | None) -> str | None:
        """Where `<url>:<line>` in an error or stack came from: the action, and the template line."""
        match = re.search(rf"{re.escape(self.url)}:(\d+)", text or "")
        return self.locate(int(match.group(1))) if match else None

    def locate(self, line: int) -> str | None:
        for block in self.blocks:
            if block.first <= line <= block.last:
                return block.locate(line)
        return None

    @property
    def key(self) -> str:
        """The key in V8: changes when the source does, so a reload never mixes versions."""
        return f"{self.system_name}@{hash(self.source) & 0xFFFFFFFF:08x}"


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def changed(plan: Plan) -> bool:
    """Whether a file the plan was made from was edited since (a removed file keeps what was loaded)."""
    if plan.plan_type == "script":
        return plan.path is not None and _mtime(plan.path) not in (plan.mtime, None)
    return any(_mtime(p) not in (when, None) for p, when in plan.files.items())


def reload_visual(plan: Plan, ide_root: Path | None) -> Plan:
    """The same workflow read again from its file, with the action templates as they are now."""
    from emulator.kernel.jsonfile import JsonFileError, load

    assert plan.path is not None
    try:
        doc = load(plan.path)
    except JsonFileError as exc:
        raise PlanError(str(exc)) from None
    return visual_plan(plan.system_name, doc, plan.limits, action_types(ide_root), plan.where, plan.path)


def script_plan(name: str, path: Path, limits: dict[str, Any] | None = None, where: str | None = None) -> Plan:
    """`where` labels the plan's errors and stack frames: `plans/<file>` for a solution's plan; the path as
    given for a file run from anywhere (`operate run elsewhere/bad.js`)."""
    try:
        source = path.read_text("utf-8-sig")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror}") from None
    label = where or f"plans/{path.name}"
    return Plan(name, name, "script", source, label, path=path, mtime=path.stat().st_mtime, limits=limits or {})


def visual_plan(
    name: str,
    doc: dict[str, Any],
    limits: dict[str, Any] | None = None,
    types: ActionTypes | None = None,
    where: str | None = None,
    path: Path | None = None,
) -> Plan:
    """One script plan from a visual workflow, in the export shape (`Steps`, `Actions` with `Configuration`
    and `Connections` as JSON text, `Scripts[].GeneratedScript`) or the API shape (`steps[].actions[]` with
    `actionSystemName`, `config`, `connections`). An action runs its GeneratedScript when the file has one
    (what the tenant compiled), else the code its action type's template generates."""
    where = where or f"workflows/{name}.json"  # what errors name: the file the workflow came from
    plan_info, steps, variables = _workflow_parts(doc, where)
    scripts = _scripts(doc, where)
    step_names = _step_names(steps, where)
    _check_exported_actions(doc, step_names, where)
    script = _StepScript(types if types is not None else action_types(None), scripts, where, path)
    for step, sn in zip(steps, step_names, strict=True):
        script.add_step(sn, _step_actions(doc, step, sn, where))
    lines, blocks = script.assembled(step_names)
    return Plan(
        name,
        get_ci(plan_info, "Name") or name,
        "visualWorkflow",
        "\n".join(lines),
        f"workflows/{name}.js",
        where=where,
        path=path,
        files={p: _mtime(p) for p in script.used},
        steps=[
            {
                "systemName": get_ci(s, "SystemName"),
                "name": get_ci(s, "Name"),
                "isStart": bool(get_ci(s, "IsStart")),
                "isEnd": bool(get_ci(s, "IsEnd")),
            }
            for s in steps
        ],
        variables=list(variables),
        limits=limits or {},
        blocks=blocks,
    )


def _workflow_parts(doc: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[Any]]:
    """The workflow's own description (`VisualPlan`, or the document in the API shape), its steps (one at
    least) and its variables."""
    if not isinstance(doc, dict):
        raise PlanError(f"{where}: a visual workflow is a JSON object")
    plan_info = get_ci(doc, "VisualPlan") or doc
    if not isinstance(plan_info, dict):
        raise PlanError(f'{where}: "VisualPlan" must be an object')
    steps = get_ci(doc, "Steps") or []
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise PlanError(f'{where}: "steps" must be a list of objects')
    if not steps:
        raise PlanError(f"{where}: the workflow has no steps")
    variables = get_ci(doc, "Variables") or []
    if not isinstance(variables, list):
        raise PlanError(f'{where}: "variables" must be a list')
    return plan_info, steps, variables


class _StepScript:
    """The one script a visual workflow runs as, written step by step: a function per step holding its
    actions' blocks, where each block came from, the helper scripts they need and the files they were made of."""

    def __init__(self, types: ActionTypes, scripts: dict[str, str], where: str, path: Path | None) -> None:
        self.types, self.scripts, self.where = types, scripts, where
        self.lines: list[str] = []
        self.blocks: list[_Block] = []
        self.helpers: dict[str, Template] = {}
        self.used: list[Path] = [path] if path else []

    def add_step(self, sn: str, actions: list[_Action]) -> None:
        self.lines.append(f"function {_function_name(sn)}(ev, ctx, log) {{")
        for action in actions:
            self._add_action(sn, action)
        self.lines.append("}")

    def _add_action(self, sn: str, action: _Action) -> None:
        """The action's GeneratedScript when the file has one, else the code its template generates."""
        label = f"action {action.name!r} ({action.type}{' ' + action.id if action.id else ''})"
        script = self.scripts.get(action.id.lower()) if action.id else None
        block: ExpandedBlock | None = None
        template: Template | None = None
        if not script:
            block, template = self._expand(sn, label, action)
            script = block.code
        else:
            self.helpers.update((h.name, h) for h in _generated_script_helpers(script, action.type, self.types))
        self.lines.append(f"  // {label}")
        first = len(self.lines) + 1
        self.lines.extend("  " + line for line in LINE_BREAK.split(script.rstrip("\r\n")))
        name, source = (template.name, template.path) if template else (None, None)
        self.blocks.append(_Block(first, len(self.lines), sn, label, block, name, source))

    def _expand(self, sn: str, label: str, action: _Action) -> tuple[ExpandedBlock, Template]:
        """The block the action type's template generates from the action's configuration, and the
        template's name; its helper scripts join the plan's."""
        try:
            action_type = self.types.find(action.type)
        except ActionError as exc:
            raise PlanError(f"{self.where}: step {sn!r}, {label}: {exc}") from None
        if action_type is None:
            unreadable = "".join(f"; and {problem}" for problem in self.types.unreadable)
            raise PlanError(
                f"{self.where}: step {sn!r}, {label}: nothing to run: the file has no GeneratedScript for it, and "
                f"there is no template for action type {action.type!r} (no *.wf-action.json in _IDE/ names it, "
                f"nor is it one of the built-in actions {self.types.builtin}){unreadable}"
            )
        try:
            block = expand(action_type.template, action.configuration, action.connections)
        except TemplateError as exc:
            raise PlanError(f"{self.where}: step {sn!r}, {label}: {exc}") from None
        self.helpers.update((h.name, h) for h in action_type.helper_scripts)
        self.used.extend(t.path for t in (action_type.template, *action_type.helper_scripts) if t.path)
        return block, action_type.template

    def assembled(self, step_names: list[str]) -> tuple[list[str], list[_Block]]:
        """The script's lines and blocks: helper scripts first (once each, before the generated script),
        then the step functions, then the object that names them."""
        lines, blocks = list(self.lines), list(self.blocks)
        prelude: list[str] = []
        for helper in self.helpers.values():
            prelude.append(f"// helper script {helper.name}")
            first = len(prelude) + 1
            prelude.extend(LINE_BREAK.split(helper.text.rstrip("\r\n")))
            blocks.append(
                _Block(first, len(prelude), "", f"helper script {helper.name}", None, helper.name, helper.path)
            )
        if prelude:
            blocks = [b.shifted(len(prelude)) if b.step else b for b in blocks]
            lines = prelude + lines
        mapping = ", ".join(f"{json.dumps(sn)}: {_function_name(sn)}" for sn in step_names)
        lines.append(f"return {{ {mapping} }};")
        return lines, blocks


def _generated_script_helpers(script: str, kind: str, types: ActionTypes) -> list[Template]:
    """The helper libraries an exported GeneratedScript runs with [inferred: whether the platform inlines them
    into the generated code is not public]: its action type's, when the solution has that type and it names
    some, else the platform's libraries the code names (`StringHelpers.format(...)`)."""
    try:
        action_type = types.find(kind)
    except ActionError:
        action_type = None
    if action_type is not None and action_type.helper_scripts:
        return list(action_type.helper_scripts)
    named = [name for name in platform_helpers() if re.search(rf"\b{re.escape(name)}\s*\.", script)]
    return [t for t in (platform_helper(name) for name in named) if t is not None]


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
    if nested is not None and not isinstance(nested, list):
        raise PlanError(f'{where}: step {sn!r}: "actions" must be a list')
    exported = [a for a in (get_ci(doc, "Actions") or []) if get_ci(a, "VisualPlanStepSystemName") == sn]
    raw = (nested or []) + sorted(exported, key=lambda a: get_ci(a, "Order") or 0)
    out = []
    for index, action in enumerate(raw):
        if not isinstance(action, dict):
            raise PlanError(f"{where}: step {sn!r}: action {index + 1} is not an object")
        action_id = str(get_ci(action, "Id") or "")
        name = get_ci(action, "Name") or action_id or f"#{index + 1}"
        kind = get_ci(action, "ActionSystemName")
        at = f"{where}: step {sn!r}, action {name!r}"
        if not isinstance(kind, str) or not kind:
            raise PlanError(f"{at}: no actionSystemName")
        configuration, connections = (_action_object(action, keys, at) for keys in ACTION_OBJECTS)
        out.append(_Action(action_id, str(name), kind, configuration, connections))
    return out


# An action's two objects, each under the names the export and the API shapes give it (the first names it
# in errors); the export holds them as JSON text.
ACTION_OBJECTS = (("Configuration", "config"), ("Connections",))


def _action_object(action: dict[str, Any], keys: tuple[str, ...], at: str) -> dict[str, Any]:
    """The action's configuration or connections as an object (JSON text read, missing or empty: {})."""
    value = next((get_ci(action, k) for k in keys if get_ci(action, k) is not None), None)
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise PlanError(f"{at}: {keys[0]} is not JSON: {exc}") from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise PlanError(f"{at}: {keys[0]} must be an object")
    problem = value_problem(value)
    if problem:
        path, what, detail = problem
        raise PlanError(f"{at}: {keys[0]} {path} {what}{detail}")
    return value


# Names a step function may not have: JavaScript's reserved words and the globals every step uses.
# fmt: off
RESERVED = frozenset({
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else",
    "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof",
    "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while",
    "with", "yield", "let", "static", "implements", "interface", "package", "private", "protected", "public",
    "await", "arguments", "eval", "ev", "ctx", "log", "trigger", "sharedo", "actions", "DateTime", "Guid",
    "JSON", "Math", "Object", "Array", "String", "Number", "Boolean", "Date", "Promise", "Error", "RegExp",
    "Map", "Set", "Symbol", "Reflect", "Proxy", "moment", "undefined", "NaN", "Infinity",
})
# fmt: on


def _function_name(step: str) -> str:
    return step.replace("-", "_")


def _step_names(steps: list[dict[str, Any]], where: str) -> list[str]:
    names: list[str] = []
    functions: dict[str, str] = {}
    for step in steps:
        sn = get_ci(step, "SystemName")
        if not isinstance(sn, str) or not _function_name(sn).replace("$", "_").isidentifier():
            raise PlanError(f"{where}: step system name {sn!r} is not usable as a function name")
        if _function_name(sn) in RESERVED:
            raise PlanError(f"{where}: step system name {sn!r} is a JavaScript word or a global every step uses")
        if sn in names:
            raise PlanError(f"{where}: two steps are called {sn!r}")
        other = functions.setdefault(_function_name(sn), sn)
        if other != sn:
            raise PlanError(f"{where}: steps {other!r} and {sn!r} would be the same function {_function_name(sn)}")
        names.append(sn)
    return names


def _scripts(doc: dict[str, Any], where: str) -> dict[str, str]:
    scripts = get_ci(doc, "Scripts") or []
    if not isinstance(scripts, list):
        raise PlanError(f'{where}: "Scripts" must be a list')
    out: dict[str, str] = {}
    for index, entry in enumerate(scripts):
        code = get_ci(entry, "GeneratedScript") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(code, (str, type(None))):
            raise PlanError(f"{where}: Scripts[{index}] must be an object whose GeneratedScript is text")
        out[str(get_ci(entry, "VisualPlanStepActionId")).lower()] = code or ""
    return out


def _check_exported_actions(doc: dict[str, Any], step_names: list[str], where: str) -> None:
    """Every top-level action belongs to a step and says where in it: none is left out unseen."""
    actions = get_ci(doc, "Actions")
    if actions is None:
        return
    if not isinstance(actions, list):
        raise PlanError(f'{where}: "Actions" must be a list')
    for index, action in enumerate(actions):
        label = f"Actions[{index}]"
        if not isinstance(action, dict):
            raise PlanError(f"{where}: {label} is not an object")
        label = f"action {get_ci(action, 'Name') or get_ci(action, 'Id') or index + 1!r}"
        step = get_ci(action, "VisualPlanStepSystemName")
        if step not in step_names:
            raise PlanError(f"{where}: {label}: its VisualPlanStepSystemName {step!r} is not a step ({step_names})")
        order = get_ci(action, "Order")
        if order is not None and (isinstance(order, bool) or not isinstance(order, (int, float))):
            raise PlanError(f"{where}: {label}: Order must be a number, not {order!r}")


@dataclass
class BrokenPlan:
    """A plan the solution names that could not be loaded: the reason (naming the file and line), and the
    files to watch so that an edit that fixes it is picked up on the next run."""

    system_name: str
    reason: str
    files: dict[Path, float | None] = field(default_factory=dict)
    # Broken by what it uses in _IDE/ (a missing helper or template, a manifest): the fix may be a file added
    # anywhere there, which no watched mtime shows, so each start tries it again.
    retry: bool = False

    def changed(self) -> bool:
        return self.retry or any(_mtime(p) not in (when, None) for p, when in self.files.items())

    def still(self, reason: str) -> BrokenPlan:
        """Still broken after an edit: the new reason, and the files as they are now."""
        return BrokenPlan(self.system_name, reason, {p: _mtime(p) for p in self.files}, self.retry)


def solution_plans(solution: Solution, broken: dict[str, BrokenPlan] | None = None) -> dict[str, Plan]:
    """The solution's plans. With `broken`, a plan that cannot be loaded is recorded there (one broken
    workflow marks only itself, DESIGN decision 12); without, the first such error is raised."""
    per_plan = solution.config.get("plans", {})
    plans: dict[str, Plan] = {}
    types: ActionTypes | None = None

    def keep(name: str, exc: PlanError, path: Path | None, retry: bool = False) -> None:
        if broken is None:
            raise exc
        broken[name] = BrokenPlan(name, str(exc), {path: _mtime(path)} if path else {}, retry)

    for name, path in solution.plans.items():
        try:
            plans[name] = script_plan(name, path, per_plan.get(name))
        except PlanError as exc:
            keep(name, exc, path)
    for name, problem in solution.workflow_problems.items():
        keep(name, PlanError(problem), solution.workflow_files.get(name))
    for name, doc in solution.workflows.items():
        path = solution.workflow_files.get(name)
        conflict = name in plans or name in (broken or {})
        try:
            if conflict:
                raise PlanError(f"plan {name!r} is both plans/{name}.js and a visual workflow")
            types = types or action_types(solution.ide_root)
            plans[name] = visual_plan(name, doc, per_plan.get(name), types, path=path)
        except PlanError as exc:
            plans.pop(name, None)
            keep(name, exc, path, retry=not conflict)
    return plans


def outline(doc: dict[str, Any], where: str = "the workflow") -> list[dict[str, Any]]:
    """A visual workflow as a person reads it in the modeller: each step, its actions in order and the
    outlets each action follows (`Connections`: outlet name → the step it starts). Assumes a workflow
    that `visual_plan` accepted."""
    steps = get_ci(doc, "Steps") or []
    out = []
    for step, sn in zip(steps, _step_names(steps, where), strict=True):
        actions = []
        for action in _step_actions(doc, step, sn, where):
            outlets = {
                str(name): str(target.get("step")) if isinstance(target, dict) else str(target)
                for name, target in action.connections.items()
            }
            actions.append({"name": action.name, "type": action.type, "outlets": outlets})
        out.append(
            {
                "systemName": sn,
                "name": get_ci(step, "Name") or sn,
                "isStart": bool(get_ci(step, "IsStart")),
                "isEnd": bool(get_ci(step, "IsEnd")),
                "actions": actions,
            }
        )
    return out
