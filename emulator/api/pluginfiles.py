"""`/_pluginFiles/<Plugin>/...`: a plugin's content files, served as a tenant serves an installed plugin's.

They come from the solution's `_plugins/<Plugin>/` folder (emulator/solution/pluginfiles.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

from ..kernel.errors import not_found
from ..solution.pluginfiles import plugin_file
from .ide import file_response

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from pathlib import Path


def blueprint(solution_root: Path) -> Blueprint:
    """`/_pluginFiles/` over the solution at `solution_root`."""
    bp = Blueprint("pluginfiles", __name__)

    @bp.get("/_pluginFiles/<path:relative>")
    def plugin_content(relative: str):
        found = plugin_file(solution_root, relative)
        if found is None:
            raise not_found("plugin file", relative, field="path")
        return file_response(found)

    return bp
