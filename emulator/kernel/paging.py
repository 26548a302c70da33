"""One page of rows with SQL LIMIT/OFFSET: the mechanism the areas' list reads share (the web pages show them)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 50


@dataclass
class Paged:
    rows: list[Any]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paged(conn: sqlite3.Connection, sql: str, args: list[Any], page: int, size: int = PAGE_SIZE) -> Paged:
    """One page with SQL LIMIT/OFFSET, one row more than shown to know whether another page follows: no
    COUNT over the whole table, so a page costs the same however large the store grows."""
    rows = conn.execute(f"{sql} LIMIT ? OFFSET ?", [*args, size + 1, (page - 1) * size]).fetchall()
    return Paged(rows[:size], page, len(rows) > size)
