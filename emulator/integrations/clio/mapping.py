"""The two tables an administrator edits: Clio practice areas → Operate matter work types, and Clio matter
stages → Operate phases. Names match exactly and case-sensitively, as Clio's are (reference §12); many
Clio names may map to one Operate name. Until an administrator saves a table, operate.toml's is used.
"""

from __future__ import annotations

from typing import Any

from ...kernel.errors import ApiError
from ...kernel.store import Store

TABLES = {"practiceAreas": ("clio_practice_areas", "work_type"), "stages": ("clio_stages", "phase")}
EDITED = "clio.mapping.{}.edited"
MAX_ROWS = 1000


class ClioMappings:
    def __init__(self, store: Store, types: Any, defaults: dict[str, dict[str, str]]) -> None:
        self.store, self.types, self.defaults = (
            store,
            types,
            defaults,
        )  # defaults: {"practiceAreas": ..., "stages": ...}

    def get(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        with self.store.read() as conn:
            for key, (table, column) in TABLES.items():
                if self.store.get_meta(EDITED.format(key)):
                    rows = conn.execute(f"SELECT clio_name, {column} FROM {table} ORDER BY clio_name").fetchall()
                    out[key] = {r[0]: r[1] for r in rows}
                else:
                    out[key] = dict(self.defaults.get(key, {}))
        return out

    def put(self, body: Any) -> dict[str, dict[str, str]]:
        """Replace one or both tables: `{"practiceAreas": {"Family": "matter-private-client"}, "stages": {...}}`."""
        if not isinstance(body, dict) or not body or set(body) - set(TABLES):
            raise ApiError(400, f"the body is an object with practiceAreas and/or stages; known keys: {sorted(TABLES)}")
        errors: list[dict[str, str]] = []
        phases = self._phases()
        for key, table in body.items():
            if not isinstance(table, dict) or len(table) > MAX_ROWS:
                errors.append({"field": key, "message": f"an object of Clio name to Operate name (at most {MAX_ROWS})"})
                continue
            for name, target in table.items():
                where = f"{key}.{name}"
                if not name.strip() or len(name) > 200:
                    errors.append({"field": where, "message": "a Clio name is 1 to 200 characters"})
                elif not isinstance(target, str) or not target:
                    errors.append({"field": where, "message": "the Operate system name must be a non-empty string"})
                elif key == "practiceAreas" and not self._matter_type(target):
                    errors.append(
                        {"field": where, "message": f"{target!r} is not a work type a matter can be created as"}
                    )
                elif key == "stages" and target not in phases:
                    errors.append({"field": where, "message": f"no work type has the phase {target!r}"})
        if errors:
            raise ApiError(400, f"{errors[0]['field']}: {errors[0]['message']}", errors)
        with self.store.transaction() as tx:
            for key, table in body.items():
                name, column = TABLES[key]
                tx.execute(f"DELETE FROM {name}")
                tx.executemany(f"INSERT INTO {name}(clio_name, {column}) VALUES (?, ?)", sorted(table.items()))
                self.store.set_meta(tx, EDITED.format(key), "1")
        return self.get()

    def _matter_type(self, system_name: str) -> bool:
        wt = self.types.get(system_name)
        return (
            wt is not None and not wt.is_abstract and wt.is_active and self.types.start_phase(system_name) is not None
        )

    def _phases(self) -> set[str]:
        return {p.system_name for t in self.types for p in self.types.phases(t.system_name)}
