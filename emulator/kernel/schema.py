"""The store's schema, assembled from what each area registers: an area owns its tables and brings
their migrations; the store only applies them.

A migration number is a schema version of the one SQLite file, shared by every area: version N is
the N-th script the file has run (`PRAGMA user_version`), and a snapshot's `schemaVersion`. So an
area's part of a migration is keyed by that number, and a number's parts run in one transaction, in
the order the composition root lists the areas (emulator/core.py: AREAS). Later features add a new
number to their area's registration; old numbers are never edited, parts never move between numbers.

Where the SQL lives: in a file beside the area's module, named like it, read by `sql_migrations(__name__)`
(emulator/bookmarks.py -> emulator/bookmarks.sql; smartplans/schema.py -> smartplans/schema.sql), shipped as
package data (pyproject.toml: "*.sql"). A part starts at its header line and runs to the next one:

    -- migration 9: why this version adds what it adds (more `--` lines may follow)
        CREATE TABLE bookmarks (
            user_id TEXT NOT NULL,
            ...
        );

Statements stand indented, as they did in the Python strings they came from: SQLite keeps a CREATE
statement's text as written (sqlite_master), so a file created now records the schema text one created
before did (tests/kernel/test_store_schema.py compares it with tests/fixtures/schema/sqlite_master.json).

A snapshot keeps its `schemaVersion`; one from an earlier version is read as that version's tables and carried
through the later migrations (kernel/store.py: `_brought_forward`), so a migration that renames or moves
something needs nothing more for old snapshots.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class AreaSchema:
    """One area's tables and its parts of the migrations.

    `modules`: the product modules (dotted names) that may query these tables — the area's own;
    tests/test_architecture.py refuses SQL on them anywhere else. `unsnapshotted`: tables a snapshot
    leaves out (sessions, secrets, derived counts)."""

    area: str
    modules: tuple[str, ...]
    tables: tuple[str, ...]
    migrations: Mapping[int, str]
    unsnapshotted: frozenset[str] = field(default_factory=frozenset)


class SchemaError(ValueError):
    pass


# A part's first line in an area's .sql file: `-- migration N: why` (the why may go on over more `--` lines).
_PART = re.compile(r"^-- migration (?P<number>[0-9]+):.*$", re.MULTILINE)


def sql_migrations(module: str) -> dict[int, str]:
    """The migrations an area keeps in the .sql file beside its module (`emulator.bookmarks` ->
    emulator/bookmarks.sql), by number: read as package data, so an installed wheel finds them too.

    Each part runs from its `-- migration N: why` line to the next; only comments may come before the first.
    SQL, not Python strings: the file reads, diffs and highlights as the schema it is."""
    package, _, stem = module.rpartition(".")
    where = f"{package.replace('.', '/')}/{stem}.sql"
    text = resources.files(package).joinpath(f"{stem}.sql").read_text(encoding="utf-8")
    found = list(_PART.finditer(text))
    preamble = text[: found[0].start()] if found else text
    if not found or any(line.strip() and not line.lstrip().startswith("--") for line in preamble.splitlines()):
        raise SchemaError(f"{where}: only comments may come before the first `-- migration N: why` line")
    ends = [part.start() for part in found[1:]] + [len(text)]
    migrations: dict[int, str] = {}
    for part, end in zip(found, ends, strict=True):
        number = int(part["number"])
        if migrations and number <= max(migrations):
            raise SchemaError(f"{where}: migration {number} after {max(migrations)}: numbers go up, once each")
        migrations[number] = text[part.end() : end]
    return migrations


class Schema:
    """The areas' registrations as one numbered list of migrations, checked when it is put together."""

    def __init__(self, areas: Iterable[AreaSchema]) -> None:
        self.areas: tuple[AreaSchema, ...] = tuple(areas)
        self.owner: dict[str, AreaSchema] = {}
        for area in self.areas:
            for table in area.tables:
                if table in self.owner:
                    raise SchemaError(f"table {table} is registered by {self.owner[table].area} and {area.area}")
                self.owner[table] = area
            for table in area.unsnapshotted:
                if table not in area.tables:
                    raise SchemaError(f"{area.area}: unsnapshotted table {table} is not one of its tables")
        numbers = sorted({n for area in self.areas for n in area.migrations})
        if numbers != list(range(1, len(numbers) + 1)):
            raise SchemaError(f"migration numbers must run 1, 2, 3, ... without a gap, not {numbers}")
        self.migrations: list[str] = [
            "".join(area.migrations[n] for area in self.areas if n in area.migrations) for n in numbers
        ]
        self.unsnapshotted: frozenset[str] = frozenset(t for area in self.areas for t in area.unsnapshotted)

    @property
    def version(self) -> int:
        """The schema version a file migrated to the end has (a snapshot's `schemaVersion`)."""
        return len(self.migrations)
