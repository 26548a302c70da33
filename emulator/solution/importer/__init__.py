"""Turn a real Operate solution-export package (a zip) into a solution folder (docs/solution-format.md).

Real packages are messy: BOMs, `//` comments, Windows backslashes in entry names, letter case that
differs between the manifest and the zip, GUID file names with no `.zip`. The importer accepts all
of those, refuses what is unsafe (zip-slip) or broken (with the entry named), never leaves a
half-written folder behind, and lists every entry it could not use instead of dropping it. The report
also names, per written file, every section the emulator does not read, and every mandatory dependency
the manifest names that the package does not hold.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from emulator.kernel.jsonfile import JsonFileError, get_ci, loads
from emulator.solution.idefiles import strip_ide_prefix
from emulator.solution.references import ReferenceGeneratorError, not_emulated_reason, parse_reference_generator
from emulator.solution.starter import Starter, report_markdown, summary_lines, toml_block, toml_comment, write_files
from emulator.solution.starter import build as build_starter

# ---------------------------------------------------------------------------------------------
# Shapes of the export package, in one place.
#
# [C]  seen in a real export (sharedo-tech/forum2024-02-S3 "export-Demo 01-…zip", summarised in
#      /work/shared/reference/operate-surface.md §3.7b, §4.1, §5.4, §7): manifest.json
#      `Name, CreatedBy, ExportedFrom, SharedoVersion, Files[{Id, OriginalFilename,
#      StorageFilename, StepId}]`; data/<kind>-*.json one per config item; files/<guid>-<name>;
#      work type `BaseSharedo.SystemName`; visual workflow `VisualPlan.SystemName`; trigger
#      `PlanSystemName` with `TriggerMeta`/`PlanMeta` as JSON strings.
# [C3] third-party tooling that reads real packages (Alterspective-Engine/ShareDo-CLI
#      PackageDownloadService.ts / PackageExportService.ts): manifest also has `CreatedOn`,
#      `SharedoVersion{Major, Minor, Build, Revision}` and `ExportedSteps[{Id, Description,
#      ExportProviderSystemName, StorageFilename}]`; data files are named
#      `<kind>-<systemname>-<guid>.json` (e.g. `sharedo-type-matter-…-75b62c18-….json`).
# [C]  also seen in that export: participant-role-*.json `{Role{SystemName, ParticipantRoleCategorySystemName,
#      Name, ...}, Category{SystemName, Name, IsSystem}, AllowedRoles[], Aspects[], AspectStripingRules[],
#      LocationTypes[]}`; ExportedSteps[].Dependencies `{Mandatory[], Recommended[]}` of
#      `{PackageStepId (null when not in the package), Dependency{SystemName (the kind), Reason, Description,
#      Selector{SystemName}, AdditionalData}}`.
# [I]  inferred, no public sample: everything about developer-ide-*.json below, the older
#      `{ParticipantRole{...}}` role wrapper, and `Form.SystemName` as the form-builder name.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How one data/<prefix>-*.json kind maps into the solution folder."""

    prefix: str
    folder: str | None  # solution sub-folder, or None when the kind is not imported
    name_paths: tuple[tuple[str, ...], ...] = ()  # where the item's system name lives, first hit wins
    reason: str = ""  # why it is skipped, for kinds that are not imported


KINDS: tuple[Kind, ...] = (
    Kind("sharedo-type", "worktypes", (("BaseSharedo", "SystemName"), ("SystemName",))),  # [C]
    Kind(
        "participant-role",
        "roles",
        (("Role", "SystemName"), ("ParticipantRole", "SystemName"), ("SystemName",), ("*", "SystemName")),
    ),  # [C] Role + Category; [I] the older single wrapper and a flat object
    Kind("form-builder", "forms", (("Form", "SystemName"), ("SystemName",))),  # [C]/[I]
    Kind("execution-engine-trigger", "triggers", (("PlanSystemName",),)),  # [C]
    Kind("visual-workflow", "workflows", (("VisualPlan", "SystemName"), ("SystemName",))),  # [C]
    Kind("developer-ide", None),  # consumed to place files/ under _IDE/, see IDE_* below
    Kind("portal-worktype", "portals", (("Portals", "0", "SharedoTypeSystemName"),)),  # [C] widgets' placements
    Kind("portal", None, reason="global portals (not tied to a work type) are not emulated yet"),
    Kind("option-set", None, reason="option sets are not emulated yet"),
    Kind("permission", None, reason="permissions are not emulated (the emulator grants per client)"),
    Kind("search-scope", None, reason="search scopes are not emulated yet"),
    Kind("relationship-type", None, reason="relationship types are not emulated yet"),
)

