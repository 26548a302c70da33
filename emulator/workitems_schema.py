"""The work items area's tables (work items, attributes, participants, comments and the per-type-and-phase
counts findByQuery pages with) and their migrations, registered with the store by the composition root
(emulator/core.py: SCHEMA). Kept apart from the rules in workitems.py, as smartplans/schema.py is."""

from __future__ import annotations

from .kernel.schema import AreaSchema, sql_migrations

SCHEMA = AreaSchema(
    area="work items",
    modules=(
        "emulator.workitems",
        "emulator.workitems_schema",
        "emulator.workitem_create",
        "emulator.workitem_history",
        "emulator.workitem_reads",
        "emulator.query",
        "emulator.graph_query",
        "emulator.paths",
    ),
    tables=("work_items", "attributes", "participants", "comments", "work_item_counts"),
    migrations=sql_migrations(__name__),
    unsnapshotted=frozenset(("work_item_counts",)),
)
