"""Bookmarks: a user's starred work items (the Bookmarks global feature), as the mobile app uses them.

Routes [confirmed: sharedo-sample-mobile-app `bookmarksAgent.js`]: list `my/workitems/bookmarked/{count}`, the
state `my/workitems/{id}/bookmarked` → `{bookmarked}` (`WorkItemDetail.vue` reads that key), add and remove
`my/workitems/{id}/bookmark` (POST, DELETE; the app reads the answer as text). A list row carries what the app's
`BookmarkList.vue` shows (`id`, `title`, `typeIcon`) and [inferred] the usual work item fields. Bookmarks are per
user (the ODS person id of the token's user); a work item that no longer exists drops out of the list.
"""

from __future__ import annotations

from typing import Any

from .identity import Principal, require
from .kernel.clock import Clock, iso
from .kernel.errors import ApiError
from .kernel.schema import AreaSchema, sql_migrations
from .kernel.store import Store

MAX_BOOKMARKS = 10_000  # per user: a list longer than this is a runaway script, not a person


def person_of(principal: Principal) -> str:
    """The ODS person id of the token's user; 403 for a token with no user (a client's own token)."""
    person = principal.user.get("id") if principal.user else None
    if not person:
        raise ApiError(
            403,
            f"{principal.client_id} has no user: 'my' routes need a user's token (a sign-in, or Impersonate.Specified)",
        )
    return str(person)


class Bookmarks:
    def __init__(self, store: Store, clock: Clock, workitems: Any) -> None:
        self.store = store
        self.clock = clock
        self.workitems = workitems

    def _item(self, item_id: str, principal: Principal) -> str:
        require(principal, "core.sharedo.read")
        return self.workitems.get(item_id).id

    def is_bookmarked(self, item_id: str, principal: Principal) -> bool:
        person, item = person_of(principal), self._item(item_id, principal)
        with self.store.read() as conn:
            row = conn.execute("SELECT 1 FROM bookmarks WHERE user_id=? AND work_item_id=?", (person, item)).fetchone()
        return row is not None

    def add(self, item_id: str, principal: Principal) -> None:
        """Idempotent: a second bookmark of the same item keeps the first one's date."""
        person, item = person_of(principal), self._item(item_id, principal)
        with self.store.transaction() as tx:
            count = tx.execute("SELECT COUNT(*) FROM bookmarks WHERE user_id=?", (person,)).fetchone()[0]
            if count >= MAX_BOOKMARKS:
                raise ApiError(400, f"a user may keep at most {MAX_BOOKMARKS} bookmarks")
            tx.execute("INSERT OR IGNORE INTO bookmarks VALUES (?,?,?)", (person, item, iso(self.clock.now())))

    def remove(self, item_id: str, principal: Principal) -> None:
        """Idempotent: removing a bookmark that is not there is no error [inferred]."""
        person, item = person_of(principal), self._item(item_id, principal)
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM bookmarks WHERE user_id=? AND work_item_id=?", (person, item))

    def list(self, count: int, principal: Principal) -> list[dict[str, Any]]:
        """The user's bookmarked work items, the newest bookmark first, at most `count`."""
        require(principal, "core.sharedo.read")
        person = person_of(principal)
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT work_item_id, created FROM bookmarks WHERE user_id=? ORDER BY created DESC, work_item_id",
                (person,),
            )
            out: list[dict[str, Any]] = []
            for row in rows:  # at most MAX_BOOKMARKS, read until `count` of existing work items are listed
                if len(out) >= min(count, MAX_BOOKMARKS):
                    break
                item = self.workitems.find(row["work_item_id"], conn)
                if item is None:  # a bookmark of a work item no longer there is not listed
                    continue
                wt = self.workitems.types.get(item.type)
                out.append(
                    {
                        "id": item.id,
                        "title": item.title,
                        "reference": item.reference,
                        "sharedoTypeSystemName": item.type,
                        "typeName": wt.name if wt else item.type,
                        "typeIcon": wt.icon_class if wt else None,
                        "phaseSystemName": item.phase,
                        "bookmarkedDate": row["created"],
                    }
                )
        return out


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="bookmarks",
    modules=("emulator.bookmarks",),
    tables=("bookmarks",),
    migrations=sql_migrations(__name__),
)
