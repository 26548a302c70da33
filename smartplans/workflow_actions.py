"""The action types a visual workflow's steps can use, and the template each generates its code from:
the solution's own IDE actions (`_IDE/**/<Name>.wf-action.json`) and the platform's built-ins
(`smartplans/actions/<name>-template.js`, provenance in `actions.json`). A manifest's `helperScripts`
names the platform's helper libraries (`smartplans/helpers/`, catalogue in `helpers.json`) or IDE files."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from emulator.kernel.jsonfile import JsonFileError, get_ci, load
from emulator.solution.idefiles import find_case_insensitive, resolve_ide_path

from .action_templates import Template

MANIFEST_SUFFIX = ".wf-action.json"
MAX_MANIFESTS = 1000  # a bound on the walk of _IDE/
# A template or helper script larger than this is not code an action carries (a data dump, a build artefact): it is
# refused by name rather than read into memory and compiled into every step of the workflows that use it.
MAX_SCRIPT_BYTES = 8 * 1024 * 1024


class ActionError(ValueError):
    """An IDE action the platform could not use; says which manifest and why."""


@dataclass
class ActionType:
    system_name: str
    template: Template
    origin: str  # "built-in" or the manifest, relative to the IDE folder
    helper_scripts: tuple[Template, ...] = ()


@functools.lru_cache(maxsize=1)
def _helper_catalogue() -> dict:
    """helpers.json, read once: it ships with the package, and each helper name of each manifest asks for it."""
    return load(Path(str(resources.files("smartplans").joinpath("helpers", "helpers.json"))))


def platform_helpers() -> dict[str, dict]:
    """The platform's helper libraries by name, as `helpers.json` describes them [inferred]."""
    catalogue = _helper_catalogue()
    return {name: entry for name, entry in catalogue.items() if not name.startswith("/") and isinstance(entry, dict)}


def platform_helper(name: str) -> Template | None:
    """A helper library the platform provides, by the name a manifest gives (any letter case); None if none."""
    found = next((entry for key, entry in platform_helpers().items() if key.lower() == name.strip().lower()), None)
    if found is None:
        return None
    path = Path(str(resources.files("smartplans").joinpath("helpers", found["file"])))
    return Template(f"platform helper {path.stem} (smartplans/helpers/{path.name})", path.read_text("utf-8"), path)


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


@dataclass
class ActionTypes:
    """What a solution's workflows can use. A manifest that cannot be used is kept as a problem, reported
    by the workflow that needs it: a broken action nobody uses does not stop the solution loading."""

    types: dict[str, ActionType] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # system name, or the manifest when it has none

    def find(self, name: str) -> ActionType | None:
        if name in self.problems:
            raise ActionError(self.problems[name])
        return self.types.get(name)

    @property
    def builtin(self) -> list[str]:
        return sorted(n for n, t in self.types.items() if t.origin == "built-in")

    @property
    def unreadable(self) -> list[str]:
        return [problem for key, problem in self.problems.items() if key.startswith("_IDE/")]


def action_types(ide_root: Path | None) -> ActionTypes:
    """The built-ins, with the solution's own IDE actions over them."""
    found = ide_actions(ide_root)
    return ActionTypes({**builtin_actions(), **found.types}, found.problems)


def ide_actions(ide_root: Path | None) -> ActionTypes:
    """Every `*.wf-action.json` under the IDE folder; its `templateScript` is an IDE path (`/_ideFiles/...`)."""
    out = ActionTypes()
    if ide_root is None:
        return out
    by_name = _FilesByName(ide_root)  # one walk of _IDE/ for every manifest's helper names
    for manifest in _manifests(ide_root, out):
        where = f"_IDE/{manifest.relative_to(ide_root).as_posix()}"
        name = None
        try:
            doc = _load(manifest, where)
            name = get_ci(doc, "systemName") if isinstance(doc, dict) else None
            if not isinstance(name, str) or not name:
                name = None
                raise ActionError(f'{where}: a workflow action manifest needs a "systemName"')
            if name in out.types or name in out.problems:
                first = out.types[name].origin if name in out.types else "another manifest"
                out.types.pop(name, None)
                raise ActionError(f"{where}: action {name!r} is also defined by {first}")
            out.types[name] = _action(ide_root, manifest, where, name, doc, by_name)
        except ActionError as exc:
            out.problems[name or where] = str(exc)
    return out


