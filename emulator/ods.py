"""The operational data store: people and organisations, read and searched the way Operate does."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from .kernel.binding import Fields
from .kernel.errors import ApiError, not_found
from .kernel.store import Store, dumps

KINDS = ("person", "organisation")
# Emulator-only keys in ods/people.json that a real ODS record does not carry.
PRIVATE_KEYS = {"permissions"}


def display_name(kind: str, body: dict[str, Any]) -> str:
    if kind == "person":
        return " ".join(x for x in (body.get("firstName"), body.get("surname")) if x) or body.get("shortName", "")
    return body.get("name") or body.get("registeredName") or ""


# [inferred] ODS records carrying one of these tags are mastered in the PMS: only the public API
# (an integration) may create or change them; the UI's own route refuses them.
PMS_MASTERED_TAGS = frozenset({"supplier"})


class Ods:
    def __init__(self, store: Store, stream: Any = None) -> None:
        self.store = store
        self.stream = stream

    def seed(self, tx: sqlite3.Connection, people: list[dict[str, Any]], orgs: list[dict[str, Any]]) -> None:
        rows = [(p["id"], "person", dumps(p)) for p in people] + [(o["id"], "organisation", dumps(o)) for o in orgs]
        tx.executemany("INSERT INTO ods VALUES (?, ?, ?)", rows)

    def find(self, ods_id: str, conn: sqlite3.Connection | None = None) -> tuple[str, dict[str, Any]] | None:
        if conn is None:
            with self.store.read() as c:
                return self.find(ods_id, c)
        row = conn.execute("SELECT kind, body FROM ods WHERE id=?", (ods_id,)).fetchone()
        return (row["kind"], json.loads(row["body"])) if row else None

    def get(self, kind: str, ods_id: str) -> dict[str, Any]:
        found = self.find(ods_id)
        if found is None or found[0] != kind:
            raise not_found(kind, ods_id)
        return public(found[1])

    def search(self, body: Any) -> dict[str, Any]:
        """`POST /api/ods/_search`: rows carry `result` as a JSON string, as the real one does."""
        f = Fields(body)
        text = (f.string("searchString", max_length=200) or "").strip().lower()
        kinds = f.strings("odsEntityTypes") or list(KINDS)
        for k in kinds:
            if k not in KINDS:
                f.error("odsEntityTypes", f"unknown entity type {k!r}; use {list(KINDS)}")
        rows_per_page = f.integer("rowsPerPage", default=20, minimum=1, maximum=500) or 20
        start_page = f.integer("startPage", default=1, minimum=1, maximum=1_000_000) or 1
        f.raise_if_errors()
        with self.store.read() as conn:
            records = conn.execute("SELECT id, kind, body FROM ods ORDER BY kind, id").fetchall()
        hits = []
        for r in records:
            if r["kind"] not in kinds:
                continue
            doc = json.loads(r["body"])
            haystack = " ".join(
                str(doc.get(k, ""))
                for k in (
                    "firstName",
                    "surname",
                    "name",
                    "registeredName",
                    "reference",
                    "externalReference",
                    "shortName",
                )
            ).lower()
            if text and text not in haystack and text not in display_name(r["kind"], doc).lower():
                continue
            hits.append({"odsEntityType": r["kind"], "id": r["id"], "result": json.dumps(public(doc))})
        total = len(hits)
        first = (start_page - 1) * rows_per_page
        page = hits[first : first + rows_per_page]
        total_pages = max(1, -(-total // rows_per_page))
        return {
            "startPage": start_page,
            "endPage": start_page,
            "totalPages": total_pages,
            "startRow": first + 1 if page else 0,
            "endRow": first + len(page) if page else 0,
            "totalRows": total,
            "rows": page,
        }

    # -- writes -------------------------------------------------------------------------------------
    def save_organisation(
        self, body: Any, principal: Any, *, org_id: str | None = None, public_api: bool = True
    ) -> dict[str, Any]:
        """Create (or, with `org_id`, update) an organisation; PMS-mastered ones only via the public API."""
        from .identity import require

        require(principal, "core.ods.write")
        f = Fields(body)
        name = f.string("name", required=org_id is None, allow_empty=False, max_length=400)
        for key in ("registeredName", "companyNumber", "vatNumber", "externalReference", "reference"):
            f.string(key, max_length=400)
        f.boolean("isVATRegistered")
        tags = f.strings("tags", max_items=50)
        for where, value in f.items("locations", max_items=20):
            Fields(value, where, f.errors)
        f.raise_if_errors()
        with self.store.transaction() as tx:
            current: dict[str, Any] = {}
            if org_id is not None:
                found = self.find(org_id, tx)
                if found is None or found[0] != "organisation":
                    raise not_found("organisation", org_id)
                current = found[1]
            mastered = PMS_MASTERED_TAGS & set(tags or current.get("tags") or [])
            if mastered and not public_api:
                raise ApiError(
                    403,
                    f"{sorted(mastered)[0]} organisations are mastered in the PMS: create and change "
                    "them only through the public API (/api/v2/public/organisation)",
                )
            ext = f.raw("externalReference")
            if ext:
                for other_id, other in (
                    (r["id"], json.loads(r["body"]))
                    for r in tx.execute("SELECT id, body FROM ods WHERE kind='organisation'")
                ):
                    if other.get("externalReference") == ext and other_id != org_id:
                        raise ApiError(
                            409,
                            f"organisation {other_id} already has externalReference {ext!r}",
                            [{"field": "externalReference", "message": "already used"}],
                        )
            doc = {**current, **{k: v for k, v in (body or {}).items() if isinstance(k, str)}}
            doc["id"] = org_id or str(uuid.uuid4())
            if name:
                doc["name"] = name
            doc.setdefault("tags", [])
            doc.setdefault("isActive", True)
            tx.execute(
                "INSERT INTO ods VALUES (?, 'organisation', ?) ON CONFLICT(id) DO UPDATE SET body=excluded.body",
                (doc["id"], dumps(doc)),
            )
            if self.stream is not None:
                self.stream.append(
                    tx,
                    "ods-entity-updated" if org_id else "ods-entity-created",
                    {"odsId": doc["id"], "odsEntityType": "organisation", "tags": doc["tags"]},
                )
            return public(doc)


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in PRIVATE_KEYS}
