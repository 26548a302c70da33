"""Turn a real Operate solution-export package (a zip) into a solution folder (docs/solution-format.md).

Real packages are messy: BOMs, `//` comments, Windows backslashes in entry names, letter case that
differs between the manifest and the zip, GUID file names with no `.zip`. The importer accepts all
of those, refuses what is unsafe (zip-slip) or broken (with the entry named), never leaves a
half-written folder behind, and lists every entry it could not use instead of dropping it. The report
also names, per written file, every section the emulator does not read, and every mandatory dependency
the manifest names that the package does not hold.

The parts, each in its own module: shapes.py (the export's kinds and sections, confirmed or inferred),
package.py (the zip, its limits and its JSON), manifest.py (ExportedSteps and Files[]), ide_index.py (where an
IDE file belongs), dependencies.py (the mandatory dependencies the package lacks), report.py (the summary and
IMPORT-REPORT.md); this module runs one import and writes the solution folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import get_ci
from emulator.solution.idefiles import strip_ide_prefix
from emulator.solution.references import ReferenceGeneratorError, not_emulated_reason, parse_reference_generator
from emulator.solution.starter import build as build_starter
from emulator.solution.starter import toml_block, toml_comment, write_files

from .dependencies import missing_dependencies
from .ide_index import IdeIndex
from .manifest import Steps, manifest_files, manifest_steps
from .package import MAX_ENTRY_BYTES, Package, PackageError, parse_json, zipped_folder
from .report import REPORT_FILE, ImportReport, MissingDependency
from .shapes import (
    DEVELOPER_IDE,
    GUID_HEAD,
    KINDS,
    READ_SECTIONS,
    SECTION_NOTES,
    Kind,
    dig,
    has_content,
    kind_for,
    stem_name,
)

__all__ = ["MAX_ENTRY_BYTES", "REPORT_FILE", "ImportReport", "MissingDependency", "PackageError", "import_package"]

KEPT_ON_REIMPORT = ("ods/people.json", "ods/organisations.json", "seed/workitems.json")
_BAD_NAME_CHARS = re.compile(r'[<>:"|?*\x00-\x1f]')

# --------------------------------------------------------------------------------------------- paths


def _safe_name(name: str, entry: str, what: str) -> str:
    """A name that becomes one file name: refuse traversal, reject characters no OS accepts."""
    if "/" in name or "\\" in name or name in (".", ".."):
        raise PackageError(f"{entry}: refusing {what} {name!r}: it would write outside its folder", entry)
    if not name.strip() or _BAD_NAME_CHARS.search(name):
        raise ValueError(f"{what} {name!r} cannot be a file name")
    return name


def _safe_relpath(path: str, entry: str, what: str) -> str:
    """A relative folder path under _IDE/: drop the /_ideFiles/ URL prefix, refuse traversal."""
    path = strip_ide_prefix(path)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts or re.match(r"^[A-Za-z]:", path):
        raise PackageError(f"{entry}: refusing {what} {path!r}: it would write outside _IDE/", entry)
    for part in parts:
        _safe_name(part, entry, what)
    return "/".join(parts)


# --------------------------------------------------------------------------------------------- import


def import_package(package: str | Path, target: str | Path, *, overwrite: bool = False) -> ImportReport:
    """Import a solution-export zip into the solution folder `target`; see the module docstring."""
    package = Path(package)
    target = Path(target).absolute()
    source = zipped_folder(package) if package.is_dir() else None
    if source is None and not package.is_file():
        raise PackageError(f"{package} does not exist")
    if target.exists() and not target.is_dir():
        raise PackageError(f"target {target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise PackageError(f"target {target} is not empty; refusing to replace it without overwrite")

    pkg = Package(package, source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.import-", dir=target.parent))
        try:
            report = _Importer(pkg, work, target).run()
            (work / REPORT_FILE).write_text(report.to_markdown(), encoding="utf-8")
            _swap_into_place(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    finally:
        pkg.zip.close()
    return report


def _swap_into_place(work: Path, target: Path) -> None:
    """Replace `target` with the finished `work` folder so no reader ever sees a partial one."""
    if not target.exists():
        os.replace(work, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    try:
        os.replace(work, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


class _Importer:
    """One import run: reads the package, writes into the temp folder, fills the report."""

    def __init__(self, pkg: Package, work: Path, target: Path) -> None:
        self.pkg = pkg
        self.work = work
        self.target = target
        self.used: set[str] = set()  # entries accounted for (imported, skipped or consumed)
        self.written: dict[str, str] = {}  # lower-cased relative output path -> entry that wrote it
        self.report = ImportReport(name="", target=target)

    def run(self) -> ImportReport:
        manifest_entry = self.pkg.find("manifest.json")
        assert manifest_entry is not None
        self.used.add(manifest_entry)
        manifest = parse_json(self.pkg.read(manifest_entry), manifest_entry)
        if not isinstance(manifest, dict):
            raise PackageError("manifest.json is not a JSON object", manifest_entry)
        name = get_ci(manifest, "Name")
        if not isinstance(name, str) or not name.strip():
            name = self.pkg.path.stem
            self.report.warnings.append((manifest_entry, f"no Name; the solution is called {name!r}"))
        self.report.name = name

        steps = manifest_steps(self.pkg, manifest, manifest_entry)
        files = manifest_files(self.pkg, manifest, manifest_entry)
        ide = IdeIndex()
        for entry, kind, doc in self._data_items(steps):
            if kind.prefix == DEVELOPER_IDE:
                ide.add_document(doc, entry)
                self.used.add(entry)
            else:
                self._import_item(entry, kind, doc)
        self._import_ide_files(files, steps, ide)
        self._check_dependencies(manifest, steps)
        for entry in sorted(set(self.pkg.names()) - self.used):
            self._skip(entry, self._why_unused(entry))
        for entry in self.pkg.duplicates:
            self._skip(entry, "a second entry with the same name (ignoring letter case); the first was used")
        self.report.starter = build_starter(self.work)
        self.report.kept = self._keep_people_and_seed()
        self.report.added = write_files(self.work, self.report.starter)
        self._write_toml(manifest)
        order = [k.folder for k in KINDS if k.folder] + ["ide"]
        self.report.imported = {k: self.report.imported[k] for k in order if k in self.report.imported}
        return self.report

    # -- data/*.json

    def _data_items(self, steps: Steps) -> Iterator[tuple[str, Kind, Any]]:
        """Each data/*.json with its kind and parsed document; unknown kinds are skipped here."""
        provider_of = {entry: provider for provider, entry in steps.values() if entry}
        for entry in sorted(self.pkg.names()):
            rel = self.pkg.relative(entry)
            if rel is None or not rel.lower().startswith("data/"):
                continue
            self.used.add(entry)
            file_name = rel[len("data/") :]
            if not file_name.lower().endswith(".json"):
                self._skip(entry, "not a .json file; data/ holds one JSON file per config item")
                continue
            doc = parse_json(self.pkg.read(entry), entry)  # a corrupt file is an error, used or not
            kind = kind_for(file_name, provider_of.get(entry))
            if kind is None:
                self._skip(entry, "unknown config kind; the importer does not know where it belongs")
                continue
            if kind.folder is None and kind.prefix != DEVELOPER_IDE:
                self._skip(entry, kind.reason)
                continue
            yield entry, kind, doc

    def _import_item(self, entry: str, kind: Kind, doc: Any) -> None:
        """Write one config item unchanged under its kind's folder, named by its system name."""
        assert kind.folder is not None
        if not isinstance(doc, dict):
            self._skip(entry, f"a {kind.prefix} file should hold a JSON object")
            return
        name = next((n for p in kind.name_paths if isinstance(n := dig(doc, p), str) and n.strip()), None)
        if name is None:
            if kind.prefix != "execution-engine-trigger":
                where = " or ".join(".".join(p) for p in kind.name_paths)
                self._skip(entry, f"no system name ({where}) found")
                return
            name = stem_name(entry, kind.prefix)
        try:
            name = _safe_name(name.strip(), entry, "system name")
        except ValueError as exc:
            self._skip(entry, str(exc))
            return
        rel = f"{kind.folder}/{name}.json"
        if kind.prefix in ("execution-engine-trigger", "portal-worktype"):
            rel = self._unique(kind.folder, name, ".json")  # several triggers start one plan; portals per persona
        elif rel.lower() in self.written:
            self._skip(entry, f"duplicate system name {name!r}; {self.written[rel.lower()]} was imported")
            return
        self._write(rel, self.pkg.read(entry), entry)
        self.report.imported.setdefault(kind.folder, []).append(rel)
        dropped = self._dropped_sections(kind, doc, entry)
        if dropped:
            self.report.dropped[rel] = dropped

    def _dropped_sections(self, kind: Kind, doc: dict, entry: str) -> list[str]:
        """The names of the file's non-empty sections the emulator does not read (READ_SECTIONS)."""
        read = READ_SECTIONS.get(kind.prefix)
        if read is None:
            return []
        out = []
        for key, value in doc.items():
            if not isinstance(value, (dict, list)) or not has_content(value):
                continue  # scalars are fields of the item, not sections; empty sections drop nothing
            low = key.lower()
            note = SECTION_NOTES.get(low)
            if low == "referencegenerator" and kind.prefix == "sharedo-type":
                note = not_emulated_reason(value)
                if note is None:
                    try:
                        parse_reference_generator(value, "", "the work type")
                    except ReferenceGeneratorError as exc:
                        self.report.warnings.append((entry, f"{exc}; the solution will not load until it is fixed"))
                    continue
            elif low in read:
                continue
            out.append(f"{key} ({note})" if note else key)
        return out

    # -- files/ -> _IDE/

    def _import_ide_files(self, files: list[dict[str, str]], steps: Steps, ide: IdeIndex) -> None:
        """Place each manifest file under _IDE/<folder path>/<name>, as /_ideFiles serves it."""
        for f in files:
            entry = f["entry"]
            if entry in self.used:
                continue  # the same storage file listed twice
            self.used.add(entry)
            provider, step_entry = steps.get(f["step"], ("", None))
            if provider and provider.lower() != DEVELOPER_IDE:
                self._skip(entry, f"a file of a {provider!r} export step; only IDE files are imported")
                continue
            folder, name = self._ide_location(f, ide, step_entry)
            if not name:
                self._skip(entry, "no file name in the manifest or the developer-ide data")
                continue
            try:
                name = _safe_name(name, entry, "IDE file name")
            except ValueError as exc:
                self._skip(entry, str(exc))
                continue
            rel = "/".join(p for p in ("_IDE", folder, name) if p)
            if rel.lower() in self.written:
                self._skip(entry, f"{rel} was already written from {self.written[rel.lower()]}")
                continue
            self._write(rel, self.pkg.read(entry), entry)
            self.report.imported.setdefault("ide", []).append(rel)

    def _ide_location(self, f: dict[str, str], ide: IdeIndex, step_entry: str | None) -> tuple[str, str]:
        entry, original = f["entry"], f["original"]
        node = ide.match(f["id"], f["storage"], original, step_entry)
        if node is not None:
            folder, name = ide.path_of(node)
            return _safe_relpath(folder, entry, "IDE folder"), name
        if "/" in original.replace("\\", "/").strip("/"):
            path = _safe_relpath(original, entry, "OriginalFilename")
            folder, _, name = path.rpartition("/")
            return folder, name
        name = original or GUID_HEAD.sub("", f["storage"])  # files/<guid>-<name>
        self.report.warnings.append(
            (entry, f"no IDE folder recorded for {name!r}; written to _IDE/{name}, move it if needed")
        )
        return "", name

    # -- manifest dependencies

    def _check_dependencies(self, manifest: dict, steps: Steps) -> None:
        """The report's missing mandatory dependencies, and a warning for each step whose list is malformed."""
        self.report.missing, warnings = missing_dependencies(manifest, steps, self._display_path)
        self.report.warnings.extend(warnings)

    def _display_path(self, entry: str) -> str:
        """The written path of an imported entry, else the entry itself."""
        rel = next((r for r, e in self.written.items() if e == entry), None)
        if rel is None:
            return entry
        for items in self.report.imported.values():
            hit = next((i for i in items if i.lower() == rel), None)
            if hit:
                return hit
        return rel

    # -- helpers

    def _why_unused(self, entry: str) -> str:
        rel = self.pkg.relative(entry)
        if rel is None:
            return "outside the package folder that holds manifest.json"
        if rel.lower().startswith("files/"):
            return "not named by manifest.json Files[]"
        return "not part of the export format (manifest.json, data/, files/)"

    def _unique(self, folder: str, name: str, suffix: str) -> str:
        rel, n = f"{folder}/{name}{suffix}", 2
        while rel.lower() in self.written:
            rel, n = f"{folder}/{name}-{n}{suffix}", n + 1
        return rel

    def _write(self, rel: str, data: bytes, entry: str) -> None:
        path = self.work.joinpath(*rel.split("/"))
        if not path.resolve().is_relative_to(self.work.resolve()):  # belt and braces after _safe_*
            raise PackageError(f"{entry}: refusing to write {rel}, outside the target folder", entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written[rel.lower()] = entry

    def _skip(self, entry: str, reason: str) -> None:
        self.report.skipped.append((entry, reason))

    def _keep_people_and_seed(self) -> list[str]:
        """A re-import over a folder (overwrite) keeps the people and work items someone put there: an export never
        carries them, so replacing them would only lose the tenant's real people added by hand."""
        kept = []
        for rel in KEPT_ON_REIMPORT:
            old = self.target.joinpath(*rel.split("/"))
            if old.is_file() and not old.is_symlink():
                self._write(rel, old.read_bytes(), f"{self.target.name}/{rel}")
                kept.append(rel)
        return kept

    def _write_toml(self, manifest: dict) -> None:
        """operate.toml with the solution name; the export's provenance goes in comments."""
        lines = ["# Generated by `operate import` from a solution-export package."]
        for key in ("ExportedFrom", "CreatedBy", "CreatedOn", "SharedoVersion"):
            value = get_ci(manifest, key)
            if isinstance(value, dict):
                value = ".".join(str(get_ci(value, p)) for p in ("Major", "Minor", "Build", "Revision"))
            if value not in (None, ""):
                lines.append(f"# {key}: {toml_comment(' '.join(str(value).split()))}")
        lines += ["", "[solution]", f"name = {_toml_string(self.report.name)}", ""]
        text = "\n".join(lines) + toml_block(self.report.starter.services, _toml_string)
        (self.work / "operate.toml").write_text(text, encoding="utf-8")


def _toml_string(value: str) -> str:
    """A TOML basic string: escape quotes, backslashes and every control character."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
