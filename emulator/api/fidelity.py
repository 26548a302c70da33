"""`GET /_emulator/fidelity`: docs/fidelity.md, what the emulator emulates, offers a stand-in for, or does not
emulate. Messages about something not emulated (the step log, a 404's body, the widget page's console) link
here. No sign-in: it describes the emulator, not a tenant's data."""

from __future__ import annotations

import html
import re
from importlib import metadata
from pathlib import Path

from flask import Blueprint, Response, request

bp = Blueprint("fidelity", __name__)

# The source tree's docs/ (this file is emulator/api/fidelity.py); an installed wheel has no docs/.
DOC = Path(__file__).resolve().parents[2] / "docs" / "fidelity.md"
DISTRIBUTION = "operate-toolkit"  # a wheel carries the page as <prefix>/share/operate-toolkit/fidelity.md


def doc_path() -> Path:
    """The source tree's docs/fidelity.md, else the copy an installed wheel carries (pyproject's data-files)."""
    if DOC.is_file():
        return DOC
    try:
        files = metadata.files(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return DOC
    for file in files:
        if file.parts[-2:] == (DISTRIBUTION, DOC.name):
            return Path(str(file.locate()))
    return DOC


@bp.get("/_emulator/fidelity")
def fidelity() -> Response:
    try:
        text = doc_path().read_text("utf-8")
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
    return Response(_page(render(text)), mimetype="text/html")


def _inline(text: str) -> str:
    """`code`, **strong** and *emphasis* of one escaped line."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", out)


def render(markdown: str) -> str:
    """The little Markdown the page uses: headings, paragraphs, lists and tables (everything escaped)."""
    parts: list[str] = []
    paragraph: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if paragraph:
            parts.append(f"<p>{' '.join(_inline(line) for line in paragraph)}</p>")
            paragraph.clear()
        if table:
            head, *rows = table
            cells = "".join(f"<th>{_inline(c)}</th>" for c in head)
            body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows)
            parts.append(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")
            table.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", stripped)
        if stripped.startswith("|"):
            if paragraph:
                flush()
            if not re.fullmatch(r"\|[\s:|-]+\|?", stripped):
                table.append([c.strip() for c in stripped.strip("|").split("|")])
        elif heading:
            flush()
            level = len(heading.group(1))
            parts.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif stripped.startswith(("- ", "* ")):
            flush()
            parts.append(f"<ul><li>{_inline(stripped[2:])}</li></ul>")
        elif not stripped:
            flush()
        else:
            if table:
                flush()
            paragraph.append(stripped)
    flush()
    return "\n".join(parts)


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fidelity — operate emulator</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}</style></head>"
        f"<body>{body}</body></html>"
    )
