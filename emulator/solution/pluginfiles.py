"""A solution's plugin files: `<solution>/_plugins/<Plugin>/...`, served at `/_pluginFiles/<Plugin>/...` the way a
tenant serves an installed plugin's content (its manifest's `ContentFolder`), and the way `/_ideFiles/` serves `_IDE/`:
in any letter case, never outside the plugin's own folder.

Where a plugin's files live in a solution folder, and that its configuration starts from
`_plugins/<Plugin>/configuration.json`, are the emulator's choices (inferred; docs/solution-format.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import JsonFileError, load

from .idefiles import find_case_insensitive

PLUGINS_FOLDER = "_plugins"
PLUGIN_URL_PREFIX = "/_pluginFiles/"
CONFIGURATION_FILE = "configuration.json"  # a plugin's configuration as the solution ships it (inferred)


def plugins_root(solution_root: Path) -> Path | None:
    """`<solution>/_plugins` when the solution has one."""
    path = solution_root / PLUGINS_FOLDER
    return path if path.is_dir() else None


def plugin_folder(solution_root: Path, plugin: str) -> Path | None:
    """The folder of one plugin, its name matched in any letter case; None for a name that is no plain folder name."""
    root = plugins_root(solution_root)
    if root is None or not plugin or plugin in (".", "..") or "/" in plugin or "\\" in plugin:
        return None
    exact = root / plugin
    if exact.is_dir():
        found: Path | None = exact
    else:
        found = next((c for c in root.iterdir() if c.is_dir() and c.name.lower() == plugin.lower()), None)
    if found is None or not found.resolve().is_relative_to(root.resolve()):
        return None
    return found


def plugin_file(solution_root: Path, relative: str) -> Path | None:
    """`<Plugin>/<path>` (what follows `/_pluginFiles/`) → the file inside that plugin's folder, or None."""
    plugin, _, rest = relative.replace("\\", "/").lstrip("/").partition("/")
    folder = plugin_folder(solution_root, plugin)
    if folder is None or not rest:
        return None
    return find_case_insensitive(folder, rest)


def plugin_configuration(solution_root: Path, plugin: str) -> dict[str, Any] | None:
    """The configuration `_plugins/<Plugin>/configuration.json` holds, or None when there is no such file.

    Raises ValueError naming the file when it is not a JSON object."""
    folder = plugin_folder(solution_root, plugin)
    found = find_case_insensitive(folder, CONFIGURATION_FILE) if folder else None
    if found is None:
        return None
    try:
        value = load(found)
    except JsonFileError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(value, dict):
        raise ValueError(f"{found}: a plugin's configuration is a JSON object")
    return value
