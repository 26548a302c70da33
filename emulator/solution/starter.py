"""What `operate import` adds to a fresh import so it is usable at once: people to sign in as, a work item of
each work type to preview widgets on, and a stand-in for each linked service the export's code calls.

A solution export never carries people (they live in the tenant's ODS), work items (they are data, not
configuration) or linked services (a tenant configures them outside the package). Without them a served
import has no one to sign in as, so every widget call is a 401, nothing to open a widget on, and every proxy
call fails. The importer writes these as ordinary solution files (`ods/people.json`, `seed/workitems.json`,
`[linked_services.<name>]` in operate.toml), named as the emulator's own, so they can be read, edited or
replaced with the tenant's real ones; IMPORT-REPORT.md says how.

Why seed work items rather than a "create one" button: a seeded item is there on the first page load, in the
gallery's picker, on every reset and in every test, with a stable id a test or scenario can name; a button
would leave the first preview empty and a reset would take its item away again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import JsonFileError, get_ci, load

# The emulator's own people: an administrator holding every permission and an ordinary user with the
# built-in user set (emulator/catalogue/security.json `userDefault`). GUIDs that read as the emulator's.
ADMIN_USER = "emulator.admin"
ORDINARY_USER = "emulator.user"
EMULATOR_PEOPLE: list[dict[str, Any]] = [
    {
        "id": "e0000000-0000-4000-8000-00000000ad01",
        "firstName": "Emulator",
        "surname": "Administrator",
        "shortName": "Emulator Administrator",
        "reference": "EMULATOR-ADMIN",
        "isUser": True,
        "isActive": True,
        "userName": ADMIN_USER,
        "permissions": ["*"],
        "tags": ["emulator"],
        "locations": [],
    },
    {
        "id": "e0000000-0000-4000-8000-00000000a5e1",
        "firstName": "Emulator",
        "surname": "User",
        "shortName": "Emulator User",
        "reference": "EMULATOR-USER",
        "isUser": True,
        "isActive": True,
        "userName": ORDINARY_USER,
        "tags": ["emulator"],
        "locations": [],
    },
]

SEED_ID = "5eed0000-0000-4000-8000-{:012d}"  # the n-th preview work item: stable across imports and resets
SEED_REFERENCE = "EMULATOR-{}"  # given, so the type's ReferenceGenerator sequence starts at 1 for real items

# `/api/proxy/<service>/_/...` written literally in a widget, blade, action template or workflow.
PROXY_CALL = re.compile(r"/api/proxy/([A-Za-z0-9][A-Za-z0-9_.\-]{0,99})/")
SCANNED_SUFFIXES = (".js", ".html", ".json", ".ts")
MAX_SCANNED_BYTES = 4 * 1024 * 1024  # a file larger than this is not code a widget or action carries

# [inferred] A linked service the export's code names gets the demo PMS fake until it is pointed at a real
# system: the fake serves the Demo 01 PMS contract (/api/matter, /api/matter/{ref}/financials) and the finance
# routes; any other path answers 404 from the fake, named, never a call off this machine.
STAND_IN_SERVICE = {
    "base_url": "http://127.0.0.1:8766",
    "auth": "api-key",
    "api_key_header": "X-API-Key",
    "api_key": "demo-pms-key",
    "fake": "demo",
}


@dataclass
class Starter:
    """What the importer writes besides the package's own files, and why (for IMPORT-REPORT.md)."""

    people: list[dict[str, Any]] = field(default_factory=list)
    seed: list[dict[str, Any]] = field(default_factory=list)
    not_seeded: list[tuple[str, str]] = field(default_factory=list)  # (work type, why no preview item)
    services: dict[str, list[str]] = field(default_factory=dict)  # service name -> files that call it


def build(work: Path, configured_services: set[str] | None = None) -> Starter:
    """The starter data for the solution folder being written at `work` (its worktypes/, portals/, _IDE/)."""
    starter = Starter(people=[dict(p) for p in EMULATOR_PEOPLE])
    starter.seed, starter.not_seeded = _preview_items(work)
    found = _proxy_services(work)
    starter.services = {k: v for k, v in found.items() if k not in (configured_services or set())}
    return starter


