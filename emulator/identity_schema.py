"""The identity area's table (issued tokens) and its migration, registered with the store by the composition
root (emulator/core.py: SCHEMA). Kept apart from the OAuth rules in identity.py, as smartplans/schema.py is."""

from __future__ import annotations

from .kernel.schema import AreaSchema, sql_migrations

SCHEMA = AreaSchema(
    area="identity",
    modules=("emulator.identity", "emulator.identity_schema"),
    tables=("tokens",),
    migrations=sql_migrations(__name__),
    unsnapshotted=frozenset(("tokens",)),
)
