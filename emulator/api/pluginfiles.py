"""`/_pluginFiles/<Plugin>/...`: a plugin's content files, served as a tenant serves an installed plugin's.

They come from the solution's `_plugins/<Plugin>/` folder (emulator/solution/pluginfiles.py)."""

from __future__ import annotations

from flask import Blueprint

from ..kernel.errors import not_found
from ..solution.pluginfiles import plugin_file
from .common import emulator
from .ide import file_response

bp = Blueprint("pluginfiles", __name__)


@bp.get("/_pluginFiles/<path:relative>")
def plugin_content(relative: str):
    found = plugin_file(emulator().solution.root, relative)
    if found is None:
        raise not_found("plugin file", relative, field="path")
    return file_response(found)
