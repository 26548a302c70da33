"""Time entries on work items, the public time v2 API's model: capture, edit, submit, approve, revise.

Every state change raises `time-entry-state-changed` in the same transaction, so a plan that sends
submitted time to the PMS runs off the real event, not a poll.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from importlib import resources
from typing import Any

from .identity import Principal, require
from .kernel.binding import Fields
from .kernel.clock import Clock, iso, parse_instant
from .kernel.errors import ApiError, invalid, not_found
from .kernel.events import EventStream
from .kernel.schema import AreaSchema, sql_migrations
from .kernel.store import Store, dumps
from .ods import Ods, display_name
from .workitems import WorkItems


def load_time_catalogue() -> dict[str, Any]:
    return json.loads(resources.files("emulator.catalogue").joinpath("time.json").read_text("utf-8"))


class TimeEntries:
    def __init__(self, store: Store, clock: Clock, stream: EventStream, items: WorkItems, ods: Ods) -> None:
        self.store, self.clock, self.stream, self.items, self.ods = store, clock, stream, items, ods
        self.catalogue = load_time_catalogue()
        self.categories = {c["systemName"]: c for c in self.catalogue["categories"]}
        self.states = {s["systemName"]: s for s in self.catalogue["states"]}

    # -- reference data -------------------------------------------------------------------------
    def category_list(self) -> list[dict[str, str]]:
        return [{"systemName": c["systemName"], "name": c["name"]} for c in self.catalogue["categories"]]

    def capture(self, category: str, work_item_id: str) -> dict[str, Any]:
        self.items.get(work_item_id)
        if category not in self.categories:
            raise not_found("time category", category, field="category")
        c = self.categories[category]
        return {"systemName": c["systemName"], "name": c["name"], "segments": c["segments"]}

    def config(self) -> dict[str, Any]:
        """The app's entry form reads `startTimeMaxDaysAgo`, `endTimeMaxDaysInFuture` and `maxHours`
        [confirmed: sharedo-sample-mobile-app `TimeEntryForm.vue`]; their values are the catalogue's."""
        return {**self.catalogue["config"], "states": self.catalogue["states"], "categories": self.category_list()}

    # -- entries --------------------------------------------------------------------------------
    def _validated(self, body: Any, *, partial: bool, category_default: str | None = None) -> dict[str, Any]:
        """A time entry's body, checked; `partial` (an edit) reads only what is given. Every problem is
        collected, in the order of the members below, before the first is raised."""
        f = Fields(body)
        out: dict[str, Any] = {}
        for key in ("sharedoId", "odsId"):
            if not partial or f.has(key):
                out[key] = f.guid(key, required=not partial)
        category = self._category(f, category_default)
        out["category"] = category
        out.update(self._times(f, partial))
        if f.has("billingNotes"):
            out["billingNotes"] = f.string("billingNotes", max_length=10_000)
        for key in ("regenerateBillingNotes", "isAutomatic", "createdBySystem"):
            f.boolean(key)  # the mobile app sends `createdBySystem: false` (`TimeEntryForm.vue`)
        known = {s["id"]: s for s in self.categories.get(category, {"segments": []})["segments"]}
        segments = self._segments(f, category, known)
        if f.has("segments") or not partial:
            out["segments"] = segments
            if not f.errors:
                _require_mandatory_segments(f, segments, known)
        f.raise_if_errors()
        return out

    def _category(self, f: Fields, default: str | None) -> str:
        """`timeCodeCategorySystemName`, else the entry's own (on an edit), else chargeable."""
        category = f.string("timeCodeCategorySystemName", max_length=200) or default or "chargeable"
        if category not in self.categories:
            f.error(
                "timeCodeCategorySystemName", f"unknown category {category!r}; use one of {sorted(self.categories)}"
            )
        return category

    def _times(self, f: Fields, partial: bool) -> dict[str, Any]:
        """`durationSeconds`, `startDateTime`, `endDateTime`: a duration not given is the time between the two."""
        out: dict[str, Any] = {}
        start, end = f.instant("startDateTime"), f.instant("endDateTime")
        duration = f.integer("durationSeconds", minimum=0, maximum=self.catalogue["config"]["maximumDurationSeconds"])
        if start and end and duration is None and not f.errors:
            duration = int((parse_instant(end) - parse_instant(start)).total_seconds())
            if duration < 0:
                f.error("endDateTime", "is before startDateTime")
        if duration is None and not partial:
            f.error("durationSeconds", "required (or give startDateTime and endDateTime)")
        if duration is not None:
            out["durationSeconds"] = duration
        if start:
            out["startDateTime"] = iso(parse_instant(start))
        if end:
            out["endDateTime"] = iso(parse_instant(end))
        return out

    @staticmethod
    def _segments(f: Fields, category: str, known: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """`segments[{id, segmentValue, timeCodeId}]`: each a segment of the category, each code one of its own."""
        segments = []
        for where, value in f.items("segments", max_items=50):
            sf = Fields(value, where, f.errors)
            seg_id = sf.string("id", required=True, max_length=100)
            memo = sf.string("segmentValue", max_length=10_000)
            code = sf.string("timeCodeId", max_length=100)
            if seg_id and seg_id not in known:
                sf.error("id", f"category {category!r} has no segment {seg_id!r}; it has {sorted(known)}")
            elif seg_id and code and code not in {c["id"] for c in known[seg_id]["timeCodes"]}:
                sf.error("timeCodeId", f"segment {seg_id!r} has no time code {code!r}")
            segments.append({"id": seg_id, "segmentValue": memo, "timeCodeId": code})
        return segments

    def create(self, body: Any, principal: Principal | None) -> dict[str, Any]:
        require(principal, "core.time.record")
        data = self._validated(body, partial=False)
        now = iso(self.clock.now())
        with self.store.transaction() as tx:
            item = self.items.get(data["sharedoId"], tx)
            found = self.ods.find(data["odsId"], tx)
            if found is None or found[0] != "person":
                raise invalid("odsId", f"no person {data['odsId']!r} in the ODS to be the timekeeper")
            entry_id = str(uuid.uuid4())
            tx.execute(
                "INSERT INTO time_entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    entry_id,
                    item.id,
                    data["odsId"],
                    "draft",
                    data["category"],
                    data.get("startDateTime"),
                    data.get("endDateTime"),
                    data["durationSeconds"],
                    data.get("billingNotes"),
                    dumps(data["segments"]),
                    (principal.user_name or principal.client_id) if principal else "system",
                    now,
                    now,
                ),
            )
            self._event(tx, entry_id, item.id, item.type, None, "draft", data["odsId"], data["durationSeconds"])
            return self._json(tx, entry_id)

    def get(self, entry_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._json(conn, entry_id)

    def update(self, entry_id: str, body: Any, principal: Principal | None) -> None:
        require(principal, "core.time.record")
        with self.store.transaction() as tx:
            row = self._row(tx, entry_id)
            if not self.states[row["state"]]["editable"]:
                raise ApiError(
                    409, f"time entry {entry_id} is {row['state']}; only draft or revising entries can be edited"
                )
            data = self._validated(body, partial=True, category_default=row["category"])
            if data.get("sharedoId") and data["sharedoId"] != row["work_item_id"]:
                raise invalid("sharedoId", "a time entry cannot move to another work item")
            tx.execute(
                "UPDATE time_entries SET ods_id=COALESCE(?, ods_id), category=?, start_time=COALESCE(?, start_time), "
                "end_time=COALESCE(?, end_time), duration_seconds=COALESCE(?, duration_seconds), "
                "billing_notes=COALESCE(?, billing_notes), segments=COALESCE(?, segments), updated=? WHERE id=?",
                (
                    data.get("odsId"),
                    data["category"],
                    data.get("startDateTime"),
                    data.get("endDateTime"),
                    data.get("durationSeconds"),
                    data.get("billingNotes"),
                    dumps(data["segments"]) if "segments" in data else None,
                    iso(self.clock.now()),
                    entry_id,
                ),
            )

    def delete(self, entry_id: str, principal: Principal | None) -> None:
        require(principal, "core.time.delete")
        with self.store.transaction() as tx:
            row = self._row(tx, entry_id)
            if row["state"] != "draft":
                raise ApiError(409, f"time entry {entry_id} is {row['state']}; only a draft can be deleted")
            tx.execute("DELETE FROM time_entries WHERE id=?", (entry_id,))

    def transition(self, entry_id: str, action: str, principal: Principal | None) -> dict[str, Any]:
        rule = self.catalogue["transitions"].get(action)
        if rule is None:
            raise not_found("time entry state action", action, field="action")
        require(principal, "core.time.record" if action == "submit" else "core.time.approve")
        with self.store.transaction() as tx:
            row = self._row(tx, entry_id)
            if row["state"] not in rule["from"]:
                raise ApiError(
                    409,
                    f"cannot {action} time entry {entry_id}: it is {row['state']}, and {action} "
                    f"needs one of {rule['from']}",
                )
            if action == "submit":
                segments = {s["id"]: s for s in json.loads(row["segments"])}
                for seg in self.categories[row["category"]]["segments"]:
                    given = segments.get(seg["id"], {})
                    if seg["isMandatoryForSubmission"] and not (given.get("segmentValue") or given.get("timeCodeId")):
                        raise invalid("segments", f"segment {seg['id']!r} ({seg['name']}) is needed to submit")
            tx.execute(
                "UPDATE time_entries SET state=?, updated=? WHERE id=?", (rule["to"], iso(self.clock.now()), entry_id)
            )
            item = self.items.get(row["work_item_id"], tx)
            self._event(
                tx, entry_id, item.id, item.type, row["state"], rule["to"], row["ods_id"], row["duration_seconds"]
            )
            return self._json(tx, entry_id)

    def search(self, body: Any) -> dict[str, Any]:
        f = Fields(body)
        sharedo_id = f.guid("sharedoId")
        rows_per_page = f.integer("rowsPerPage", default=20, minimum=1, maximum=1000) or 20
        start_page = f.integer("startPage", default=1, minimum=1, maximum=1_000_000) or 1
        states = f.strings("states")
        for s in states:
            if s not in self.states:
                f.error("states", f"unknown state {s!r}; use {sorted(self.states)}")
        f.raise_if_errors()
        sql, args = "SELECT id FROM time_entries WHERE 1=1", []
        if sharedo_id:
            sql += " AND work_item_id=?"
            args.append(sharedo_id)
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += states
        with self.store.read() as conn:
            ids = [r[0] for r in conn.execute(sql + " ORDER BY created, id", args)]
            page = ids[(start_page - 1) * rows_per_page : start_page * rows_per_page]
            # `{rows, totalRows}` [confirmed: sharedo-sample-mobile-app `TimeEntryList.vue` reads `data.rows`]
            return {"totalRows": len(ids), "rows": [self._json(conn, i) for i in page]}

    # -- helpers --------------------------------------------------------------------------------
    def _row(self, conn: sqlite3.Connection, entry_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM time_entries WHERE id=?", (entry_id,)).fetchone()
        if row is None:
            raise not_found("time entry", entry_id)
        return row

    def _event(self, tx, entry_id, sharedo_id, type_sn, from_state, to_state, ods_id, duration) -> None:
        self.stream.append(
            tx,
            "time-entry-state-changed",
            {
                "sharedoId": sharedo_id,
                "sharedoTypeSystemName": type_sn,
                "timeEntryId": entry_id,
                "fromState": from_state,
                "toState": to_state,
                "odsId": ods_id,
                "durationSeconds": duration,
            },
        )

    def _json(self, conn: sqlite3.Connection, entry_id: str) -> dict[str, Any]:
        row = self._row(conn, entry_id)
        category = self.categories.get(row["category"], {"name": row["category"], "segments": []})
        segments = json.loads(row["segments"])
        codes = {c["id"]: c["name"] for seg in category["segments"] for c in seg["timeCodes"]}
        code = next((s["timeCodeId"] for s in segments if s.get("timeCodeId")), None)
        found = self.ods.find(row["ods_id"], conn)
        return {
            "id": row["id"],
            "sharedoId": row["work_item_id"],
            "odsId": row["ods_id"],
            "timekeeperName": display_name(*found) if found else None,
            "state": self.states[row["state"]]["name"],
            "stateSystemName": row["state"],
            "timeCodeCategorySystemName": row["category"],
            "timeCodeCategoryName": category["name"],
            "timeCodeCategoryId": row["category"],  # [inferred] the category's system name is its id here
            "timeCodeId": code,
            "timeCode": code,
            "timeCodeDescription": codes.get(code) if code else None,
            "startDateTime": row["start_time"],
            "endDateTime": row["end_time"],
            "durationSeconds": row["duration_seconds"],
            "duration": _hms(row["duration_seconds"]),
            "billingNotes": row["billing_notes"],
            "segments": segments,
            "createdBy": row["created_by"],
            "createdDate": row["created"],
            "updatedDate": row["updated"],
        }


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _require_mandatory_segments(f: Fields, segments: list[dict[str, Any]], known: dict[str, dict[str, Any]]) -> None:
    """Every segment the category marks mandatory has a value or a time code."""
    given = {s["id"] for s in segments if s["segmentValue"] or s["timeCodeId"]}
    for seg in known.values():
        if seg["isMandatoryForEntry"] and seg["id"] not in given:
            f.error("segments", f"segment {seg['id']!r} ({seg['name']}) is required")


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="time entries",
    modules=("emulator.timeentries",),
    tables=("time_entries",),
    migrations=sql_migrations(__name__),
)
