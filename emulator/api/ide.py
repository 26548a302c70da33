"""`/_ideFiles/...`: the IDE tree, served the way a tenant serves its IDE files.

The tree is the solution's `_IDE` folder laid over the built-in widgets (`Emulator.ide_roots`)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, request

from ..kernel.errors import not_found
from .common import emulator

bp = Blueprint("ide", __name__)


def find_case_insensitive(root: Path, relative: str) -> Path | None:
    """Manifests name files in other letter cases than the disk has (`designer/` vs `Designer/`)."""
    current = root
    for part in [p for p in relative.replace("\\", "/").split("/") if p]:
        if part in ("..", "."):
            return None
        exact = current / part
        if exact.exists():
            current = exact
            continue
        if not current.is_dir():
            return None
        match = next((c for c in current.iterdir() if c.name.lower() == part.lower()), None)
        if match is None:
            return None
        current = match
    if not current.is_file() or not current.resolve().is_relative_to(root.resolve()):
        return None  # a link that leads out of the IDE folder serves nothing
    return current


@bp.get("/_ideFiles/<path:relative>")
def ide_file(relative: str):
    found = next(
        (hit for root in emulator().ide_roots if (hit := find_case_insensitive(root, relative)) is not None), None
    )
    if found is None:
        raise not_found("IDE file", relative, field="path")
    mime = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if found.suffix.lower() == ".js":
        mime = "application/javascript"
    # no-cache with a validator: the browser asks every time (an edit shows on reload) and gets a 304 when unchanged.
    response = Response(found.read_bytes(), mimetype=mime, headers={"Cache-Control": "no-cache"})
    response.add_etag()
    return response.make_conditional(request)
