"""The SmartPlans area's tables (executions, their steps, step logs and host calls, the triggers plans create at
run time) and their migrations, registered with the store by the composition root (emulator/core.py: SCHEMA)."""

from __future__ import annotations

from emulator.kernel.schema import AreaSchema, sql_migrations

SCHEMA = AreaSchema(
    area="SmartPlans",
    modules=("smartplans",),
    tables=("plan_executions", "execution_steps", "step_logs", "runtime_triggers", "step_calls"),
    migrations=sql_migrations(__name__),
)
