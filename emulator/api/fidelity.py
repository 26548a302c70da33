"""`GET /_emulator/fidelity`: docs/fidelity.md, what the emulator emulates, offers a stand-in for, or does not
emulate. Messages about something not emulated (the step log, a 404's body, the widget page's console) link
here. No sign-in: it describes the emulator, not a tenant's data."""

from __future__ import annotations

import html
from pathlib import Path

from flask import Blueprint, Response, request

bp = Blueprint("fidelity", __name__)

# The source tree's docs/ (this file is emulator/api/fidelity.py); an installed wheel has no docs/.
DOC = Path(__file__).resolve().parents[2] / "docs" / "fidelity.md"


@bp.get("/_emulator/fidelity")
def fidelity() -> Response:
    try:
        text = DOC.read_text("utf-8")
    except OSError:
        text = None
    if text is not None and request.accept_mimetypes.best_match(["text/html", "text/markdown"]) == "text/markdown":
        return Response(text, mimetype="text/markdown")
    if text is None:
        body = (
            "<h1>Fidelity</h1><p>docs/fidelity.md is not beside this installation (it is in the project's "
            "source tree, <code>docs/fidelity.md</code>): what is emulated, a stand-in or not emulated is listed "
            "there.</p>"
        )
        return Response(_page(body), status=404, mimetype="text/html")
    return Response(_page(f"<pre>{html.escape(text)}</pre>"), mimetype="text/html")


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fidelity — operate emulator</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em}pre{white-space:pre-wrap}</style></head>"
        f"<body>{body}</body></html>"
    )
