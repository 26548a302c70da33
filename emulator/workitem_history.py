"""A work item's comments and its chronology (what happened to it, from the event stream): the part of
WorkItems the mobile app's lists and the work item page read. A base of `WorkItems`, which callers use."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from .identity import Principal, require
from .kernel.binding import Fields
from .kernel.clock import iso
from .ods import display_name
from .workitem_part import WorkItemsPart

# [inferred] Business event → chronology point of interest: (poiSystemName, title, icon, colour). The
# mobile app shows the POI system names `comment`, `milestone`, `task-milestone`, `docgen`, `document-*`
# and `emails` and hides the rest (sharedo-sample-mobile-app `chronologyMapper.js`).
CHRONOLOGY_POI: dict[str, tuple[str, str, str, str]] = {
    "comment-added": ("comment", "Comment added", "fa-comment", "#3f51b5"),
    "sharedo-phase-changed": ("milestone", "Moved to", "fa-flag", "#4caf50"),
    "sharedo-created": ("sharedo-created", "Created", "fa-plus", "#607d8b"),
    "sharedo-updated": ("sharedo-updated", "Details updated", "fa-pencil", "#607d8b"),
    "attribute-changed": ("attribute-changed", "Attribute changed", "fa-pencil", "#607d8b"),
    "participant-added": ("participant-added", "Participant added", "fa-user-plus", "#607d8b"),
    "participant-removed": ("participant-removed", "Participant removed", "fa-user-times", "#607d8b"),
    "time-entry-state-changed": ("time", "Time entry", "fa-clock-o", "#607d8b"),
    "related-document-added": ("document", "Document added", "fa-file-o", "#795548"),
    "related-document-removed": ("document", "Document removed", "fa-file-o", "#795548"),
}
CHRONOLOGY_NAMESPACE = uuid.UUID("0b5e7f3a-2c4d-4e6f-8a9b-c1d2e3f4a5b6")


class WorkItemHistory(WorkItemsPart):
    """Comments and chronology of work items."""

    # Both lists answer `{rows, totalRows}`, newest first [confirmed: sharedo-sample-mobile-app
    # `CommentList.vue` and `ChronologyList.vue` read `rows` and `totalRows`].
    def _author(self, author: str | None, conn: sqlite3.Connection) -> tuple[str | None, str | None]:
        """(userId, userFullName) of a comment's author: a user is an ODS person; a client is its id."""
        person = self.ods.user_by_name(author, conn)
        if person is None:
            return None, author
        return person["id"], display_name("person", person)

    def _comment_row(self, r: sqlite3.Row, conn: sqlite3.Connection) -> dict[str, Any]:
        """A comment as the mobile app reads it: `id, comment (HTML), userId, userFullName, created,
        isPrivate, isPinned, isDeleted` [confirmed: `CommentList.vue`]; the emulator keeps no private,
        pinned or deleted comments, so those are false."""
        user_id, full_name = self._author(r["author"], conn)
        return {
            "id": r["id"],
            "comment": r["comment"],
            "userId": user_id,
            "userFullName": full_name,
            "created": r["created"],
            "isPrivate": False,
            "isPinned": False,
            "isDeleted": False,
        }

    def comments(self, item_id: str, start_page: int, rows_per_page: int) -> dict[str, Any]:
        with self.store.read() as conn:
            item = self.get(item_id, conn)
            total = conn.execute("SELECT COUNT(*) FROM comments WHERE work_item_id=?", (item.id,)).fetchone()[0]
            rows = conn.execute(
                "SELECT * FROM comments WHERE work_item_id=? ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                (item.id, rows_per_page, (start_page - 1) * rows_per_page),
            ).fetchall()
            return {"totalRows": total, "rows": [self._comment_row(r, conn) for r in rows]}

    def add_comment(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        require(principal, "core.sharedo.comment")
        f = Fields(body)
        text = f.string("comment", required=True, allow_empty=False, max_length=100_000)
        f.raise_if_errors()
        with self.store.transaction() as tx:
            item = self.get(item_id, tx)
            cid, now = str(uuid.uuid4()), iso(self.clock.now())
            author = (principal.user_name or principal.client_id) if principal else "system"
            tx.execute("INSERT INTO comments VALUES (?,?,?,?,?)", (cid, item.id, text, author, now))
            self.stream.append(
                tx, "comment-added", {"sharedoId": item.id, "sharedoTypeSystemName": item.type, "commentId": cid}
            )
            row = tx.execute("SELECT * FROM comments WHERE id=?", (cid,)).fetchone()
            return self._comment_row(row, tx)

    def chronology(self, item_id: str, start_page: int, rows_per_page: int, include_children: bool) -> dict[str, Any]:
        """What happened to a work item, newest first, derived from the event stream: one point of
        interest per business event (CHRONOLOGY_POI says which)."""
        with self.store.read() as conn:
            item = self.get(item_id, conn)
            ids = [item.id] + (self.descendant_ids(item.id, conn) if include_children else [])
            total, rows = self.stream.of_work_items(ids, rows_per_page, (start_page - 1) * rows_per_page, conn)
            return {"totalRows": total, "rows": [self._chronology_row(r, conn) for r in rows]}

    def _chronology_row(self, r: sqlite3.Row, conn: sqlite3.Connection) -> dict[str, Any]:
        """A point of interest as the mobile app reads it: `id, poiSystemName, title, notes, poiTypeIcon,
        poiTypeColour, userFullName, created, isPrivate` [confirmed: `chronologyMapper.js`]. The values
        (system names, titles, icons) come from CHRONOLOGY_POI [inferred]."""
        data = json.loads(r["data"])
        poi, title, icon, colour = CHRONOLOGY_POI.get(r["event_type"], (r["event_type"], r["event_type"], "", ""))
        notes, user = None, None
        if r["event_type"] == "comment-added":
            comment = conn.execute("SELECT * FROM comments WHERE id=?", (data.get("commentId"),)).fetchone()
            if comment is not None:
                notes, user = comment["comment"], self._author(comment["author"], conn)[1]
        elif r["event_type"] in ("related-document-added", "related-document-removed"):
            notes = data.get("title")
        elif r["event_type"] == "sharedo-phase-changed":
            to = self.types.phase(data.get("sharedoTypeSystemName") or "", data.get("toPhase") or "")
            title = f"{title} {to.name if to else data.get('toPhase')}"
            notes = data.get("reason")
        return {
            "id": str(uuid.uuid5(CHRONOLOGY_NAMESPACE, str(r["number"]))),
            "sharedoId": r["work_item_id"],
            "poiSystemName": poi,
            "title": title,
            "notes": notes,
            "poiTypeIcon": icon,
            "poiTypeColour": colour,
            "userFullName": user,
            "created": r["occurred_at"],
            "isPrivate": False,
        }

    def descendant_ids(self, item_id: str, conn: sqlite3.Connection) -> list[str]:
        rows = conn.execute(
            "WITH RECURSIVE d(id) AS (SELECT id FROM work_items WHERE parent_id=? "
            "UNION ALL SELECT w.id FROM work_items w JOIN d ON w.parent_id = d.id) SELECT id FROM d",
            (item_id,),
        ).fetchall()
        return [r[0] for r in rows]
