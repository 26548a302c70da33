"""Widget and blade manifests (`<Name>.widget.json`, `<Name>.panel.json`) found in IDE folders.

A tenant serves its IDE tree at `/_ideFiles/<path>`; the emulator serves the solution's `_IDE/` folder
and, after it, the built-in widgets (so a solution can override one by shipping a folder of the same
path). Manifests are read from disk on every call, so an edited file shows on the next page load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import JsonFileError, get_ci, load, loads

BUILTIN_IDE_ROOT = Path(__file__).parent / "builtin"
WIDGET_SUFFIX = ".widget.json"
PANEL_SUFFIX = ".panel.json"
SCENARIOS_SUFFIX = ".scenarios.json"
MAX_MANIFESTS = 2000  # a bound on the walk, so a huge folder cannot stall a page


class ManifestError(ValueError):
    """A manifest that cannot be used; says which file and what is wrong."""


@dataclass
class Manifest:
    """One widget or blade, with its asset URLs as the manifest wrote them (`/_ideFiles/...`)."""

    id: str
    kind: str  # "widget" or "panel"
    path: Path  # the manifest file
    ide_path: str  # its folder, relative to the IDE root (`Demo01/PMSWidget`)
    builtin: bool
    raw: dict[str, Any]
    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    menu_templates: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    url_prefix: str = "/_ideFiles/"  # where its folder is served: `/_pluginFiles/` for one under `_plugins/`

    @property
    def designer(self) -> dict[str, Any]:
        value = get_ci(self.raw, "designer")
        return value if isinstance(value, dict) else {}

    @property
    def title(self) -> str:
        return str(get_ci(self.designer, "title") or self.id)

    @property
    def icon(self) -> str:
        return str(get_ci(self.designer, "icon") or "fa-puzzle-piece")

    @property
    def description(self) -> str:
        return str(get_ci(self.designer, "description") or "")

    @property
    def configuration_widget(self) -> str | None:
        value = get_ci(self.designer, "configurationWidget")
        return str(value) if value else None

    @property
    def configures_plugin(self) -> str | None:
        """`"configuresPlugin": "<Plugin>"`: a plugin configuration widget (the marker is inferred; docs/widgets.md)."""
        value = get_ci(self.raw, "configuresPlugin")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def default_configuration(self) -> dict[str, Any]:
        """`designer.defaultConfigurationJson`: an object, or a JSON string of one, as exports have it."""
        value = get_ci(self.designer, "defaultConfigurationJson")
        where = f"{self.path}: designer.defaultConfigurationJson"
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = loads(value, where)
            except JsonFileError as exc:
                raise ManifestError(str(exc)) from None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ManifestError(f"{where} must be a JSON object (or a string holding one)")
        return dict(value)

    def to_json(self) -> dict[str, Any]:
        """What the host page needs to load and construct it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "icon": self.icon,
            "scripts": self.scripts,
            "styles": self.styles,
            "templates": self.templates,
            "menuTemplates": self.menu_templates,
            "components": self.components,
            "configurationWidget": self.configuration_widget,
            "configuresPlugin": self.configures_plugin,
            "defaultConfiguration": self.default_configuration(),
            "width": get_ci(self.raw, "width") if isinstance(get_ci(self.raw, "width"), (int, float)) else None,
            "builtin": self.builtin,
        }


def _url_list(doc: dict[str, Any], key: str, where: Path) -> list[str]:
    value = get_ci(doc, key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}: {key} must be a list of file paths")
    return [v.replace("\\", "/") for v in value]


def parse_manifest(path: Path, root: Path, builtin: bool, url_prefix: str = "/_ideFiles/") -> Manifest:
    kind = "panel" if path.name.lower().endswith(PANEL_SUFFIX) else "widget"
    try:
        doc = load(path)
    except JsonFileError as exc:
        raise ManifestError(str(exc)) from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: a {kind} manifest is a JSON object")
    ident = get_ci(doc, "id")
    if not isinstance(ident, str) or not ident.strip():
        raise ManifestError(f"{path}: the manifest needs an id (the name of its JavaScript constructor)")
    manifest = Manifest(
        id=ident.strip(),
        kind=kind,
        path=path,
        ide_path=path.parent.relative_to(root).as_posix(),
        builtin=builtin,
        raw=doc,
        scripts=_url_list(doc, "scripts", path),
        styles=_url_list(doc, "styles", path),
        templates=_url_list(doc, "templates", path),
        menu_templates=_url_list(doc, "menuTemplates", path),
        components=_url_list(doc, "components", path),
        url_prefix=url_prefix,
    )
    marker = get_ci(doc, "configuresPlugin")
    if marker is not None and not (isinstance(marker, str) and marker.strip()):
        raise ManifestError(f"{path}: configuresPlugin must name the plugin (its folder under _plugins/)")
    if get_ci(doc, "designer") is not None and not isinstance(get_ci(doc, "designer"), dict):
        raise ManifestError(f"{path}: designer must be an object")
    manifest.default_configuration()  # a designer.defaultConfigurationJson that is not JSON fails here, named
    return manifest


@dataclass
class WidgetManifests:
    """Every manifest under the IDE roots, and the ones that failed to load (shown, never hidden)."""

    manifests: dict[str, Manifest]
    errors: list[str]

    def widgets(self) -> list[Manifest]:
        return [m for m in self.manifests.values() if m.kind == "widget"]

    def get(self, ident: str) -> Manifest | None:
        found = self.manifests.get(ident)
        if found is None:  # ids are matched the way the portal resolves constructors: exactly, then by case
            found = next((m for k, m in self.manifests.items() if k.lower() == ident.lower()), None)
        return found


def ide_roots(solution_ide_root: Path | None) -> list[tuple[Path, bool]]:
    """(root, builtin) in lookup order: the solution's `_IDE/` first, then the built-in widgets."""
    roots = [(solution_ide_root, False)] if solution_ide_root else []
    return [*roots, (BUILTIN_IDE_ROOT, True)]


def scan(solution_ide_root: Path | None, plugins_root: Path | None = None) -> WidgetManifests:
    """Every manifest under the IDE roots and, when given, the solution's `_plugins/` folder (plugin widgets)."""
    manifests: dict[str, Manifest] = {}
    errors: list[str] = []
    roots = [(root, builtin, "/_ideFiles/") for root, builtin in ide_roots(solution_ide_root)]
    if plugins_root:
        roots.append((plugins_root, False, "/_pluginFiles/"))
    for root, builtin, url_prefix in roots:
        found: list[Path] = []
        for path in root.rglob("*.json"):  # bounded per root, so the built-ins are always listed
            name = path.name.lower()
            if name.endswith(WIDGET_SUFFIX) or name.endswith(PANEL_SUFFIX):
                found.append(path)
                if len(found) >= MAX_MANIFESTS:
                    errors.append(f"{root}: more than {MAX_MANIFESTS} manifests; only the first found are listed")
                    break
        for path in sorted(found):
            try:
                manifest = parse_manifest(path, root, builtin, url_prefix)
            except ManifestError as exc:
                errors.append(str(exc))
                continue
            if manifest.id in manifests:
                first = manifests[manifest.id]
                if first.builtin == builtin:
                    errors.append(f"{path}: id {manifest.id!r} is also declared by {first.path}")
                continue  # the solution's own widget wins over a built-in one of the same id
            manifests[manifest.id] = manifest
    return WidgetManifests(manifests, errors)
