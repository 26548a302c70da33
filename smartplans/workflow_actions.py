"""The action types a visual workflow's steps can use, and the template each generates its code from:
the solution's own IDE actions (`_IDE/**/<Name>.wf-action.json`) and the platform's built-ins
(`smartplans/actions/<name>-template.js`, provenance in `actions.json`)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from emulator.kernel.jsonfile import JsonFileError, get_ci, load
from emulator.solution.idefiles import find_case_insensitive, resolve_ide_path

from .action_templates import Template

MANIFEST_SUFFIX = ".wf-action.json"


class ActionError(ValueError):
    """An IDE action the platform could not use; says which manifest and why."""


@dataclass
class ActionType:
    system_name: str
    template: Template
    origin: str  # "built-in" or the manifest, relative to the IDE folder
    helper_scripts: tuple[Template, ...] = ()


def builtin_actions() -> dict[str, ActionType]:
    folder = resources.files("smartplans").joinpath("actions")
    catalogue = load(Path(str(folder.joinpath("actions.json"))))
    out: dict[str, ActionType] = {}
    for name in catalogue:
        if name.startswith("/"):
            continue
        text = folder.joinpath(f"{name}-template.js").read_text("utf-8")
        out[name] = ActionType(name, Template(f"built-in action {name}", text), "built-in")
    return out


def ide_actions(ide_root: Path | None) -> dict[str, ActionType]:
    """Every `*.wf-action.json` under the IDE folder; its `templateScript` is an IDE path (`/_ideFiles/...`)."""
    if ide_root is None:
        return {}
    out: dict[str, ActionType] = {}
    for manifest in sorted(p for p in ide_root.rglob("*") if p.name.lower().endswith(MANIFEST_SUFFIX)):
        where = manifest.relative_to(ide_root).as_posix()
        try:
            doc = load(manifest)
        except JsonFileError as exc:
            raise ActionError(str(exc)) from None
        if not isinstance(doc, dict) or not isinstance(get_ci(doc, "systemName"), str):
            raise ActionError(f'_IDE/{where}: a workflow action manifest needs a "systemName"')
        name = get_ci(doc, "systemName")
        if name in out:
            raise ActionError(f"_IDE/{where}: action {name!r} is also defined by _IDE/{out[name].origin}")
        template_path = get_ci(doc, "templateScript")
        if not isinstance(template_path, str) or not template_path:
            raise ActionError(f'_IDE/{where}: action {name!r} has no "templateScript"')
        helpers = get_ci(doc, "helperScripts") or []
        if not isinstance(helpers, list) or not all(isinstance(h, str) for h in helpers):
            raise ActionError(f'_IDE/{where}: "helperScripts" must be a list of IDE paths')
        out[name] = ActionType(
            name,
            _read(ide_root, manifest, where, template_path),
            where,
            tuple(_read(ide_root, manifest, where, h) for h in helpers),
        )
    return out


def _read(ide_root: Path, manifest: Path, where: str, ide_path: str) -> Template:
    found = resolve_ide_path(ide_root, ide_path)
    if found is None:
        beside = find_case_insensitive(manifest.parent, ide_path.replace("\\", "/").rsplit("/", 1)[-1])
        hint = (
            f"; {beside.relative_to(ide_root).as_posix()} is beside the manifest, so the action's folder sits at "
            f"another path in _IDE/ than the manifest says"
            if beside is not None
            else ""
        )
        raise ActionError(f"_IDE/{where}: {ide_path} is not in the IDE folder{hint}")
    try:
        text = found.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionError(f"_IDE/{found.relative_to(ide_root).as_posix()}: cannot read: {exc}") from None
    return Template(f"_IDE/{found.relative_to(ide_root).as_posix()}", text)
