"""Plugin configuration widgets on the harness, driven as the portal's plugin settings blade drives them.

A widget whose manifest says `"configuresPlugin": "<Plugin>"` (the marker is inferred) configures that plugin. Its
page gets the plugin's configuration — the one last saved here, else `_plugins/<Plugin>/configuration.json` from
the solution, else `{}` — and operate-bindings.js calls `load(config)`, keeps Save disabled while
`validationErrorCount() > 0`, and on Save stores what `save()` returned with
`PUT /_harness/plugins/<Plugin>/configuration`.
The stored configuration lives in the emulator's state (reset, exported and imported with it).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, request

from emulator.context import current_emulator
from emulator.kernel.errors import error_body
from emulator.solution.pluginfiles import plugin_configuration, plugin_folder, plugins_root

from .manifests import scan
from .portals import strict_json

MAX_PLUGIN_CONFIG_BYTES = 1_000_000
META_PREFIX = "harness.plugin-configuration."  # one row per plugin in the kernel's meta table

bp = Blueprint("widget_plugins", __name__)


def _key(plugin: str) -> str:
    return META_PREFIX + plugin.lower()


def configuration(em: Any, plugin: str) -> tuple[dict[str, Any], str]:
    """(configuration, where it came from) for the plugin: stored here, the solution's file, or nothing yet.

    Raises ValueError naming the file when the solution's configuration file is broken."""
    stored = em.store.get_meta(_key(plugin))
    if stored is not None:
        return json.loads(stored), "stored"
    shipped = plugin_configuration(em.solution.root, plugin)
    if shipped is not None:
        return shipped, f"from _plugins/{plugin}/configuration.json"
    return {}, f"no configuration yet (none stored, no _plugins/{plugin}/configuration.json)"


def boot_entry(em: Any, plugin: str, widget: str) -> dict[str, Any]:
    """What the page's boot data says about the plugin its widget configures."""
    value, source = configuration(em, plugin)
    return {"name": plugin, "widget": widget, "configuration": value, "source": source}


def _problem(status: int, message: str, field: str) -> Any:
    return jsonify(error_body(status, message, [{"field": field, "message": message}])), status


def known_plugins(em: Any) -> dict[str, str]:
    """Lower-cased name → name of every plugin the solution has: a folder under `_plugins/`, or one a widget
    manifest says it configures."""
    root = plugins_root(em.solution.root)
    folders = [p for p in root.iterdir() if p.is_dir()] if root else []
    # a link that leads out of _plugins/ serves nothing (plugin_folder), so it is no plugin here either
    found = {p.name.lower(): p.name for p in folders if plugin_folder(em.solution.root, p.name) is not None}
    for manifest in scan(em.solution.ide_root, root).widgets():
        if manifest.configures_plugin:
            found.setdefault(manifest.configures_plugin.lower(), manifest.configures_plugin)
    return found


def _unknown(em: Any, plugin: str) -> Any:
    known = ", ".join(sorted(known_plugins(em).values())) or "none"
    return _problem(
        404, f"no plugin {plugin[:80]!r} in the solution (a _plugins/<Plugin>/ folder); plugins: {known}", "plugin"
    )


@bp.get("/_harness/plugins/<plugin>/configuration")
def read(plugin: str):
    em = current_emulator()
    if plugin.lower() not in known_plugins(em):
        return _unknown(em, plugin)
    try:
        value, source = configuration(em, plugin)
    except ValueError as exc:
        return _problem(400, str(exc), "configuration.json")
    return jsonify({"plugin": plugin, "configuration": value, "source": source})


@bp.put("/_harness/plugins/<plugin>/configuration")
def store(plugin: str):
    """What the widget's save() returned: a JSON object, stored as the plugin's configuration."""
    em = current_emulator()
    if plugin.lower() not in known_plugins(em):
        return _unknown(em, plugin)
    raw = request.get_data(cache=False)
    if len(raw) > MAX_PLUGIN_CONFIG_BYTES:
        return _problem(413, f"a plugin configuration is limited to {MAX_PLUGIN_CONFIG_BYTES} bytes", "body")
    try:
        value = strict_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _problem(400, f"the configuration save() returned is not JSON: {exc}", "body")
    if not isinstance(value, dict):
        kind = "nothing" if value is None else type(value).__name__
        return _problem(400, f"save() must return the plugin's configuration as an object, not {kind}", "body")
    with em.store.transaction() as tx:
        em.store.set_meta(tx, _key(plugin), json.dumps(value, allow_nan=False))
    return jsonify({"plugin": plugin, "configuration": value, "source": "stored"})
