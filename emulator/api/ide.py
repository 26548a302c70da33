"""`/_ideFiles/...`: the IDE tree, served the way a tenant serves its IDE files.

The tree is the solution's `_IDE` folder laid over the built-in widgets (`Emulator.ide_roots`)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, request

from ..kernel.errors import not_found
from ..solution.idefiles import find_case_insensitive


def blueprint(ide_roots: list[Path]) -> Blueprint:
    """`/_ideFiles/` over `ide_roots`: the solution's `_IDE` first, then the built-in widgets."""
    bp = Blueprint("ide", __name__)

    @bp.get("/_ideFiles/<path:relative>")
    def ide_file(relative: str):
        found = next((hit for root in ide_roots if (hit := find_case_insensitive(root, relative)) is not None), None)
        if found is None:
            raise not_found("IDE file", relative, field="path")
        return file_response(found)

    return bp


def file_response(found: Path) -> Response:
    """A file a tenant serves as static content (IDE and plugin files): no-cache with a validator, so the browser
    asks every time (an edit shows on reload) and gets a 304 when unchanged."""
    mime = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if found.suffix.lower() == ".js":
        mime = "application/javascript"
    response = Response(found.read_bytes(), mimetype=mime, headers={"Cache-Control": "no-cache"})
    response.add_etag()
    return response.make_conditional(request)