def _preview_items(work: Path) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """One work item per work type a user can create (not abstract, active, with a start phase); the types
    a portal places widgets on first, so the first item (what a page opens with) shows them."""
    from .loading import builtin_worktypes
    from .worktypes import WorkTypeError, WorkTypes, parse_worktype

    parsed = []
    folder = work / "worktypes"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            parsed.append(parse_worktype(load(path), path.name))
        except (JsonFileError, WorkTypeError, OSError) as exc:
            return [], [(path.stem, f"not seeded: {exc}")]
    own = [t.system_name for t in parsed]
    try:
        types = WorkTypes(parsed + [t for t in builtin_worktypes() if t.system_name not in set(own)])
    except WorkTypeError as exc:
        return [], [("worktypes/", f"not seeded: {exc}")]
    with_portal = _portal_types(work)
    items: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for sn in sorted(own, key=lambda s: (s not in with_portal, s)):
        wt = types.get(sn)
        assert wt is not None
        if wt.is_abstract:
            skipped.append((sn, "abstract: a user creates one of its derived types"))
        elif not wt.is_active:
            skipped.append((sn, "not active"))
        elif types.start_phase(sn) is None:
            skipped.append((sn, "no phase plan with a start phase"))
        else:
            n = len(items) + 1
            items.append(
                {
                    "id": SEED_ID.format(n),
                    "workItem": {
                        "sharedoTypeSystemName": sn,
                        "title": f"{wt.name or sn} (emulator preview)",
                        "reference": SEED_REFERENCE.format(n),
                        "description": "Made by `operate import` so widgets of this type have a work item to show.",
                    },
                }
            )
    return items, skipped


def _portal_types(work: Path) -> set[str]:
    """Work types the export's portal documents (portals/*.json) place widgets on."""
    out: set[str] = set()
    folder = work / "portals"
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            doc = load(path)
        except (JsonFileError, OSError):
            continue
        for portal in get_ci(doc, "Portals") or [] if isinstance(doc, dict) else []:
            sn = get_ci(portal, "SharedoTypeSystemName") if isinstance(portal, dict) else None
            if isinstance(sn, str) and sn:
                out.add(sn)
    return out


def _proxy_services(work: Path) -> dict[str, list[str]]:
    """Linked services the export's code calls through the proxy, with the files that name each."""
    found: dict[str, list[str]] = {}
    for folder in ("_IDE", "workflows", "plans"):
        root = work / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or not path.name.lower().endswith(SCANNED_SUFFIXES):
                continue
            if path.stat().st_size > MAX_SCANNED_BYTES:
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
            for name in dict.fromkeys(PROXY_CALL.findall(text)):
                files = found.setdefault(name, [])
                rel = path.relative_to(work).as_posix()
                if rel not in files:
                    files.append(rel)
    return found


