"""Notifications (the Notifications global feature): a user's notifications, their settings per channel, and the
web push subscriptions the mobile app registers, as the official mobile app uses them.

Routes and what the app reads [confirmed: sharedo-sample-mobile-app `notificationsAgent.js`,
`NotificationList.vue` (`numberOfNewItems`, `notifications[].{id, title, message, sharedoTitle, priorityName,
hasBeenDismissed, createDateTime}`), `NotificationSettings.vue` (`vapidPublicKey`; `categories[].
{categoryOptionSetValue.name, notificationTypes[].{name, systemName, channelPreferences[].{channelTypeSystemName,
frequency, selected}}}`), `pushNotificationsService.js` (registers `{endpoint, p256dh, auth}`)]. The types, which
events raise them and the texts are [inferred] data in `emulator/catalogue/notifications.json`.

A notification is raised by a business event (a user added to a work item) while the feature is on; the dispatcher
delivers events at least once, so one event makes at most one notification per user. Web push subscriptions are
stored per user with the data dir's VAPID key (`web-push-vapid-key.pem`, made on first use); sending the pushes
to a push service is not emulated: the emulator never calls out.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .identity import Principal
from .kernel.clock import Clock, iso
from .kernel.errors import ApiError, invalid, not_found
from .kernel.events import Event
from .kernel.keyfile import load_or_make_key
from .kernel.schema import AreaSchema, sql_migrations
from .kernel.store import Store
from .workitem_reads import WorkItemReads

VAPID_KEY_FILE = "web-push-vapid-key.pem"
MAX_ENDPOINT = 2048
MAX_SUBSCRIPTIONS = 20  # per user: a phone, a tablet, a few browsers
MAX_LISTED = 500  # the newest notifications one call returns


def load_notification_catalogue() -> dict[str, Any]:
    return json.loads(resources.files("emulator.catalogue").joinpath("notifications.json").read_text("utf-8"))


def _b64(value: Any, field: str, size: int) -> str:
    """A base64 (standard or URL-safe, padded or not) key of `size` bytes, as the app's `btoa` sends it."""
    if not isinstance(value, str) or not value or len(value) > 200:
        raise invalid(field, "a base64 string is required")
    text = value.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(field, "is not base64") from None
    if len(raw) != size:
        raise invalid(field, f"must be {size} bytes, not {len(raw)}")
    return value


class VapidKey:
    """The data dir's P-256 key a push service would check the emulator's pushes against (RFC 8292)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / VAPID_KEY_FILE
        self._public: str | None = None
        self._lock = threading.Lock()

    def public_key(self) -> str:
        """The uncompressed public point, base64url without padding: what `applicationServerKey` takes."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        with self._lock:
            if self._public is None:
                key = load_or_make_key(
                    self.path, ec.EllipticCurvePrivateKey, "EC", lambda: ec.generate_private_key(ec.SECP256R1())
                )
                point = key.public_key().public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
                )
                self._public = base64.urlsafe_b64encode(point).rstrip(b"=").decode()
            return self._public


