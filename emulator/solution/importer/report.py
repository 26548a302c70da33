"""What an import produced: the terminal summary `operate import` prints and the IMPORT-REPORT.md it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emulator.solution.starter import Starter, report_markdown, summary_lines

REPORT_FILE = "IMPORT-REPORT.md"


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
        out += _section("Dropped sections", bool(self.dropped))
        for files, sections in self.dropped_groups():
            out.append(f"- {', '.join(f'`{f}`' for f in files)}: {', '.join(sections)}")
        out += _section("Missing dependencies", bool(self.missing))
        for m in self.missing:
            why = "; ".join(m.reasons) or "no reason given"
            out.append(f"- {m.kind} `{m.name}` ({why}), needed by {', '.join(f'`{n}`' for n in m.needed_by)}")
        if self.warnings:
            out += ["", "## Warnings", ""]
            out.extend(f"- `{entry}`: {text}" for entry, text in self.warnings)
        out += ["", *report_markdown(self.starter, self.added, self.kept)]
        return "\n".join(out).rstrip() + "\n"


# The fixed text of the sections that list what a package drops or lacks: the line when there is none, and the
# lines before the list when there is.
_SECTION_TEXT: dict[str, tuple[str, tuple[str, ...]]] = {
    "Dropped sections": (
        "Nothing.",
        (
            "Parts of imported files that the emulator does not read: each file is written whole, but",
            "these sections have no effect here. Files that drop the same sections share a line.",
        ),
    ),
    "Missing dependencies": (
        "Nothing: every mandatory dependency in manifest.json is in the package.",
        (
            "Mandatory dependencies that manifest.json names but the package does not hold; a tenant",
            "importing this package must already have them, and the emulator does not.",
        ),
    ),
}


def _section(title: str, listed: bool) -> list[str]:
    """A report section's heading, then the lines introducing its list (when it has one) or the line saying it
    is empty (_SECTION_TEXT): the sections listing what the package drops or lacks open the same way."""
    nothing, intro = _SECTION_TEXT[title]
    return ["", f"## {title}", "", *intro, ""] if listed else ["", f"## {title}", "", nothing]
