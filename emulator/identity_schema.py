"""The identity area's table (issued tokens) and its migration, registered with the store by the composition
root (emulator/core.py: SCHEMA). Kept apart from the OAuth rules in identity.py, as smartplans/schema.py is."""

from __future__ import annotations

from .kernel.schema import AreaSchema

SCHEMA = AreaSchema(
    area="identity",
    modules=("emulator.identity", "emulator.identity_schema"),
    tables=("tokens",),
    migrations={
        # 1: issued tokens (sessions, not tenant state: never in a snapshot).
        1: """
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        user_name TEXT,
        scope TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    },
    unsnapshotted=frozenset(("tokens",)),
)
