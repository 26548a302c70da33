"""`/_pluginFiles/<Plugin>/...`: a plugin's content files, served as a tenant serves an installed plugin's.

They come from the solution's `_plugins/<Plugin>/` folder (emulator/solution/pluginfiles.py)."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, request

from ..kernel.errors import not_found
from ..solution.pluginfiles import plugin_file
from .common import emulator

bp = Blueprint("pluginfiles", __name__)


@bp.get("/_pluginFiles/<path:relative>")
def plugin_content(relative: str):
    found = plugin_file(emulator().solution.root, relative)
    if found is None:
        raise not_found("plugin file", relative, field="path")
    mime = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if found.suffix.lower() == ".js":
        mime = "application/javascript"
    # no-cache with a validator, as /_ideFiles: an edit shows on reload, an unchanged file is a 304.
    response = Response(found.read_bytes(), mimetype=mime, headers={"Cache-Control": "no-cache"})
    response.add_etag()
    return response.make_conditional(request)