def _manifests(ide_root: Path, out: ActionTypes) -> list[Path]:
    """The manifests: regular files inside the IDE folder (not a folder, link out or pipe of that name)."""
    found: list[Path] = []
    root = ide_root.resolve()
    for path in sorted(ide_root.rglob("*")):
        if not path.name.lower().endswith(MANIFEST_SUFFIX):
            continue
        where = f"_IDE/{path.relative_to(ide_root).as_posix()}"
        try:
            if not path.is_file() or not path.resolve().is_relative_to(root):
                out.problems[where] = f"{where}: not a file inside the IDE folder"
                continue
        except OSError as exc:
            out.problems[where] = f"{where}: cannot read: {exc.strerror}"
            continue
        if len(found) == MAX_MANIFESTS:
            out.problems[where] = f"{where}: more than {MAX_MANIFESTS} workflow action manifests; the rest are ignored"
            break
        found.append(path)
    return found


def _load(manifest: Path, where: str) -> object:
    try:
        return load(manifest)
    except JsonFileError as exc:
        raise ActionError(str(exc).replace(str(manifest), where)) from None
    except OSError as exc:
        raise ActionError(f"{where}: cannot read: {exc.strerror}") from None


class _FilesByName:
    """The files under _IDE/ by lower-cased name, listed once when a helper is first looked up anywhere: a walk
    per helper name per manifest made a solution of hundreds of actions take minutes to load."""

    def __init__(self, ide_root: Path) -> None:
        self.ide_root = ide_root
        self._index: dict[str, list[Path]] | None = None

    def find(self, names: set[str]) -> list[Path]:
        if self._index is None:
            self._index = {}
            for path in self.ide_root.rglob("*"):
                self._index.setdefault(path.name.lower(), []).append(path)
        return sorted(p for name in names for p in self._index.get(name, []) if p.is_file())


def _action(
    ide_root: Path, manifest: Path, where: str, name: str, doc: dict, by_name: _FilesByName | None = None
) -> ActionType:
    template_path = get_ci(doc, "templateScript")
    if not isinstance(template_path, str) or not template_path:
        raise ActionError(f'{where}: action {name!r} has no "templateScript"')
    helpers = get_ci(doc, "helperScripts") or []
    if not isinstance(helpers, list) or not all(isinstance(h, str) for h in helpers):
        raise ActionError(f'{where}: "helperScripts" must be a list of helper library names or IDE paths')
    return ActionType(
        name,
        _read(ide_root, manifest, where, template_path),
        where,
        tuple(_helper(ide_root, manifest, where, h, by_name or _FilesByName(ide_root)) for h in helpers),
    )


def _helper(ide_root: Path, manifest: Path, where: str, name: str, by_name: _FilesByName) -> Template:
    """A `helperScripts` entry: first a library the platform provides (`StringHelpers`), then an IDE path
    (`/_ideFiles/...`), then a file of that name (with or without `.js`) beside the manifest or in _IDE/."""
    found = platform_helper(name)
    if found is not None:
        return found
    if resolve_ide_path(ide_root, name) is not None:
        return _read(ide_root, manifest, where, name)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    for candidate in (base, f"{base}.js"):
        beside = find_case_insensitive(manifest.parent, candidate)
        if beside is not None:
            return _read(ide_root, manifest, where, beside.relative_to(ide_root).as_posix())
    wanted = {base.lower(), f"{base.lower()}.js"}
    anywhere = by_name.find(wanted)
    if anywhere:
        return _read(ide_root, manifest, where, anywhere[0].relative_to(ide_root).as_posix())
    raise ActionError(
        f"{where}: helper script {name!r} is not one of the platform's helper libraries "
        f"({', '.join(sorted(platform_helpers()))}; smartplans/helpers/helpers.json) nor a file in the IDE folder"
    )


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
        raise ActionError(f"{where}: {ide_path} is not a file in the IDE folder{hint}")
    try:
        size = found.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise ActionError(
                f"_IDE/{found.relative_to(ide_root).as_posix()}: {size // (1024 * 1024)} MB is larger than the "
                f"{MAX_SCRIPT_BYTES // (1024 * 1024)} MB a template or helper script may be"
            )
        text = found.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ActionError(f"_IDE/{found.relative_to(ide_root).as_posix()}: cannot read: {reason}") from None
    return Template(f"_IDE/{found.relative_to(ide_root).as_posix()}", text, found)
