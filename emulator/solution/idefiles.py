"""Files in a solution's IDE folder (`_IDE/`) named the way manifests name them: `/_ideFiles/<path>`, in any
letter case, never outside the folder."""

from __future__ import annotations

from pathlib import Path

IDE_PREFIX = "/_ideFiles/"


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


def resolve_ide_path(root: Path, ide_path: str) -> Path | None:
    """`/_ideFiles/ApiDemoWF/ApiDemoWF-template.js` (as a manifest names it, any letter case, `/` or `\\`)
    → the file under `root`."""
    path = ide_path.replace("\\", "/").strip()
    if path.lower().startswith(IDE_PREFIX.lower()) or path.lower().startswith(IDE_PREFIX[1:].lower()):
        path = path.split("/", 2 if path.startswith("/") else 1)[-1]
    return find_case_insensitive(root, path.lstrip("/"))
