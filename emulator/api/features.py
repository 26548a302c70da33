"""Routes of global features the emulated tenant does not have: they answer as a tenant with the feature off.

A real tenant answers a call to a feature that is switched off with 400 Bad Request, not 404: the
Filing sample's README says so of Bookmarks and Page View Analytics [confirmed: sharedo_api_samples
`documents/filing/readme.md`]. The same is assumed of notifications and user avatars [inferred]. The
official mobile app asks `GET /api/v2/public/features/Bookmarks/enabled` → `{enabled}` first and hides
bookmarking when it is false [confirmed: sharedo-sample-mobile-app `bookmarksAgent.js`, `WorkItemDetail.vue`].
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..kernel.errors import ApiError
from .common import caller

bp = Blueprint("features", __name__)

# Global features by system name → switched on? "Bookmarks" is the app's spelling; the others' system
# names are [inferred]. All are off on the emulated tenant.
FEATURES: dict[str, bool] = {
    "Bookmarks": False,
    "PageViewAnalytics": False,
    "Notifications": False,
    "UserAvatars": False,
}
FEATURE_TITLES = {
    "Bookmarks": "Bookmarks",
    "PageViewAnalytics": "Page View Analytics",
    "Notifications": "Notifications",
    "UserAvatars": "User avatars",
}


def feature_off(feature: str) -> ApiError:
    return ApiError(
        400,
        f"the {FEATURE_TITLES[feature]} global feature is switched off on this tenant",
        [{"field": "(feature)", "message": f"{feature} is disabled"}],
    )


def require_feature(feature: str) -> None:
    caller()
    if not FEATURES[feature]:
        raise feature_off(feature)


@bp.get("/api/v2/public/features/<name>/enabled")
def enabled(name: str):
    """Any name answers; a feature the tenant does not know is off [inferred]."""
    caller()
    on = next((v for k, v in FEATURES.items() if k.lower() == name.lower()), False)
    return jsonify({"enabled": on})


# -- "my" work items: Page View Analytics (most recent, most viewed) and Bookmarks ------------------
@bp.get("/api/v1/public/my/workitems/most-recent/<count>")
@bp.get("/api/v1/public/my/workitems/most-viewed/<count>")
def most_recent_or_viewed(count: str):
    require_feature("PageViewAnalytics")
    return jsonify([])  # pragma: no cover - the feature is off


@bp.get("/api/v1/public/my/workitems/bookmarked/<count>")
@bp.get("/api/v2/public/my/workitems/bookmarked/<count>")
def bookmarked(count: str):
    require_feature("Bookmarks")
    return jsonify([])  # pragma: no cover


@bp.get("/api/v2/public/my/workitems/<item_id>/bookmarked")
def is_bookmarked(item_id: str):
    require_feature("Bookmarks")
    return jsonify({"bookmarked": False})  # pragma: no cover


@bp.route("/api/v2/public/my/workitems/<item_id>/bookmark", methods=["POST", "DELETE"])
def bookmark(item_id: str):
    require_feature("Bookmarks")
    return "", 200  # pragma: no cover


# -- notifications (the mobile app's `notificationsAgent.js`) --------------------------------------
N1 = "/api/v1/public/notifications"


# User and notification ids are GUIDs, so `webPushConfig` and `settings` are never taken for one.
@bp.get(f"{N1}/webPushConfig")
@bp.post(f"{N1}/registerForWebPush")
@bp.get(f"{N1}/<uuid:user_id>")
@bp.delete(f"{N1}/<uuid:user_id>")
@bp.get(f"{N1}/<uuid:user_id>/settings")
@bp.put(f"{N1}/<uuid:user_id>/settings/<channel>")
@bp.delete(f"{N1}/<uuid:user_id>/<uuid:notification_id>")
def notifications(**_ids: object):
    require_feature("Notifications")
    return jsonify([])  # pragma: no cover


@bp.get("/api/v2/public/users/<user_id>/avatar")
def avatar(user_id: str):
    require_feature("UserAvatars")
    return jsonify(None)  # pragma: no cover
