"""The Clio sync's runs and their results as the pages, the API and the e-mailed report read them: a run's
summary with its counts, the runs newest first, one row per matter attempted, and that as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from ...kernel.errors import ApiError
from ...kernel.store import Store
from ...kernel.visible import CONTROL_PICTURES

RESULTS = ("imported", "updated", "unchanged", "skipped", "failed")
CSV_COLUMNS = ("clio_id", "display_number", "result", "reason", "operate_work_item_id")


class SyncRuns:
    """Reads `clio_sync_runs` and `clio_sync_results` (ClioSync writes them); `conn` reads inside a
    transaction already open (the report is written in the one that finishes the run)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, run_id: str, conn: Any = None) -> dict[str, Any]:
        if conn is None:
            with self.store.read() as c:
                return self.run(run_id, c)
        row = conn.execute("SELECT * FROM clio_sync_runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise ApiError(404, f"no Clio sync run {run_id!r}")
        counts = dict.fromkeys(RESULTS, 0)
        for r in conn.execute(
            "SELECT result, COUNT(*) FROM clio_sync_results WHERE run_id=? GROUP BY result", (run_id,)
        ):
            counts[r[0]] = r[1]
        return {
            "id": row["id"],
            "kind": row["kind"],
            "state": row["state"],
            "triggeredBy": row["triggered_by"],
            "started": row["started"],
            "finished": row["finished"],
            "windowFrom": row["window_from"],
            "first": bool(row["first"]),
            "error": row["error"],
            "counts": counts,
        }

    def runs(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        with self.store.read() as conn:
            total = conn.execute("SELECT COUNT(*) FROM clio_sync_runs").fetchone()[0]
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM clio_sync_runs ORDER BY started DESC, rowid DESC LIMIT ? OFFSET ?", (limit, offset)
            )]  # fmt: skip
            return {"totalRows": total, "rows": [self.run(i, conn) for i in ids]}

    def results(self, run_id: str, conn: Any = None) -> list[dict[str, Any]]:
        if conn is None:
            with self.store.read() as c:
                return self.results(run_id, c)
        self.run(run_id, conn)
        rows = conn.execute("SELECT * FROM clio_sync_results WHERE run_id=? ORDER BY at, clio_id", (run_id,)).fetchall()
        return [
            {
                "clioId": r["clio_id"],
                "displayNumber": r["display_number"],
                "result": r["result"],
                "reason": r["reason"],
                "workItemId": r["work_item_id"],
            }
            for r in rows
        ]

    def csv(self, run_id: str, conn: Any = None) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.results(run_id, conn):
            cells = [r["displayNumber"] or "", r["result"], r["reason"] or "", r["workItemId"] or ""]
            writer.writerow([r["clioId"], *(_cell(c) for c in cells)])
        return out.getvalue()


def _cell(text: str) -> str:
    """Text from Clio, safe to open in a spreadsheet: a leading = + - @ would be read as a formula (OWASP);
    a control character is shown as its picture (kernel/visible.py), as on the pages."""
    text = "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    return text.translate(CONTROL_PICTURES)
