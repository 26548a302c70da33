"""What `WorkItems` gives each of its parts (workitem_create.py, workitem_history.py): they are its bases,
never used alone, and read its store, clock, event stream, work types and ODS and its `get`. Declared once
here so the parts agree with WorkItems and with each other."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kernel.clock import Clock
    from .kernel.events import EventStream
    from .kernel.store import Store
    from .ods import Ods
    from .solution.worktypes import WorkTypes
    from .workitems import WorkItem


class WorkItemsPart:
    """A part of WorkItems: the attributes and reads WorkItems sets up for it."""

    store: Store
    clock: Clock
    stream: EventStream
    types: WorkTypes
    ods: Ods

    if TYPE_CHECKING:

        def get(self, item_id: str, conn: sqlite3.Connection | None = None) -> WorkItem: ...
