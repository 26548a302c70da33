"""Routes of the tenant's global features: bookmarks, notifications (with web push registration), user avatars, and
whether each is on. The switches are operate.toml `[features]` (emulator/features.py, the one place they live).

A feature that is off answers 400 Bad Request, not 404, as a tenant with it off does: the Filing sample's README
says so of Bookmarks and Page View Analytics [confirmed: sharedo_api_samples `documents/filing/readme.md`]; the
same is assumed of notifications and user avatars [inferred]. The official mobile app asks
`GET /api/v2/public/features/Bookmarks/enabled` → `{enabled}` first and hides bookmarking when it is false
[confirmed: sharedo-sample-mobile-app `bookmarksAgent.js`, `WorkItemDetail.vue`]. Page View Analytics is not
emulated: it is always off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request

from ..avatars import avatar_for, find_user
from ..identity import Principal
from ..kernel.errors import ApiError, invalid
from .common import body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..bookmarks import Bookmarks
    from ..features import FeatureSwitches
    from ..identity import Identity
    from ..notifications import Notifications

MAX_COUNT = 2_147_483_647  # the mobile app asks for int.MaxValue
N1 = "/api/v1/public/notifications"


def blueprint(
    features: FeatureSwitches, bookmarks: Bookmarks, notifications: Notifications, identity: Identity
) -> Blueprint:
    """The global features' routes over `features` (the switches), `bookmarks`, `notifications` and `identity`
    (whose users have avatars)."""
    bp = Blueprint("features", __name__)

    def require_feature(feature: str) -> Principal:
        """The caller, when `feature` is switched on; a 400 naming it when it is off."""
        principal = caller()
        if not features.enabled(feature):
            raise feature_off(features, feature)
        return principal

    @bp.get("/api/v2/public/features/<name>/enabled")
    def enabled(name: str):
        """Any name answers; a feature the tenant does not know is off [inferred]."""
        caller()
        return jsonify({"enabled": features.enabled(name)})

    # -- "my" work items: Page View Analytics (most recent, most viewed) and Bookmarks ------------------
    @bp.get("/api/v1/public/my/workitems/most-recent/<count>")
    @bp.get("/api/v1/public/my/workitems/most-viewed/<count>")
    def most_recent_or_viewed(count: str):
        require_feature("PageViewAnalytics")
        return jsonify([])  # pragma: no cover - not emulated: the feature cannot be switched on

    @bp.get("/api/v1/public/my/workitems/bookmarked/<count>")
    @bp.get("/api/v2/public/my/workitems/bookmarked/<count>")
    def bookmarked(count: str):
        principal = require_feature("Bookmarks")
        return jsonify(bookmarks.list(_count(count), principal))

    @bp.get("/api/v2/public/my/workitems/<item_id>/bookmarked")
    def is_bookmarked(item_id: str):
        principal = require_feature("Bookmarks")
        return jsonify({"bookmarked": bookmarks.is_bookmarked(item_id, principal)})

    @bp.route("/api/v2/public/my/workitems/<item_id>/bookmark", methods=["POST", "DELETE"])
    def bookmark(item_id: str):
        """The app reads the answer as text (`responseType: "text"`): an empty 200."""
        principal = require_feature("Bookmarks")
        if request.method == "POST":
            bookmarks.add(item_id, principal)
        else:
            bookmarks.remove(item_id, principal)
        return "", 200

    # -- notifications (the mobile app's `notificationsAgent.js`) --------------------------------------

    # User and notification ids are GUIDs, so `webPushConfig` and `settings` are never taken for one.
    @bp.get(f"{N1}/webPushConfig")
    def web_push_config():
        principal = require_feature("Notifications")
        return jsonify(notifications.web_push_config(principal))

    @bp.post(f"{N1}/registerForWebPush")
    def register_for_web_push():
        principal = require_feature("Notifications")
        return jsonify(notifications.register_web_push(body(), principal))

    @bp.get(f"{N1}/<uuid:user_id>")
    def notifications_for(user_id):
        principal = require_feature("Notifications")
        return jsonify(notifications.list_for(str(user_id), principal))

    @bp.delete(f"{N1}/<uuid:user_id>")
    def dismiss_all(user_id):
        principal = require_feature("Notifications")
        return jsonify(notifications.dismiss(str(user_id), None, principal))

    @bp.delete(f"{N1}/<uuid:user_id>/<uuid:notification_id>")
    def dismiss(user_id, notification_id):
        principal = require_feature("Notifications")
        return jsonify(notifications.dismiss(str(user_id), str(notification_id), principal))

    @bp.get(f"{N1}/<uuid:user_id>/settings")
    def notification_settings(user_id):
        principal = require_feature("Notifications")
        return jsonify(notifications.settings(str(user_id), principal))

    @bp.put(f"{N1}/<uuid:user_id>/settings/<channel>")
    def save_notification_settings(user_id, channel: str):
        principal = require_feature("Notifications")
        return jsonify(notifications.save_settings(str(user_id), channel, body(), principal))

    @bp.get("/api/v2/public/users/<user_id>/avatar")
    def avatar(user_id: str):
        require_feature("UserAvatars")
        return jsonify(avatar_for(find_user(identity.users, user_id)))

    return bp


def feature_off(features: FeatureSwitches, feature: str) -> ApiError:
    title = features.title(feature)
    return ApiError(
        400,
        f"the {title} global feature is switched off on this tenant",
        [{"field": "(feature)", "message": f"{feature} is disabled"}],
    )


def _count(raw: str) -> int:
    if not raw.isdigit() or int(raw) > MAX_COUNT:
        raise invalid("count", f"a whole number from 0 to {MAX_COUNT}, not {raw[:40]!r}")
    return int(raw)
