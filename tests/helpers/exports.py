"""Solution exports zipped as an exporter would, for the importer's tests: the demo01 fixture folder and the
real export in tests/fixtures/official, each as {zip entry name: bytes}."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.helpers.paths import FIXTURES

DEMO01 = FIXTURES / "exports" / "demo01"
REAL = FIXTURES / "official" / "forum2024-02-S3" / "export"
WORKTYPE = "data/sharedo-type-demo01-matter-5b0c2a10-0001-4c1e-9a51-000000000001.json"

Entries = dict[str, bytes]


def demo_entries() -> Entries:
    """The demo01 fixture folder as {entry name: bytes}, README excluded."""
    return {
        p.relative_to(DEMO01).as_posix(): p.read_bytes()
        for p in sorted(DEMO01.rglob("*"))
        if p.is_file() and p.name != "README.md"
    }


def real_entries() -> Entries:
    """The real export's files as {zip entry name: bytes}, exactly as the zip held them."""
    return {p.relative_to(REAL).as_posix(): p.read_bytes() for p in sorted(REAL.rglob("*")) if p.is_file()}


def build_package(
    path: Path,
    entries: Entries | None = None,
    *,
    rename: Callable[[str], str] = lambda name: name,
    extra: dict[str, bytes | str] | None = None,
) -> Path:
    """Zip entries (default: the demo01 fixture) the way an exporter would, renaming as asked."""
    entries = dict(demo_entries() if entries is None else entries)
    for name, data in (extra or {}).items():
        entries[name] = data.encode() if isinstance(data, str) else data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(rename(name), data)
    return path