def toml_comment(text: str) -> str:
    """Text for a `# ...` line of operate.toml: one line, and the characters TOML refuses in a comment (control
    characters but tab, and U+007F) written as `\\uXXXX`, so a hostile name cannot break or extend the file."""
    return "".join(f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


def toml_block(services: dict[str, list[str]], quote: Any) -> str:
    """The `[linked_services.<name>]` tables for operate.toml, each with a comment saying what it stands in for."""
    if not services:
        return ""
    lines = [
        "",
        "# Linked services the export's widgets or workflows call (/api/proxy/<name>/...). A tenant configures",
        "# these outside the export, so `operate import` added a stand-in for each: the emulator's demo PMS fake,",
        '# served in process (fake = "demo"); nothing leaves this machine. It answers the Demo 01 PMS contract',
        "# (/api/matter, /api/matter/{ref}/financials) and the demo finance routes; other paths answer 404.",
        "# To use your real system instead: set base_url (allow_remote = true when it is not on this machine),",
        "# its auth (docs/solution-format.md), and remove `fake`.",
    ]
    for name, files in services.items():
        key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else quote(name)
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        lines += ["", f"# called by {toml_comment(shown)}", f"[linked_services.{key}]"]
        lines += [f"{k} = {quote(v)}" for k, v in STAND_IN_SERVICE.items()]
    return "\n".join(lines) + "\n"


def write_files(work: Path, starter: Starter) -> list[str]:
    """Write ods/people.json and seed/workitems.json unless the folder already has them; the paths written."""
    written = []
    for rel, data in (("ods/people.json", starter.people), ("seed/workitems.json", starter.seed)):
        path = work / rel
        if path.exists() or not data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written.append(rel)
    return written


def summary_lines(starter: Starter, added: Sequence[str], kept: Sequence[str] = ()) -> list[str]:
    """What `operate import` prints about the starter data."""
    lines = [f"  kept from the folder it replaced: {rel}" for rel in kept]
    if "ods/people.json" in added:
        lines.append(f"  users to sign in as: {ADMIN_USER} (every permission), {ORDINARY_USER} (ods/people.json)")
    if "seed/workitems.json" in added:
        lines.append(f"  {len(starter.seed)} preview work item(s), one per work type (seed/workitems.json)")
    lines += [f"  linked service {n!r}: the demo PMS fake stands in (operate.toml)" for n in starter.services]
    return ["Added so it runs at once (not in the package):", *lines] if lines else []


PEOPLE_HELP = f"""`ods/people.json` holds two users to sign in as (the gallery's *Signed in as*, the sign-in page):

- `{ADMIN_USER}`: an administrator holding every permission (`"permissions": ["*"]`);
- `{ORDINARY_USER}`: an ordinary user with the built-in user permissions.

To add the tenant's real people, append them to `ods/people.json` in the ODS person shape
(docs/solution-format.md): `id` (a GUID), `firstName`, `surname`, and for a user `isUser: true`,
`userName` and optionally `permissions` (default: the built-in user set). For example:

```json
{{"id": "0b5e0000-0000-4000-8000-000000000001", "firstName": "Ada", "surname": "Lovelace",
 "isUser": true, "isActive": true, "userName": "ada.lovelace",
 "permissions": ["core.sharedo.read", "core.sharedo.update", "core.linkedServices.proxy"]}}
```

Remove the two emulator users when you no longer want them, and restart `operate serve` (with
`--fresh` to start from the new seed)."""

SEED_HELP = """`seed/workitems.json` holds one work item of each work type a user can create, to preview widgets
on (the gallery's *Work item* picker; a widget page opens the first one, of a type the export's portals place
widgets on). They are seed data: every reset (`POST /api/_emulator/reset`, `operate serve --fresh`) brings
them back. Seeding rather than a "create one" button: they are there on the first page load, in every test
and after every reset, with ids a test or scenario can name."""

SERVICES_HELP = """The export's code calls these linked services through the proxy (`/api/proxy/<name>/...`);
a tenant configures them outside the export. Each got a `[linked_services.<name>]` table in `operate.toml`
that serves it from the emulator's demo PMS fake, in process (the Demo 01 PMS contract: `/api/matter`,
`/api/matter/{ref}/financials`). Point `base_url` at your real system and remove `fake` to use it instead."""


def report_markdown(starter: Starter, added: Sequence[str], kept: Sequence[str] = ()) -> list[str]:
    """IMPORT-REPORT.md's "Added for the emulator": what was added and how to replace it with the real."""
    out = ["## Added for the emulator", ""]
    out.append("A solution export carries no people, no work items and no linked services, so `operate import`")
    out.append("added these, named as the emulator's own, so `operate serve --solution` is usable at once.")
    if kept:
        out += ["", f"Kept from the folder this import replaced (an export never carries them): {', '.join(kept)}."]
    out += ["", "### Users", ""]
    out.append(PEOPLE_HELP if "ods/people.json" in added else "Nothing added: `ods/people.json` was kept.")
    out += ["", "### Work items", ""]
    if "seed/workitems.json" in kept:
        out.append("Nothing added: `seed/workitems.json` was kept.")
    else:
        out.append(SEED_HELP if starter.seed else "None: no work type of the package can be created.")
    if starter.seed and "seed/workitems.json" not in kept:
        out.append("")
    for e in starter.seed if "seed/workitems.json" not in kept else []:
        out.append(f"- `{e['id']}` `{e['workItem']['reference']}`: {e['workItem']['sharedoTypeSystemName']}")
    if starter.not_seeded:
        out.append("")
        out.extend(f"- no item for `{sn}`: {why}" for sn, why in starter.not_seeded)
    out += ["", "### Linked services", ""]
    none = "None: the export's code calls no linked service through the proxy."
    out.append(SERVICES_HELP if starter.services else none)
    if starter.services:
        out.append("")
    for name, files in starter.services.items():
        out.append(f"- `{name}`, called by {', '.join(f'`{f}`' for f in files)}")
    return out
