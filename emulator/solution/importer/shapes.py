"""The shapes of a real solution-export package, in one place: which data/<kind>-*.json kinds become which
solution folder, where each kind keeps its system name, which sections the emulator reads, and the keys a
developer-ide document may spell its nodes with. Each shape is marked confirmed ([C], [C3]) or inferred ([I]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from emulator.kernel.jsonfile import get_ci

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

GUID_HEAD = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-", re.I)
GUID_TAIL = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def dig(value: Any, path: tuple[str, ...]) -> Any:
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


def stem_name(entry: str, prefix: str) -> str:
    """`data/sharedo-type-matter-<guid>.json` -> `matter`: the name part of a data file name."""
    stem = PurePosixPath(entry).name
    stem = stem[: -len(".json")] if stem.lower().endswith(".json") else stem
    stem = stem[len(prefix) :].lstrip("-")
    return GUID_TAIL.sub("", stem) or stem


def kind_for(file_name: str, provider: str | None) -> Kind | None:
    """The kind of a data file, by its name prefix (longest wins), else by its export step's provider."""
    low = file_name.lower()
    matches = [k for k in KINDS if low.startswith(k.prefix + "-") or low == k.prefix + ".json"]
    if matches:
        return max(matches, key=lambda k: len(k.prefix))
    if provider:
        return next((k for k in KINDS if k.prefix == provider.lower()), None)
    return None


def has_content(value: Any) -> bool:
    """Whether a section holds anything: not null, not empty, not only empty parts."""
    if isinstance(value, dict):
        return any(has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(has_content(v) for v in value)
    return value not in (None, "")