class Notifications:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        workitems: Any,
        users: Callable[[], dict[str, dict[str, Any]]],
        enabled: Callable[[], bool],
    ) -> None:
        self.store = store
        self.clock = clock
        self.workitems = workitems
        self.users = users  # userName (lower case) -> the ODS person of each user
        self.enabled = enabled
        self.catalogue = load_notification_catalogue()
        self.channels = {c["systemName"]: c for c in self.catalogue["channels"]}
        self.types = {t["systemName"]: t for cat in self.catalogue["categories"] for t in cat["types"]}
        self.vapid = VapidKey(store.path.parent)

    # -- who may read whose -----------------------------------------------------------------------
    def _own(self, user_id: str, principal: Principal) -> str:
        """The user id of the route, which must be the caller's own: a user reads only their notifications."""
        person = principal.user.get("id") if principal.user else None
        if not person:
            raise ApiError(403, f"{principal.client_id} has no user: notifications are a user's own")
        if str(user_id).lower() != str(person).lower():
            raise ApiError(403, "a user may read and change only their own notifications")
        return str(person)

    # -- raised by events -------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if not self.enabled() or event.event_type != "participant-added":
            return
        ods_id = event.data.get("odsId")
        if not any(p.get("id") == ods_id for p in self.users().values()):
            return  # a client, a supplier: only users are notified
        item = self.workitems.find(str(event.data.get("sharedoId") or ""))
        if item is None:
            return
        kind = next(
            (
                t
                for t in self.types.values()
                if t["event"] == event.event_type
                and (
                    not t.get("workTypeDerivedFrom")
                    or self.workitems.types.is_derived_from(item.type, t["workTypeDerivedFrom"])
                )
            ),
            None,
        )
        if kind is None:
            return
        role = next(
            (
                p.get("participantRoleTypeName") or p.get("participantRoleType")
                for p in self.workitems.participants(item.id)
                if p.get("id") == event.data.get("participantId")
            ),
            event.data.get("roleSystemName"),
        )
        fields = {"reference": item.reference or "", "title": item.title, "role": role or ""}
        message = " ".join(kind["message"].format(**fields).split())
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO notifications (id, user_id, type, title, message, work_item_id, priority, "
                "created, dismissed, event_number) VALUES (?,?,?,?,?,?,?,?,0,?)",
                (
                    str(uuid.uuid4()),
                    ods_id,
                    kind["systemName"],
                    kind["title"],
                    message,
                    item.id,
                    kind.get("priorityName", "20"),
                    event.occurred_at,
                    event.number,
                ),
            )

    # -- the routes -------------------------------------------------------------------------------
    def list_for(self, user_id: str, principal: Principal) -> dict[str, Any]:
        person = self._own(user_id, principal)
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM notifications WHERE user_id=? ORDER BY created DESC, rowid DESC LIMIT ?",
                (person, MAX_LISTED),
            ).fetchall()
            items = WorkItemReads(self.store).titles(r["work_item_id"] for r in rows)
            unread = conn.execute(
                "SELECT COUNT(*) FROM notifications WHERE user_id=? AND dismissed=0", (person,)
            ).fetchone()[0]
        return {
            "numberOfNewItems": unread,
            "notifications": [
                {
                    "id": r["id"],
                    "notificationTypeSystemName": r["type"],
                    "title": r["title"],
                    "message": r["message"],
                    "sharedoId": r["work_item_id"],
                    "sharedoTitle": items.get(r["work_item_id"], {}).get("title"),
                    "sharedoReference": items.get(r["work_item_id"], {}).get("reference"),
                    "priorityName": r["priority"],
                    "createDateTime": r["created"],
                    "hasBeenDismissed": bool(r["dismissed"]),
                }
                for r in rows
            ],
        }

    def dismiss(self, user_id: str, notification_id: str | None, principal: Principal) -> dict[str, Any]:
        """Mark one notification read (404 when it is not the user's), or all of them."""
        person = self._own(user_id, principal)
        with self.store.transaction() as tx:
            if notification_id is None:
                done = tx.execute(
                    "UPDATE notifications SET dismissed=1 WHERE user_id=? AND dismissed=0", (person,)
                ).rowcount
            else:
                found = tx.execute(
                    "SELECT 1 FROM notifications WHERE id=? AND user_id=?", (str(notification_id), person)
                ).fetchone()
                if found is None:
                    raise not_found("notification", str(notification_id), "notificationId")
                done = tx.execute(
                    "UPDATE notifications SET dismissed=1 WHERE id=? AND dismissed=0", (str(notification_id),)
                ).rowcount
        return {"dismissed": done}

    def settings(self, user_id: str, principal: Principal) -> dict[str, Any]:
        person = self._own(user_id, principal)
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT type, channel, frequency FROM notification_settings WHERE user_id=?", (person,)
            ).fetchall()
        chosen = {(r["type"], r["channel"]): r["frequency"] for r in rows}
        categories = []
        for cat in self.catalogue["categories"]:
            types = []
            for t in cat["types"]:
                prefs = []
                for ch in self.catalogue["channels"]:
                    current = chosen.get((t["systemName"], ch["systemName"]), ch["default"])
                    prefs += [
                        {"channelTypeSystemName": ch["systemName"], "frequency": f, "selected": f == current}
                        for f in ch["frequencies"]
                    ]
                types.append({"systemName": t["systemName"], "name": t["name"], "channelPreferences": prefs})
            categories.append(
                {
                    "categoryOptionSetValue": {"systemName": cat["systemName"], "name": cat["name"]},
                    "notificationTypes": types,
                }
            )
        return {"categories": categories}

    def save_settings(self, user_id: str, channel: str, body: Any, principal: Principal) -> dict[str, Any]:
        """PUT a channel's choices: `[{channelTypeSystemName, frequency, notificationTypeSystemName}]`."""
        person = self._own(user_id, principal)
        if channel not in self.channels:
            raise invalid("channel", f"unknown channel {channel[:60]!r}; known: {', '.join(self.channels)}")
        if not isinstance(body, list):
            raise invalid("(body)", "a JSON array of {channelTypeSystemName, frequency, notificationTypeSystemName}")
        allowed = self.channels[channel]["frequencies"]
        rows = []
        for i, item in enumerate(body):
            where = f"[{i}]"
            if not isinstance(item, dict):
                raise invalid(where, "must be an object")
            unknown = set(item) - {"channelTypeSystemName", "frequency", "notificationTypeSystemName"}
            if unknown:
                raise invalid(f"{where}.{sorted(unknown)[0]}", "unknown key")
            if item.get("channelTypeSystemName") != channel:
                raise invalid(f"{where}.channelTypeSystemName", f"must be {channel!r}, the channel of the route")
            kind = item.get("notificationTypeSystemName")
            if not isinstance(kind, str) or kind not in self.types:
                raise invalid(f"{where}.notificationTypeSystemName", f"unknown type; known: {', '.join(self.types)}")
            frequency = item.get("frequency")
            if isinstance(frequency, bool) or frequency not in allowed:
                raise invalid(f"{where}.frequency", f"must be one of {allowed} for {channel!r}")
            rows.append((person, kind, channel, frequency))
        with self.store.transaction() as tx:
            tx.executemany("INSERT OR REPLACE INTO notification_settings VALUES (?,?,?,?)", rows)
        return self.settings(user_id, principal)

    def web_push_config(self, principal: Principal) -> dict[str, Any]:
        if not principal.user:
            raise ApiError(403, f"{principal.client_id} has no user: web push is a user's own")
        return {"vapidPublicKey": self.vapid.public_key()}

    def register_web_push(self, body: Any, principal: Principal) -> dict[str, Any]:
        """Store the browser's push subscription for the caller (one per endpoint; a new key replaces the old)."""
        person = principal.user.get("id") if principal.user else None
        if not person:
            raise ApiError(403, f"{principal.client_id} has no user: web push is a user's own")
        if not isinstance(body, dict):
            raise invalid("(body)", "an object {endpoint, p256dh, auth}")
        unknown = set(body) - {"endpoint", "p256dh", "auth"}
        if unknown:
            raise invalid(sorted(unknown)[0], "unknown key")
        endpoint = body.get("endpoint")
        parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
        if (
            parts is None
            or parts.scheme not in ("https", "http")
            or not parts.netloc
            or len(endpoint) > MAX_ENDPOINT
            or not endpoint.isprintable()
        ):
            raise invalid("endpoint", f"the push service's absolute http(s) URL (at most {MAX_ENDPOINT} characters)")
        p256dh = _b64(body.get("p256dh"), "p256dh", 65)  # an uncompressed P-256 point
        auth = _b64(body.get("auth"), "auth", 16)  # the subscription's 16-byte secret
        with self.store.transaction() as tx:
            count = tx.execute(
                "SELECT COUNT(*) FROM web_push_subscriptions WHERE user_id=? AND endpoint<>?", (person, endpoint)
            ).fetchone()[0]
            if count >= MAX_SUBSCRIPTIONS:
                raise ApiError(400, f"a user may register at most {MAX_SUBSCRIPTIONS} push subscriptions")
            tx.execute(
                "INSERT OR REPLACE INTO web_push_subscriptions VALUES (?,?,?,?,?)",
                (person, endpoint, p256dh, auth, iso(self.clock.now())),
            )
        return {"registered": True, "endpoint": endpoint}

    def subscriptions(self, person: str) -> list[dict[str, Any]]:
        """A user's registered push subscriptions (for tests and the emulator's own pages)."""
        rows = self.store.rows(
            "SELECT endpoint, p256dh, auth, created FROM web_push_subscriptions WHERE user_id=? ORDER BY created",
            (person,),
        )
        return [dict(r) for r in rows]


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="notifications",
    modules=("emulator.notifications",),
    tables=("notifications", "notification_settings", "web_push_subscriptions"),
    migrations=sql_migrations(__name__),
)
