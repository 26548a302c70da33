"""The schema the areas register is the schema data dirs and snapshots were written with: the same objects,
the same SQL text for each, the same version number, the same tables left out of snapshots.

tests/fixtures/schema/sqlite_master.json was generated from the store as it was before the areas owned
their tables (one MIGRATIONS list in emulator/kernel/store.py). A new migration changes it on purpose:
regenerate it then (the objects: `SELECT type, name, tbl_name, sql FROM sqlite_master`, ordered by type
and name), and bump the OpenAPI document's snapshot schemaVersion with it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from emulator.core import SCHEMA
from emulator.kernel.schema import AreaSchema, Schema, SchemaError
from emulator.kernel.store import Store
from tests.helpers.paths import FIXTURES, ROOT

GOLDEN = json.loads((FIXTURES / "schema" / "sqlite_master.json").read_text("utf-8"))
OPENAPI = ROOT / "emulator" / "catalogue" / "openapi.json"


def _objects(conn: sqlite3.Connection) -> list[list[str]]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    )
    return [list(r) for r in rows]


def test_a_new_store_has_the_schema_of_before_byte_for_byte(tmp_path):
    store = Store(tmp_path / "operate.db", SCHEMA)
    with store.read() as conn:
        objects = _objects(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    store.close()
    assert version == GOLDEN["schemaVersion"] == SCHEMA.version
    assert [o[:2] for o in objects] == [o[:2] for o in GOLDEN["objects"]]  # the same tables, indexes, triggers
    assert objects == GOLDEN["objects"]  # and the same SQL for each


def test_a_file_migrated_one_version_at_a_time_ends_with_the_same_schema(tmp_path):
    """A data dir from any earlier version runs the rest of the migrations when it opens."""
    for stop in range(1, SCHEMA.version):
        path = tmp_path / f"v{stop}.db"
        conn = sqlite3.connect(path)
        for number, script in enumerate(SCHEMA.migrations[:stop], start=1):
            conn.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")
        conn.close()
        store = Store(path, SCHEMA)
        with store.read() as db:
            assert _objects(db) == GOLDEN["objects"], f"from version {stop}"
        store.close()


def test_snapshots_leave_out_the_same_tables_as_before(tmp_path):
    store = Store(tmp_path / "operate.db", SCHEMA)
    assert sorted(SCHEMA.unsnapshotted) == GOLDEN["unsnapshotted"]
    assert set(store.tables) - set(store.snapshot_tables()) == set(GOLDEN["unsnapshotted"])
    assert store.export()["schemaVersion"] == SCHEMA.version
    store.close()


def test_every_table_has_one_owner_and_the_store_registers_none_of_the_areas():
    tables = {o[1] for o in GOLDEN["objects"] if o[0] == "table"}
    assert set(SCHEMA.owner) == tables
    assert SCHEMA.owner["meta"].area == "the store"
    assert SCHEMA.owner["work_items"].modules[0] == "emulator.workitems"
    assert SCHEMA.owner["plan_executions"].modules == ("smartplans",)


def test_the_openapi_snapshot_schema_version_is_the_store_s():
    snapshot = json.loads(OPENAPI.read_text("utf-8"))["components"]["schemas"]["Snapshot"]
    assert snapshot["properties"]["schemaVersion"]["enum"] == [SCHEMA.version]


def _area(name: str, tables: tuple[str, ...], migrations: dict[int, str], **kw) -> AreaSchema:
    return AreaSchema(area=name, modules=(f"x.{name}",), tables=tables, migrations=migrations, **kw)


def test_registrations_that_would_change_the_numbering_are_refused():
    with pytest.raises(SchemaError, match="without a gap"):
        Schema([_area("a", ("t",), {1: "CREATE TABLE t (x);"}), _area("b", ("u",), {3: "CREATE TABLE u (x);"})])
    with pytest.raises(SchemaError, match="registered by a and b"):
        Schema([_area("a", ("t",), {1: ""}), _area("b", ("t",), {2: ""})])
    with pytest.raises(SchemaError, match="not one of its tables"):
        Schema([_area("a", ("t",), {1: ""}, unsnapshotted=frozenset({"u"}))])


def test_one_number_s_parts_run_in_the_order_the_areas_are_listed():
    schema = Schema([_area("a", ("t",), {1: "A1;", 2: "A2;"}), _area("b", ("u",), {1: "B1;"})])
    assert schema.migrations == ["A1;B1;", "A2;"]
    assert schema.version == 2
