"""Files in a solution's IDE folder (`_IDE/`) named the way manifests name them: `/_ideFiles/<path>`, in any
letter case, never outside the folder."""

from __future__ import annotations

from pathlib import Path

IDE_PREFIX = "/_ideFiles/"
IDE_URL_PREFIXES = ("/_idefiles/", "_idefiles/", "/_ide/", "_ide/")  # lower case: compared without case


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


def strip_ide_prefix(path: str) -> str:
    """`/_ideFiles/ApiDemoWF/x.js` (as manifests and exports name IDE files, any letter case, `/` or `\\`)
    → `ApiDemoWF/x.js`."""
    path = path.replace("\\", "/").strip()
    low = path.lower()
    for prefix in IDE_URL_PREFIXES:
        if low.startswith(prefix):
            return path[len(prefix) :]
    return path.lstrip("/")


def resolve_ide_path(root: Path, ide_path: str) -> Path | None:
    """An IDE path as a manifest names it → the file under `root` (None when there is no such file in it)."""
    return find_case_insensitive(root, strip_ide_prefix(ide_path))
