"""Load a solution folder (see docs/solution-format.md): what a tenant is configured with."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..features import FeatureError, FeatureSwitches
from ..kernel.jsonfile import JsonFileError, get_ci, load
from ..kernel.settings_table import Setting, SettingsTable
from .worktypes import WorkTypeError, WorkTypes, parse_worktype

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class SolutionError(ValueError):
    """A solution that cannot be loaded; the message names the file and what is wrong."""


@dataclass
class Solution:
    root: Path
    name: str
    config: dict[str, Any]
    worktypes: WorkTypes
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    triggers: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    plans: dict[str, Path] = field(default_factory=dict)
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    workflow_files: dict[str, Path] = field(default_factory=dict)  # where each was read from (reload on edit)
    # A workflow file that could not be read, by its file's name: marked broken, the rest of the solution loads.
    workflow_problems: dict[str, str] = field(default_factory=dict)
    # A trigger file that could not be read (not JSON): listed as not loaded, the rest of the solution loads.
    trigger_problems: list[str] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    organisations: list[dict[str, Any]] = field(default_factory=list)
    seed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def portal_files(self) -> list[Path]:
        """portals/*.json (the export's portal documents), listed afresh: the widget pages read them on every
        request, so an edit or a new file shows on reload and a broken one is reported on the page."""
        return _json_files(self.root / "portals")

    @property
    def ide_root(self) -> Path | None:
        path = self.root / "_IDE"
        return path if path.is_dir() else None

    def form_fields(self) -> dict[str, set[str]]:
        """Form system name → its field names (`form-<form>.<field>` reads the attribute <field>)."""
        out: dict[str, set[str]] = {}
        for sn, doc in self.forms.items():
            fields = get_ci(doc, "Fields") or []
            out[sn] = {get_ci(f, "Name") for f in fields if isinstance(f, dict) and get_ci(f, "Name")}
        return out

    def limits(self) -> dict[str, Any]:
        return dict(self.config.get("limits", {}))


def builtin_worktypes() -> list:
    """The product's own base types (matter, task) that exported types derive from."""
    raw = json.loads(resources.files("emulator.catalogue").joinpath("worktypes.json").read_text("utf-8"))
    return [parse_worktype(doc, "emulator/catalogue/worktypes.json") for doc in raw["worktypes"]]


def empty_solution() -> Solution:
    """A tenant with nothing configured: the built-in types, no seed."""
    return Solution(root=Path("(none)"), name="(empty)", config={}, worktypes=WorkTypes(builtin_worktypes()))


def demo_solution_path() -> Path:
    return Path(str(resources.files("emulator").joinpath("demo_solution")))


def _json_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".json")


def _load_json(path: Path) -> Any:
    try:
        return load(path)
    except JsonFileError as exc:
        raise SolutionError(str(exc)) from None
    except OSError as exc:
        raise SolutionError(f"{path}: cannot read: {exc.strerror}") from None


def _json_list(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = _load_json(path)
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise SolutionError(f"{path}: expected a JSON array of objects")
    return data


def _unwrap(doc: Any, key: str) -> Any:
    """Exports wrap an item in an object (`{"ParticipantRole": {...}, ...}`): find the part that has `key`."""
    if isinstance(doc, dict) and get_ci(doc, key) is None:
        inner = next((v for v in doc.values() if isinstance(v, dict) and get_ci(v, key) is not None), None)
        if inner is not None:
            return inner
    return doc


def workflow_name(doc: Any, path: Path) -> str:
    """A visual workflow's system name: `VisualPlan.SystemName` (export shape), `systemName` (API shape),
    else the file's name."""
    if not isinstance(doc, dict):
        return path.stem
    info = get_ci(doc, "VisualPlan")
    sn = get_ci(info if isinstance(info, dict) else doc, "SystemName")
    return sn if isinstance(sn, str) and sn else path.stem


def _include_path(root: Path, include: str) -> Path:
    """`pkg:smartplans/examples` is a folder inside an installed package, so a copied solution still
    finds it; anything else is a path relative to the solution folder."""
    if include.startswith("pkg:"):
        package, _, rest = include[4:].partition("/")
        try:
            return Path(str(resources.files(package))) / rest
        except ModuleNotFoundError:
            raise SolutionError(f"[solution] include {include!r}: no installed package {package!r}") from None
    return (root / include).resolve()


# What makes a folder a solution (docs/solution-format.md): every part is optional, but a folder with
# none of them is a mistake (the wrong folder, or one not yet written), not an empty tenant.
SOLUTION_PARTS = (
    "operate.toml", "worktypes", "roles", "forms", "triggers", "plans", "workflows", "ods", "seed", "portals",
    "_IDE", "_plugins", "tests",
)  # fmt: skip


def load_solution(root: str | Path) -> Solution:
    root = Path(root)
    _check_is_solution(root)
    toml_path = root / "operate.toml"
    config = read_config(toml_path)
    name = str(config.get("solution", {}).get("name") or root.resolve().name)
    worktypes, roles, forms = _worktypes(root), _roles(root), _forms(root)
    shared = _SharedParts()
    for folder in _folders(root, toml_path, config):
        if not folder.is_dir():
            raise SolutionError(f"{toml_path}: included folder {folder} does not exist")
        shared.read(folder)
    solution = Solution(
        root=root,
        name=name,
        config=config,
        worktypes=worktypes,
        roles=roles,
        forms=forms,
        triggers=shared.triggers,
        plans=shared.plans,
        workflows=shared.workflows,
        workflow_files=shared.workflow_files,
        workflow_problems=shared.workflow_problems,
        trigger_problems=shared.trigger_problems,
        people=_json_list(root / "ods" / "people.json"),
        organisations=_json_list(root / "ods" / "organisations.json"),
        seed=_json_list(root / "seed" / "workitems.json"),
    )
    _check_roles(solution)
    _check_clients(toml_path, config.get("clients", {}))
    try:
        FeatureSwitches(config.get("features"), f"{toml_path}: [features]")
    except FeatureError as exc:
        raise SolutionError(str(exc)) from None
    return solution


def _check_is_solution(root: Path) -> None:
    if not root.is_dir():
        raise SolutionError(f"{root}: not a folder (a solution is a folder with operate.toml, worktypes/, ...)")
    if not any(entry.name in SOLUTION_PARTS for entry in root.iterdir()):
        raise SolutionError(
            f"{root}: not a solution: it holds none of {', '.join(SOLUTION_PARTS)} (a solution needs at least one; "
            "`operate init DIR` writes a new one, `operate init DIR --from-demo` copies the demo, "
            "docs/solution-format.md describes each part)"
        )


def read_config(toml_path: Path) -> dict[str, Any]:
    """operate.toml, or nothing configured when the solution has none."""
    if not toml_path.is_file():
        return {}
    try:
        return tomllib.loads(toml_path.read_text("utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise SolutionError(f"{toml_path}: {exc}") from None


def _worktypes(root: Path) -> WorkTypes:
    """worktypes/*.json, then the built-in types the solution does not define itself."""
    parsed = []
    for path in _json_files(root / "worktypes"):
        try:
            parsed.append(parse_worktype(_load_json(path), str(path)))
        except WorkTypeError as exc:
            raise SolutionError(str(exc)) from None
    own = {t.system_name for t in parsed}
    parsed += [t for t in builtin_worktypes() if t.system_name not in own]
    try:
        return WorkTypes(parsed)
    except WorkTypeError as exc:
        raise SolutionError(f"{root / 'worktypes'}: {exc}") from None


def _roles(root: Path) -> dict[str, dict[str, Any]]:
    """roles/*.json by system name, each in the API's shape with its category's system name."""
    roles: dict[str, dict[str, Any]] = {}
    for path in _json_files(root / "roles"):
        doc = _role(_load_json(path))
        sn = get_ci(doc, "SystemName") if isinstance(doc, dict) else None
        if not sn:
            raise SolutionError(f"{path}: a participant role needs SystemName")
        roles[sn] = doc
    return roles


def _role(raw: Any) -> Any:
    """The real export's `{Role, Category, ...}`, or a role wrapped another way, as one role object."""
    role = get_ci(raw, "Role") if isinstance(raw, dict) else None
    doc = role if isinstance(role, dict) else _unwrap(raw, "SystemName")
    category = get_ci(raw, "Category") if isinstance(raw, dict) else None
    if isinstance(doc, dict) and isinstance(category, dict) and not get_ci(doc, "ParticipantRoleCategorySystemName"):
        doc = {**doc, "ParticipantRoleCategorySystemName": get_ci(category, "SystemName")}
    return doc


def _forms(root: Path) -> dict[str, dict[str, Any]]:
    forms: dict[str, dict[str, Any]] = {}
    for path in _json_files(root / "forms"):
        doc = _load_json(path)
        form = get_ci(doc, "Form") if isinstance(doc, dict) else None
        sn = get_ci(form, "SystemName") if isinstance(form, dict) else None
        if not sn:
            raise SolutionError(f"{path}: a form needs Form.SystemName")
        forms[sn] = doc
    return forms


def _folders(root: Path, toml_path: Path, config: dict[str, Any]) -> list[Path]:
    """The solution and the folders `[solution] include = ["../shared-plans"]` names: their plans, triggers and
    workflows join this solution's (the demo includes the finance examples this way)."""
    includes = config.get("solution", {}).get("include", [])
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise SolutionError(f"{toml_path}: [solution] include must be a list of folder paths")
    return [root, *(_include_path(root, i) for i in includes)]


@dataclass
class _SharedParts:
    """What the solution and its included folders add up to: triggers, visual workflows and script plans."""

    triggers: list[tuple[Path, Any]] = field(default_factory=list)
    trigger_problems: list[str] = field(default_factory=list)
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    workflow_files: dict[str, Path] = field(default_factory=dict)
    workflow_problems: dict[str, str] = field(default_factory=dict)
    plans: dict[str, Path] = field(default_factory=dict)

    def read(self, folder: Path) -> None:
        for path in _json_files(folder / "triggers"):
            try:
                self.triggers.append((path, _load_json(path)))
            except SolutionError as exc:  # one unreadable trigger is listed, not fatal to the solution
                self.trigger_problems.append(str(exc))
        for path in _json_files(folder / "workflows"):
            self._workflow(path)
        plans_dir = folder / "plans"
        for path in sorted(plans_dir.glob("*.js")) if plans_dir.is_dir() else []:
            if path.stem in self.plans:
                raise SolutionError(f"{path}: plan {path.stem!r} is also {self.plans[path.stem]}")
            self.plans[path.stem] = path

    def _workflow(self, path: Path) -> None:
        try:
            doc = _load_json(path)
        except SolutionError as exc:  # one unreadable workflow is marked broken, not the solution
            self.workflow_problems[path.stem] = str(exc)
            self.workflow_files[path.stem] = path
            return
        sn = workflow_name(doc, path)
        if sn in self.workflows or sn in self.workflow_problems:  # which one is meant is the user's to say
            first = self.workflow_files.get(sn)
            self.workflows.pop(sn, None)
            self.workflow_problems[sn] = (
                self.workflow_problems.get(sn) or f"{first}: workflow {sn!r} is defined twice"
            ) + f"; also in {path}"
            self.workflow_files[sn] = first or path
            return
        self.workflows[sn] = doc
        self.workflow_files[sn] = path


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


CLIENT_GRANTS = {
    "client_credentials",
    "Impersonate.Specified",
    "Impersonate.Fixed",
    "refresh_token",
    "authorization_code",
    "implicit",
}
CLIENT_URI_KEYS = ("redirect_uris", "post_logout_redirect_uris")
# What each key of a [clients.<id>] table must be, checked in this order.
CLIENT_SETTINGS: tuple[Setting, ...] = (
    *(Setting(key, ((_is_str, "{where}: {name} must be a string"),)) for key in ("secret", "user", "description")),
    *(
        Setting(key, ((_is_str_list, "{where}: {name} must be a list of strings"),))
        for key in ("grants", "permissions", *CLIENT_URI_KEYS)
    ),
)
CLIENT_KEYS = {setting.name for setting in CLIENT_SETTINGS}


def _check_clients(toml_path: Path, clients: Any) -> None:
    """[clients.<id>] tables (docs/solution-format.md): a mistyped key or a redirect URI that could never match
    is named here, at load, not discovered as a refused sign-in."""
    if not isinstance(clients, dict):
        raise SolutionError(f"{toml_path}: [clients] must be a table of client tables")
    for cid, cfg in clients.items():
        where = f"{toml_path}: [clients.{cid}]"
        if not isinstance(cfg, dict):
            raise SolutionError(f"{where} must be a table")
        table = SettingsTable(cfg, where, SolutionError)
        unknown = sorted(set(cfg) - CLIENT_KEYS)
        if unknown:
            table.fail(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(CLIENT_KEYS))})")
        table.read(CLIENT_SETTINGS)
        bad = [g for g in cfg.get("grants", []) if g not in CLIENT_GRANTS]
        if bad:
            table.fail(f"unknown grant {bad[0]!r} (known: {', '.join(sorted(CLIENT_GRANTS))})")
        for key in CLIENT_URI_KEYS:
            for uri in cfg.get(key, []):
                if not _is_redirect_uri(uri):
                    table.fail(
                        f"{key} entry {uri!r} must be an absolute http(s) URL or a path on the emulator "
                        "(starting with /), without a #fragment"
                    )


def _is_redirect_uri(uri: str) -> bool:
    """An absolute http(s) URL with a host, or a path on the emulator; never with a #fragment."""
    absolute = uri.startswith(("http://", "https://")) and len(uri.split("/", 3)[2]) > 0
    return "#" not in uri and (absolute or uri.startswith("/"))


def _check_roles(solution: Solution) -> None:
    if not solution.roles:
        return  # a solution without role files accepts the roles its types name
    for wt in solution.worktypes:
        for declared in wt.own_roles:
            role = get_ci(declared, "ParticipantRoleSystemName")
            if role not in solution.roles:
                raise SolutionError(
                    f"work type {wt.system_name!r} names participant role {role!r}, which no file in roles/ defines"
                )
