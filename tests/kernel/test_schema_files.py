"""An area's migrations are SQL files beside its module (`-- migration N: why` per part), read as package data:
what a part holds, and the mistakes in such a file that are refused with the file named."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from emulator.core import SCHEMA
from emulator.kernel.schema import SchemaError, sql_migrations
from tests.helpers.paths import ROOT


@pytest.fixture
def area(tmp_path, monkeypatch):
    """A package `sqlarea` on the path whose module `tables` has the .sql file the test writes."""
    package = tmp_path / "sqlarea"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sqlarea", raising=False)

    def write(text: str) -> Path:
        (package / "tables.sql").write_text(text, encoding="utf-8")
        return package / "tables.sql"

    return write


def test_each_part_runs_from_its_header_to_the_next(area):
    area(
        "-- The area's tables.\n\n"
        "-- migration 2: things.\n    CREATE TABLE things (id TEXT PRIMARY KEY);\n\n"
        "-- migration 5: their names, and\n-- why they came later.\n    ALTER TABLE things ADD COLUMN name TEXT;\n"
    )
    parts = sql_migrations("sqlarea.tables")
    assert list(parts) == [2, 5]
    assert parts[2] == "\n    CREATE TABLE things (id TEXT PRIMARY KEY);\n\n"
    assert parts[5] == "\n-- why they came later.\n    ALTER TABLE things ADD COLUMN name TEXT;\n"


@pytest.mark.parametrize(
    "text, said",
    [
        ("CREATE TABLE t (x);\n-- migration 1: t.\n", "only comments may come before the first"),
        ("-- just a comment\n", "only comments may come before the first"),
        ("-- migration 2: b.\nSELECT 1;\n-- migration 1: a.\nSELECT 1;\n", "migration 1 after 2"),
        ("-- migration 1: a.\nSELECT 1;\n-- migration 1: again.\nSELECT 1;\n", "migration 1 after 1"),
    ],
)
def test_a_file_out_of_shape_is_refused_naming_it(area, text, said):
    area(text)
    with pytest.raises(SchemaError, match=said) as refused:
        sql_migrations("sqlarea.tables")
    assert str(refused.value).startswith("sqlarea/tables.sql: ")


def test_each_sql_file_is_the_migrations_of_the_area_registered_by_the_module_beside_it():
    """No stray .sql file: each one's module registers an area the store is built with, and that is every area."""
    owners = []
    for path in sorted(p for d in ("emulator", "smartplans") for p in (ROOT / d).rglob("*.sql")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        registered = importlib.import_module(module).SCHEMA
        assert registered in SCHEMA.areas, module
        assert registered.migrations == sql_migrations(module), module
        owners.append(registered.area)
    assert sorted(owners) == sorted(area.area for area in SCHEMA.areas)
