"""One page of rows with SQL LIMIT/OFFSET: the mechanism the areas' list reads share (the web pages show them);
and a chunk of rows after the last one read, for readers that walk a whole table in (created, id) order."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, ClassVar

PAGE_SIZE = 50


@dataclass
class Paged:
    rows: list[Any]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


class TableReads:
    """What an area offers the pages to read, on the store: each area's reads (work items, executions) start
    here, and name the table whose rows the home page counts."""

    table: ClassVar[str]  # the area's main table (a constant of the area, never a user's)

    def __init__(self, store: Any) -> None:
        self.store = store

    def count(self) -> int:
        """How many rows the table holds (the home page's figures)."""
        return int(self.store.row(f"SELECT COUNT(*) FROM {self.table}")[0])


def paged(conn: sqlite3.Connection, sql: str, args: list[Any], page: int, size: int = PAGE_SIZE) -> Paged:
    """One page with SQL LIMIT/OFFSET, one row more than shown to know whether another page follows: no
    COUNT over the whole table, so a page costs the same however large the store grows."""
    rows = conn.execute(f"{sql} LIMIT ? OFFSET ?", [*args, size + 1, (page - 1) * size]).fetchall()
    return Paged(rows[:size], page, len(rows) > size)


def chunk_after(conn: sqlite3.Connection, select: str, after: tuple[str, str] | None, limit: int) -> list[sqlite3.Row]:
    """The `limit` rows of `select` (a SELECT ... FROM one table with `created` and `id` columns, no WHERE)
    after `after` (the created and id of the last row read) in (created, id) order: a reader walks them all
    a chunk at a time, and a row added meanwhile is not skipped."""
    sql, args = select, []
    if after is not None:
        sql += " WHERE created > ? OR (created = ? AND id > ?)"
        args += [after[0], *after]
    return conn.execute(sql + " ORDER BY created, id LIMIT ?", [*args, limit]).fetchall()


def equal_to(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """The ` AND column = ?` conditions (after a `WHERE 1=1`) and their arguments for each filter a page's
    reader set: an empty value filters nothing. The columns are the caller's own names, never a user's."""
    where, args = "", []
    for column, value in filters.items():
        if value:
            where += f" AND {column} = ?"
            args.append(value)
    return where, args
