"""The operational data store: people and organisations, read and searched the way Operate does."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

from .kernel.binding import Fields
from .kernel.errors import ApiError, not_found
from .kernel.schema import AreaSchema, sql_migrations
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


def mastered_tags(tags: list[str] | None) -> set[str]:
    """The PMS-mastered tags among `tags`, matched as a person reads them: `Supplier`, ` SUPPLIER ` and
    `supplier` are one tag (any letter case, compatibility forms such as full-width letters, invisible
    format characters, surrounding and repeated spaces ignored)."""
    return PMS_MASTERED_TAGS & {_tag_key(t) for t in tags or [] if isinstance(t, str)}


def _tag_key(tag: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKC", tag) if unicodedata.category(c) != "Cf")
    return " ".join(plain.split()).casefold()


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

    def get_v1(self, kind: str, ods_id: str) -> dict[str, Any]:
        """`GET /api/public/v1/{people|organisations}/{id}`: the record with `contactDetails` beside it,
        where the official mobile app reads them (sharedo-sample-mobile-app `Participants.vue`
        reads `details.contactDetails[].{contactTypeSystemName, contactValue}`) [confirmed by that sample;
        that it sits beside the record's own keys is inferred]."""
        doc = self.get(kind, ods_id)
        return {**doc, "contactDetails": contact_details(doc)}

    def choices(self, limit: int) -> list[dict[str, str]]:
        """People and organisations to pick from (the create form's participants): id, kind and the name shown,
        the first `limit` by kind and id."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT id, kind, body FROM ods ORDER BY kind, id LIMIT ?", (limit,)).fetchall()
        return [
            {"id": r["id"], "kind": r["kind"], "name": display_name(r["kind"], json.loads(r["body"]))} for r in rows
        ]

    def people(self, conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
        """Every person's record, as stored (the Clio sync finds its users by e-mail among them)."""
        for r in conn.execute("SELECT body FROM ods WHERE kind='person'"):
            yield json.loads(r["body"])

    def by_external_reference(
        self, kind: str, reference: str, conn: sqlite3.Connection
    ) -> tuple[str, dict[str, Any]] | None:
        """The record a PMS knows by its own id (`externalReference`): id and record, by the index on it (schema
        8: no scan), read on the caller's connection."""
        row = conn.execute(
            "SELECT id, body FROM ods WHERE json_extract(body, '$.externalReference')=? AND kind=?", (reference, kind)
        ).fetchone()
        return (row["id"], json.loads(row["body"])) if row else None

    def put(self, tx: sqlite3.Connection, kind: str, ods_id: str, body: dict[str, Any]) -> None:
        """Write a record, new or replacing the one with that id, in the caller's transaction (who writes it
        raises its ODS event)."""
        tx.execute(
            "INSERT INTO ods VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET body=excluded.body",
            (ods_id, kind, dumps(body)),
        )

    def _records(self, conn: sqlite3.Connection) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for r in conn.execute("SELECT id, kind, body FROM ods ORDER BY kind, id"):
            yield r["id"], r["kind"], json.loads(r["body"])

    def user_by_name(self, user_name: str | None, conn: sqlite3.Connection) -> dict[str, Any] | None:
        """The ODS person who is the user `user_name` (users are ODS people with `isUser`)."""
        if not user_name:
            return None
        for _, kind, doc in self._records(conn):
            if kind == "person" and doc.get("isUser") and str(doc.get("userName", "")).lower() == user_name.lower():
                return doc
        return None

    def user_profile(self, user_id: str) -> dict[str, Any]:
        """`GET /api/v2/public/users/{id}`: the app's profile page reads `availabilitySystemName` and
        `aspectData.contactDetails[].{contactTypeSystemName, contactValue}` [confirmed: sharedo-sample-mobile-app
        `Profile.vue`]; the other keys and the availability value are [inferred]."""
        found = self.find(user_id)
        if found is None or found[0] != "person" or not found[1].get("isUser"):
            raise not_found("user", user_id)
        doc = found[1]
        return {
            "id": doc["id"],
            "userName": doc.get("userName"),
            "firstName": doc.get("firstName"),
            "surname": doc.get("surname"),
            "fullName": display_name("person", doc),
            "isActive": doc.get("isActive", True),
            "availabilitySystemName": doc.get("availabilitySystemName", "available"),
            "aspectData": {"contactDetails": contact_details(doc)},
        }

    # -- locations: ODS records hold them in `locations[]`; the v2 locations API gives each an id ---
    def location_ids(self, ods_id: str) -> list[str]:
        """`GET /api/v2/public/locations/for/{odsId}/ids` → `[id]` [confirmed: mobile app `participantsAgent.js`]."""
        found = self.find(ods_id)
        if found is None:
            raise not_found("person or organisation", ods_id)
        return [location_id(ods_id, i, loc) for i, loc in enumerate(found[1].get("locations") or [])]

    def location(self, loc_id: str) -> dict[str, Any]:
        """`GET /api/v2/public/locations/{id}`: the app reads `addressLine1, addressLine2, town, postCode,
        country` and `aspectData.locationMap.addressLocations[0].{latitude, longitude}` [confirmed: mobile
        app `locationMapper.js`]; `odsId` and the other keys are [inferred]."""
        with self.store.read() as conn:
            for ods_id, _, doc in self._records(conn):
                for i, loc in enumerate(doc.get("locations") or []):
                    if isinstance(loc, dict) and location_id(ods_id, i, loc) == loc_id:
                        return _location_json(ods_id, loc_id, loc)
        raise not_found("location", loc_id)

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
            # A new tag list or the one the record has: a PMS-mastered record stays mastered either way.
            mastered = mastered_tags(tags) | mastered_tags(current.get("tags"))
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


# [inferred] Seeded locations carry no id of their own; each gets a stable one from its owner and place.
LOCATION_NAMESPACE = uuid.UUID("7c0c2d4e-5a1b-4f3e-9d8c-1b2a3c4d5e6f")


def location_id(ods_id: str, index: int, loc: Any) -> str:
    if isinstance(loc, dict) and loc.get("id"):
        return str(loc["id"])
    return str(uuid.uuid5(LOCATION_NAMESPACE, f"{ods_id}/{index}"))


def _location_json(ods_id: str, loc_id: str, loc: dict[str, Any]) -> dict[str, Any]:
    keys = ("addressLine1", "addressLine2", "addressLine3", "addressLine4", "town", "county", "postCode", "country")
    out: dict[str, Any] = {"id": loc_id, "odsId": ods_id, **{k: loc.get(k) for k in keys}}
    out["countrySystemName"] = loc.get("countrySystemName")
    lat, lng = loc.get("latitude"), loc.get("longitude")
    points = [{"latitude": lat, "longitude": lng}] if lat is not None and lng is not None else []
    out["aspectData"] = {"locationMap": {"addressLocations": points}}
    return out


def contact_details(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's contact details; the ODS keeps them as `aspectData.ContactDetails` (S8 `_search` capture)."""
    aspects = doc.get("aspectData") or {}
    found = aspects.get("ContactDetails", aspects.get("contactDetails")) if isinstance(aspects, dict) else None
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in PRIVATE_KEYS}


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="ODS",
    modules=("emulator.ods",),
    tables=("ods",),
    migrations=sql_migrations(__name__),
)