DEVELOPER_IDE = "developer-ide"

# The top-level sections (object- or array-valued keys) of an imported file that the emulator reads: keep this
# in step with solution/worktypes.py and loading.py, smartplans/plans.py and triggers.py, widgets/portals.py.
# Any other section that holds something is reported as dropped, by name. The file itself is written whole,
# so nothing is lost, but a dropped section has no effect in the emulator.
READ_SECTIONS: dict[str, frozenset[str]] = {
    "sharedo-type": frozenset(
        {
            "basesharedo",
            "phaseplan",
            "phases",
            "phasetransitions",
            "sharedotyperoles",
            "keydateassociations",
            "referencegenerator",  # unless its generator is not emulated (references.py)
        }
    ),
    "participant-role": frozenset({"role", "category", "participantrole"}),
    "form-builder": frozenset({"form", "fields"}),
    "execution-engine-trigger": frozenset({"triggermeta", "planmeta"}),
    "visual-workflow": frozenset({"visualplan", "steps", "actions", "scripts", "variables"}),
    "portal-worktype": frozenset({"portals", "pages", "portalwidgets", "widgets"}),
}
SECTION_NOTES = {  # shown next to a dropped section's name
    # {typename} {category} {name} with a role lookup: the category and the lookup have no emulated meaning
    "titlegenerator": "titles are taken as the creator sends them",
}

# [I] developer-ide-*.json. No public copy exists, so the reader is deliberately tolerant: it walks
# the whole document and accepts any of these spellings (all matched case-insensitively):
#  - a tree like GET /api/ide ([C3] `{id, name, type, children}`), nodes nested under a children key;
#  - a flat list of nodes that point at their folder with a parent key;
#  - nodes that carry their own folder path (a leading `/_ideFiles/` is dropped).
# A manifest Files[] entry is matched to a node by Id, by a file-reference key, or, failing that,
# by a unique Name within the step's developer-ide file.
IDE_ID_KEYS = ("Id", "NodeId")
IDE_NAME_KEYS = ("Name", "FileName", "Filename")
IDE_CHILD_KEYS = ("Children", "Items", "Files", "Folders", "Nodes", "Contents")
IDE_PARENT_KEYS = ("ParentId", "ParentFolderId", "FolderId")
IDE_PATH_KEYS = ("Path", "FullPath", "FolderPath", "VirtualPath", "RelativePath", "IdePath")
IDE_FILE_REF_KEYS = ("FileId", "StorageId", "ContentId", "ManifestFileId", "StorageFilename")

REPORT_FILE = "IMPORT-REPORT.md"
KEPT_ON_REIMPORT = ("ods/people.json", "ods/organisations.json", "seed/workitems.json")
_GUID_HEAD = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-", re.I)
_GUID_TAIL = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_BAD_NAME_CHARS = re.compile(r'[<>:"|?*\x00-\x1f]')


