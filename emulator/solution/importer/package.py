"""Reading an export package: a zip's entries under normalised names, looked up case-insensitively, after
zip-slip and size checks; JSON the way real material needs it; an unzipped export folder read as its zip.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from emulator.kernel.jsonfile import JsonFileError, loads


class PackageError(Exception):
    """The package cannot be imported; the message says what is wrong and in which entry."""

    def __init__(self, message: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.entry = entry


MAX_ENTRY_BYTES = 64 * 1024 * 1024  # one file of an export (the largest real ones are a few MB)
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # everything read from one zip


class Package:
    """A zip's entries under normalised names, looked up case-insensitively, after zip-slip checks."""

    def __init__(self, path: Path, source: IO[bytes] | None = None) -> None:
        self.path = path
        try:
            self.zip = zipfile.ZipFile(source if source is not None else path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"{path} is not a zip file (a solution export is a zip): {exc}") from None
        self.entries: dict[str, zipfile.ZipInfo] = {}  # normalised name -> info
        self.by_lower: dict[str, str] = {}  # lower-cased normalised name -> normalised name
        self.duplicates: list[str] = []
        self.read_bytes = 0
        for info in self.zip.infolist():
            name = normalise_entry(info.filename)
            if info.is_dir() or name.endswith("/") or not name:
                continue
            if name.lower() in self.by_lower:
                self.duplicates.append(name)
                continue
            self.entries[name] = info
            self.by_lower[name.lower()] = name
        try:
            self.prefix = self._find_root()
        except PackageError:
            self.zip.close()
            raise

    def _find_root(self) -> str:
        """Where manifest.json is: the root, or one wrapping folder (zips made by re-zipping a folder)."""
        if "manifest.json" in self.by_lower:
            return ""
        nested = [n for n in self.entries if n.lower().endswith("/manifest.json") and n.count("/") == 1]
        if len(nested) == 1:
            return nested[0][: -len("manifest.json")]
        raise PackageError(f"{self.path} has no manifest.json: not a solution export", "manifest.json")

    def names(self) -> Iterator[str]:
        yield from self.entries

    def find(self, name: str) -> str | None:
        """The normalised entry for `name` (relative to the package root), ignoring letter case."""
        return self.by_lower.get((self.prefix + normalise_entry(name)).lower())

    def read(self, entry: str) -> bytes:
        """The entry's bytes, read no further than MAX_ENTRY_BYTES whatever its header says (a zip bomb
        declares a small size or none): a bigger one is refused, naming it, before it fills memory."""
        info = self.entries[entry]
        too_big = (
            f"entry {entry} unpacks to more than {MAX_ENTRY_BYTES // (1024 * 1024)} MB; "
            "no file of a solution export is that large (a damaged or hostile zip?)"
        )
        if info.file_size > MAX_ENTRY_BYTES:
            raise PackageError(too_big, entry)
        try:
            with self.zip.open(info) as stream:
                data = stream.read(MAX_ENTRY_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
            raise PackageError(f"entry {entry} cannot be read from the zip: {exc}", entry) from None
        if len(data) > MAX_ENTRY_BYTES:
            raise PackageError(too_big, entry)
        self.read_bytes += len(data)
        if self.read_bytes > MAX_TOTAL_BYTES:
            raise PackageError(
                f"the zip unpacks to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB in all (stopped at {entry})", entry
            )
        return data

    def relative(self, entry: str) -> str | None:
        """`entry` relative to the package root, or None if it lies outside the wrapping folder."""
        if entry.lower().startswith(self.prefix.lower()):
            return entry[len(self.prefix) :]
        return None


def normalise_entry(raw: str) -> str:
    """Forward slashes, no leading `./`; refuse anything that could write outside the target."""
    name = raw.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    parts = name.split("/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise PackageError(f"refusing unsafe zip entry {raw!r}: its path leaves the package (zip-slip)", raw)
    return "/".join(p for p in parts if p not in ("", "."))


def parse_json(data: bytes, entry: str) -> Any:
    """Parse JSON the way real material needs (BOM, comments), turning failures into PackageError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text: str | bytes = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PackageError(f"{entry} is not UTF-8 text: {exc}", entry) from None
    try:
        return loads(text, entry)
    except JsonFileError as exc:
        raise PackageError(f"{entry} is not JSON: {exc}", entry) from None


def zipped_folder(folder: Path) -> IO[bytes]:
    """An unzipped export (a folder holding manifest.json, as the vendor's samples ship one), zipped in memory
    so it is read exactly as the package it came from: the same checks, the same limits."""
    if not any(p.name.lower() == "manifest.json" and p.is_file() for p in folder.iterdir()):
        raise PackageError(f"{folder} is a folder with no manifest.json: pass the export package (the zip) itself")
    buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > MAX_TOTAL_BYTES:
                raise PackageError(f"{folder} holds more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB in all")
            out.write(path, path.relative_to(folder).as_posix())
    buffer.seek(0)
    return buffer
