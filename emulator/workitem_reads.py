"""What the emulator's pages and the widget harness read of work items: a searchable list a page at a time,
a work item's children, the titles beside other areas' rows, the pickers' lists. The work-items area's
reads (its writes and rules are in workitems.py): only this area queries its tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .kernel.paging import Paged, TableReads, chunk_after, equal_to, paged


class WorkItemReads(TableReads):
    table = "work_items"

    def page(self, page: int, size: int, *, text: str = "", type_name: str = "") -> Paged:
        """Newest first: those whose title or reference contains `text` (as typed: % and _ are no wildcards) or
        whose id it is, of one type or all."""
        sql, args = "SELECT id, type, title, reference, phase, updated FROM work_items WHERE 1=1", []
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql += " AND (title LIKE ? ESCAPE '\\' OR reference LIKE ? ESCAPE '\\' OR id = ?)"
            args += [like, like, text.lower()]
        of_type, type_args = equal_to({"type": type_name})
        with self.store.read() as conn:
            return paged(conn, sql + of_type + " ORDER BY rowid DESC", args + type_args, page, size)

    def children(self, item_id: str, limit: int) -> list[sqlite3.Row]:
        """The first `limit` children, oldest first (id, title, reference, type, phase)."""
        with self.store.read() as conn:
            return conn.execute(
                "SELECT id, title, reference, type, phase FROM work_items WHERE parent_id=? ORDER BY rowid LIMIT ?",
                (item_id, limit),
            ).fetchall()

    def titles(self, ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
        """Title and reference by id, for the ids that are work items (rows of other areas name them)."""
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        with self.store.read() as conn:
            rows = conn.execute(
                f"SELECT id, title, reference FROM work_items WHERE id IN ({','.join('?' * len(wanted))})", wanted
            ).fetchall()
        return {r["id"]: {"title": r["title"], "reference": r["reference"]} for r in rows}

    def attribute_values(self, item_id: str, names: Iterable[str], conn: sqlite3.Connection) -> dict[str, str | None]:
        """The work item's attributes of those names that it has, read on the caller's connection (in its
        transaction: a rule deciding from them and writing sees its own writes)."""
        wanted = list(names)
        rows = conn.execute(
            f"SELECT name, value FROM attributes WHERE work_item_id=? AND name IN ({','.join('?' * len(wanted))})",
            (item_id, *wanted),
        )
        return {r["name"]: r["value"] for r in rows}

    def ids_with_attributes(self, names: Iterable[str], conn: sqlite3.Connection) -> list[str]:
        """The work items holding any attribute of those names, by id."""
        wanted = list(names)
        rows = conn.execute(
            f"SELECT DISTINCT work_item_id FROM attributes WHERE name IN ({','.join('?' * len(wanted))}) "
            "ORDER BY work_item_id",
            wanted,
        )
        return [r[0] for r in rows]

    def participant_ods_ids(self, item_id: str, role: str) -> list[str]:
        """The ODS ids of the work item's participants in one role, in the order they were added."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT ods_id FROM participants WHERE work_item_id=? AND role=? ORDER BY rowid", (item_id, role)
            )
            return [r["ods_id"] for r in rows]

    def comments_from(self, after: tuple[str, str] | None, limit: int) -> list[sqlite3.Row]:
        """Every work item's comments in the order they were made (created, id), the `limit` after `after`
        (the created and id of the last one read): a reader walks them all a chunk at a time."""
        with self.store.read() as conn:
            return chunk_after(conn, "SELECT id, work_item_id, comment, author, created FROM comments", after, limit)

    def pickable(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` by reference (those without one last), for a page's work-item picker."""
        rows = self.store.rows(
            "SELECT id, title, reference, type FROM work_items ORDER BY reference IS NULL, reference, id LIMIT ?",
            (limit,),
        )
        return [{"id": r["id"], "title": r["title"], "reference": r["reference"], "type": r["type"]} for r in rows]

    def id_by_reference(self, reference: str) -> str | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT id FROM work_items WHERE reference=? LIMIT 1", (reference,)).fetchone()
        return row["id"] if row else None

    def first_created(self) -> str | None:
        """The id of the first work item created (the seed's first: the demo's first matter)."""
        with self.store.read() as conn:
            row = conn.execute("SELECT id FROM work_items ORDER BY created, id LIMIT 1").fetchone()
        return row["id"] if row else None