class PackageError(Exception):
    """The package cannot be imported; the message says what is wrong and in which entry."""

    def __init__(self, message: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.entry = entry


@dataclass
class MissingDependency:
    """A mandatory dependency that manifest.json names and the package does not hold, with who needs it."""

    kind: str  # Dependency.SystemName: "option-set", "sharedo-type", "permission", ...
    name: str  # Dependency.Selector.SystemName (or the description when there is no selector)
    description: str
    reasons: list[str] = field(default_factory=list)
    needed_by: list[str] = field(default_factory=list)  # written paths, or entries for items not imported


@dataclass
class ImportReport:
    """What an import produced, so the CLI can print it and IMPORT-REPORT.md can record it."""

    name: str
    target: Path
    imported: dict[str, list[str]] = field(default_factory=dict)  # kind -> paths written, relative
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (entry, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (entry, what was guessed)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # written path -> sections the emulator ignores
    missing: list[MissingDependency] = field(default_factory=list)
    starter: Starter = field(default_factory=Starter)  # what the importer added so the import is usable at once
    added: list[str] = field(default_factory=list)  # files the importer wrote that are not in the package
    kept: list[str] = field(default_factory=list)  # people and seed kept from the folder a re-import replaced

    def dropped_groups(self) -> list[tuple[list[str], list[str]]]:
        """(files, sections) with the files that drop the same sections together, in import order."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for rel, sections in self.dropped.items():
            groups.setdefault(tuple(sections), []).append(rel)
        return [(files, list(sections)) for sections, files in groups.items()]

    def summary(self) -> str:
        """Short human lines for the terminal."""
        total = sum(len(v) for v in self.imported.values())
        lines = [f'Imported solution "{self.name}" into {self.target}: {total} item(s)']
        for kind, items in self.imported.items():
            lines.append(f"  {kind}: {len(items)}")
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} entr{'y' if len(self.skipped) == 1 else 'ies'}:")
            lines.extend(f"  {entry}: {reason}" for entry, reason in self.skipped)
        if self.dropped:
            lines.append(f"Dropped sections (written, but the emulator ignores them) in {len(self.dropped)} file(s):")
            for files, sections in self.dropped_groups():
                names = files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more like it"
                lines.append(f"  {names}: {', '.join(sections)}")
        if self.missing:
            lines.append(f"Missing mandatory dependencies ({len(self.missing)}), not in the package:")
            lines.extend(f"  {m.kind} {m.name!r}: needed by {len(m.needed_by)} item(s)" for m in self.missing)
        if self.warnings:
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines.extend(f"  {entry}: {text}" for entry, text in self.warnings)
        lines.extend(summary_lines(self.starter, self.added, self.kept))
        lines.append(f"Details: {self.target / REPORT_FILE}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The IMPORT-REPORT.md text: everything imported and everything left out, with reasons."""
        out = [f"# Import report: {self.name}", ""]
        out.append("## Imported")
        out.append("")
        if not any(self.imported.values()):
            out.append("Nothing.")
        for kind, items in self.imported.items():
            out.append(f"### {kind} ({len(items)})")
            out.append("")
            out.extend(f"- `{item}`" for item in items)
            out.append("")
        out.append("## Skipped")
        out.append("")
        if not self.skipped:
            out.append("Nothing.")
        out.extend(f"- `{entry}`: {reason}" for entry, reason in self.skipped)
        out += ["", "## Dropped sections", ""]
        if not self.dropped:
            out.append("Nothing.")
        else:
            out.append("Parts of imported files that the emulator does not read: each file is written whole, but")
            out.append("these sections have no effect here. Files that drop the same sections share a line.")
            out.append("")
        for files, sections in self.dropped_groups():
            out.append(f"- {', '.join(f'`{f}`' for f in files)}: {', '.join(sections)}")
        out += ["", "## Missing dependencies", ""]
        if not self.missing:
            out.append("Nothing: every mandatory dependency in manifest.json is in the package.")
        else:
            out.append("Mandatory dependencies that manifest.json names but the package does not hold; a tenant")
            out.append("importing this package must already have them, and the emulator does not.")
            out.append("")
        for m in self.missing:
            why = "; ".join(m.reasons) or "no reason given"
            out.append(f"- {m.kind} `{m.name}` ({why}), needed by {', '.join(f'`{n}`' for n in m.needed_by)}")
        if self.warnings:
            out += ["", "## Warnings", ""]
            out.extend(f"- `{entry}`: {text}" for entry, text in self.warnings)
        out += ["", *report_markdown(self.starter, self.added, self.kept)]
        return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------- zip


MAX_ENTRY_BYTES = 64 * 1024 * 1024  # one file of an export (the largest real ones are a few MB)
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # everything read from one zip


class _Package:
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
            name = _normalise_entry(info.filename)
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
        return self.by_lower.get((self.prefix + _normalise_entry(name)).lower())

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


def _normalise_entry(raw: str) -> str:
    """Forward slashes, no leading `./`; refuse anything that could write outside the target."""
    name = raw.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    parts = name.split("/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise PackageError(f"refusing unsafe zip entry {raw!r}: its path leaves the package (zip-slip)", raw)
    return "/".join(p for p in parts if p not in ("", "."))


# --------------------------------------------------------------------------------------------- json


def _parse_json(data: bytes, entry: str) -> Any:
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


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    """Follow keys case-insensitively; `*` means the single dict-valued key of a wrapper object; a number
    indexes a list (`Portals`, `0`, `SharedoTypeSystemName`)."""
    for key in path:
        if isinstance(value, list) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
            continue
        if not isinstance(value, dict):
            return None
        if key == "*":
            inner = [v for v in value.values() if isinstance(v, dict)]
            value = inner[0] if len(inner) == 1 else None
        else:
            value = get_ci(value, key)
    return value


def _first_ci(mapping: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = get_ci(mapping, key)
        if value not in (None, ""):
            return value
    return None


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


def _stem_name(entry: str, prefix: str) -> str:
    """`data/sharedo-type-matter-<guid>.json` -> `matter`: the name part of a data file name."""
    stem = PurePosixPath(entry).name
    stem = stem[: -len(".json")] if stem.lower().endswith(".json") else stem
    stem = stem[len(prefix) :].lstrip("-")
    return _GUID_TAIL.sub("", stem) or stem


def _kind_for(file_name: str, provider: str | None) -> Kind | None:
    """The kind of a data file, by its name prefix (longest wins), else by its export step's provider."""
    low = file_name.lower()
    matches = [k for k in KINDS if low.startswith(k.prefix + "-") or low == k.prefix + ".json"]
    if matches:
        return max(matches, key=lambda k: len(k.prefix))
    if provider:
        return next((k for k in KINDS if k.prefix == provider.lower()), None)
    return None


# --------------------------------------------------------------------------------------------- IDE


@dataclass
class _IdeNode:
    name: str | None
    parent: int | None  # index into the node list
    explicit: str | None  # a path recorded on the node itself
    ids: set[str]
    parent_ref: str | None  # a parent id, for flat lists
    source: str  # the developer-ide data entry


class _IdeIndex:
    """Every node of every developer-ide-*.json, so a manifest file can be given its folder path."""

    def __init__(self) -> None:
        self.nodes: list[_IdeNode] = []
        self.by_id: dict[str, int] = {}

    def add_document(self, doc: Any, source: str) -> None:
        self._walk(doc, None, source)

    def _walk(self, value: Any, parent: int | None, source: str) -> None:
        if isinstance(value, list):
            for item in value:
                self._walk(item, parent, source)
            return
        if not isinstance(value, dict):
            return
        name = _first_ci(value, IDE_NAME_KEYS)
        ids = {str(v).lower() for k in IDE_ID_KEYS + IDE_FILE_REF_KEYS if (v := get_ci(value, k))}
        here = parent
        if isinstance(name, str) and (ids or _has_children(value)):
            explicit = _first_ci(value, IDE_PATH_KEYS)
            parent_ref = _first_ci(value, IDE_PARENT_KEYS)
            node = _IdeNode(
                name,
                parent,
                explicit if isinstance(explicit, str) else None,
                ids,
                str(parent_ref).lower() if parent_ref else None,
                source,
            )
            self.nodes.append(node)
            here = len(self.nodes) - 1
            for key in (get_ci(value, k) for k in IDE_ID_KEYS):
                if key:
                    self.by_id.setdefault(str(key).lower(), here)
        for child in value.values():  # children keys and wrapper objects alike
            if isinstance(child, (dict, list)):
                self._walk(child, here, source)

    def match(self, file_id: str, storage: str, original: str, source: str | None) -> int | None:
        """The node for a manifest file: by id or storage name, else by a name unique in its step."""
        keys = {k.lower() for k in (file_id, storage) if k}
        hits = [i for i, n in enumerate(self.nodes) if n.ids & keys]
        if hits:
            return hits[0]
        if not original:
            return None
        base = PurePosixPath(original.replace("\\", "/")).name.lower()
        named = [
            i
            for i, n in enumerate(self.nodes)
            if (n.name or "").lower() == base and (source is None or n.source == source)
        ]
        return named[0] if len(named) == 1 else None

    def path_of(self, index: int) -> tuple[str, str]:
        """(folder path, file name) of a node, from recorded paths and its ancestors' names."""
        node = self.nodes[index]
        folder = self._folder(node, set())
        return folder, node.name or ""

    def _folder(self, node: _IdeNode, seen: set[int]) -> str:
        if node.explicit:
            path = node.explicit.replace("\\", "/").rstrip("/")
            last = path.rsplit("/", 1)[-1]
            if node.name and last.lower() == node.name.lower():
                path = path[: -len(last)]
            return path.rstrip("/")
        parent = node.parent
        if parent is None and node.parent_ref is not None:
            parent = self.by_id.get(node.parent_ref)
        if parent is None or parent in seen:
            return ""
        seen.add(parent)
        up = self.nodes[parent]
        above = self._folder(up, seen)
        return f"{above}/{up.name}" if above else (up.name or "")


def _has_content(value: Any) -> bool:
    """Whether a section holds anything: not null, not empty, not only empty parts."""
    if isinstance(value, dict):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_content(v) for v in value)
    return value not in (None, "")


def _has_children(value: dict) -> bool:
    return any(isinstance(get_ci(value, k), list) for k in IDE_CHILD_KEYS)


# --------------------------------------------------------------------------------------------- import


def import_package(package: str | Path, target: str | Path, *, overwrite: bool = False) -> ImportReport:
    """Import a solution-export zip into the solution folder `target`; see the module docstring."""
    package = Path(package)
    target = Path(target).absolute()
    source = _zipped_folder(package) if package.is_dir() else None
    if source is None and not package.is_file():
        raise PackageError(f"{package} does not exist")
    if target.exists() and not target.is_dir():
        raise PackageError(f"target {target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise PackageError(f"target {target} is not empty; refusing to replace it without overwrite")

    pkg = _Package(package, source)
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


def _zipped_folder(folder: Path) -> IO[bytes]:
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

    def __init__(self, pkg: _Package, work: Path, target: Path) -> None:
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
        manifest = _parse_json(self.pkg.read(manifest_entry), manifest_entry)
        if not isinstance(manifest, dict):
            raise PackageError("manifest.json is not a JSON object", manifest_entry)
        name = get_ci(manifest, "Name")
        if not isinstance(name, str) or not name.strip():
            name = self.pkg.path.stem
            self.report.warnings.append((manifest_entry, f"no Name; the solution is called {name!r}"))
        self.report.name = name

        steps = self._steps(manifest, manifest_entry)
        files = self._manifest_files(manifest, manifest_entry)
        ide = _IdeIndex()
        for entry, kind, doc in self._data_items(steps):
            if kind.prefix == DEVELOPER_IDE:
                ide.add_document(doc, entry)
                self.used.add(entry)
            else:
                self._import_item(entry, kind, doc)
        self._import_ide_files(files, steps, ide)
        self._missing_dependencies(manifest, steps)
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

    # -- manifest

    def _steps(self, manifest: dict, manifest_entry: str) -> dict[str, tuple[str, str | None]]:
        """Export step id -> (provider system name, data entry), from manifest ExportedSteps [C3]."""
        steps: dict[str, tuple[str, str | None]] = {}
        raw = get_ci(manifest, "ExportedSteps") or []
        if not isinstance(raw, list):
            raise PackageError("manifest.json ExportedSteps is not a list", manifest_entry)
        for i, step in enumerate(raw):
            if not isinstance(step, dict):
                continue
            storage = get_ci(step, "StorageFilename")
            entry = None
            if isinstance(storage, str) and storage:
                entry = self.pkg.find(storage) or self.pkg.find("data/" + storage)
                if entry is None:
                    raise PackageError(
                        f"manifest.json ExportedSteps[{i}] names {storage!r}, which is not in the package",
                        storage,
                    )
            provider = str(get_ci(step, "ExportProviderSystemName") or "")
            steps[str(get_ci(step, "Id") or f"#{i}").lower()] = (provider, entry)
        return steps

    def _manifest_files(self, manifest: dict, manifest_entry: str) -> list[dict[str, str]]:
        """Manifest Files[], each resolved to its zip entry; a missing file is an error."""
        raw = get_ci(manifest, "Files") or []
        if not isinstance(raw, list):
            raise PackageError("manifest.json Files is not a list", manifest_entry)
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise PackageError(f"manifest.json Files[{i}] is not an object", manifest_entry)
            storage = get_ci(item, "StorageFilename")
            if not isinstance(storage, str) or not storage:
                raise PackageError(f"manifest.json Files[{i}] has no StorageFilename", manifest_entry)
            entry = self.pkg.find("files/" + storage) or self.pkg.find(storage)
            if entry is None:
                raise PackageError(
                    f"manifest.json Files[{i}] names files/{storage}, which is not in the package", storage
                )
            out.append(
                {
                    "entry": entry,
                    "id": str(get_ci(item, "Id") or ""),
                    "storage": storage,
                    "original": str(get_ci(item, "OriginalFilename") or ""),
                    "step": str(get_ci(item, "StepId") or "").lower(),
                }
            )
        return out

    # -- data/*.json

    def _data_items(self, steps: dict[str, tuple[str, str | None]]) -> Iterator[tuple[str, Kind, Any]]:
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
            doc = _parse_json(self.pkg.read(entry), entry)  # a corrupt file is an error, used or not
            kind = _kind_for(file_name, provider_of.get(entry))
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
        name = next((n for p in kind.name_paths if isinstance(n := _dig(doc, p), str) and n.strip()), None)
        if name is None:
            if kind.prefix != "execution-engine-trigger":
                where = " or ".join(".".join(p) for p in kind.name_paths)
                self._skip(entry, f"no system name ({where}) found")
                return
            name = _stem_name(entry, kind.prefix)
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
            if not isinstance(value, (dict, list)) or not _has_content(value):
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

    def _import_ide_files(
        self, files: list[dict[str, str]], steps: dict[str, tuple[str, str | None]], ide: _IdeIndex
    ) -> None:
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

    def _ide_location(self, f: dict[str, str], ide: _IdeIndex, step_entry: str | None) -> tuple[str, str]:
        entry, original = f["entry"], f["original"]
        node = ide.match(f["id"], f["storage"], original, step_entry)
        if node is not None:
            folder, name = ide.path_of(node)
            return _safe_relpath(folder, entry, "IDE folder"), name
        if "/" in original.replace("\\", "/").strip("/"):
            path = _safe_relpath(original, entry, "OriginalFilename")
            folder, _, name = path.rpartition("/")
            return folder, name
        name = original or _GUID_HEAD.sub("", f["storage"])  # files/<guid>-<name>
        self.report.warnings.append(
            (entry, f"no IDE folder recorded for {name!r}; written to _IDE/{name}, move it if needed")
        )
        return "", name

    # -- manifest dependencies

    def _missing_dependencies(self, manifest: dict, steps: dict[str, tuple[str, str | None]]) -> None:
        """Every ExportedSteps[].Dependencies.Mandatory[] whose PackageStepId is not a step of this package,
        grouped by what is missing, with the items that need it (the repeats of one item counted once)."""
        found: dict[tuple[str, str], MissingDependency] = {}
        for i, step in enumerate(get_ci(manifest, "ExportedSteps") or []):
            if not isinstance(step, dict):
                continue
            deps = get_ci(step, "Dependencies")
            mandatory = get_ci(deps, "Mandatory") if isinstance(deps, dict) else None
            if (deps is not None and not isinstance(deps, dict)) or not isinstance(mandatory, (list, type(None))):
                self.report.warnings.append(
                    ("manifest.json", f"ExportedSteps[{i}].Dependencies is not {{Mandatory: [...]}}; not checked")
                )
                continue
            step_entry = steps.get(str(get_ci(step, "Id") or f"#{i}").lower(), ("", None))[1]
            who = self._display_path(step_entry) if step_entry else str(get_ci(step, "Description") or f"step {i}")
            for dep in mandatory or []:
                if not isinstance(dep, dict):
                    continue
                step_id = get_ci(dep, "PackageStepId")
                if step_id and str(step_id).lower() in steps:
                    continue
                what = get_ci(dep, "Dependency")
                what = what if isinstance(what, dict) else {}
                selector = get_ci(what, "Selector")
                description = str(get_ci(what, "Description") or "")
                name = get_ci(selector, "SystemName") if isinstance(selector, dict) else None
                name = str(name or description or step_id or "?")
                kind = str(get_ci(what, "SystemName") or "item")
                item = found.setdefault(
                    (kind.lower(), name.lower()), MissingDependency(kind=kind, name=name, description=description)
                )
                reason = str(get_ci(what, "Reason") or "")
                if reason and reason not in item.reasons:
                    item.reasons.append(reason)
                if who not in item.needed_by:
                    item.needed_by.append(who)
        self.report.missing = sorted(found.values(), key=lambda m: (m.kind.lower(), m.name.lower()))

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
