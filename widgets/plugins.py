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

from flask import Blueprint, current_app, jsonify, request

from emulator.kernel.errors import error_body
from emulator.solution.pluginfiles import plugin_configuration

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


@bp.get("/_harness/plugins/<plugin>/configuration")
def read(plugin: str):
    em = current_app.extensions["operate"]
    try:
        value, source = configuration(em, plugin)
    except ValueError as exc:
        return _problem(400, str(exc), "configuration.json")
    return jsonify({"plugin": plugin, "configuration": value, "source": source})


@bp.put("/_harness/plugins/<plugin>/configuration")
def store(plugin: str):
    """What the widget's save() returned: a JSON object, stored as the plugin's configuration."""
    em = current_app.extensions["operate"]
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
