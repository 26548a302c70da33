"""The Clio integration's tables (the connection, its OAuth tokens and states, the mapping, the synced matters,
sync runs and their results, the pushes under way) and their migrations, registered with the store by the
composition root (emulator/core.py: SCHEMA)."""

from __future__ import annotations

from ...kernel.schema import AreaSchema, sql_migrations

SCHEMA = AreaSchema(
    area="Clio integration",
    modules=("emulator.integrations.clio",),
    tables=(
        "integrations",
        "integration_secrets",
        "integration_oauth_states",
        "clio_practice_areas",
        "clio_stages",
        "clio_matters",
        "clio_sync_runs",
        "clio_sync_results",
        "clio_pushes",
    ),
    migrations=sql_migrations(__name__),
    unsnapshotted=frozenset(("integration_secrets", "integration_oauth_states")),
)
