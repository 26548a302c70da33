"""Global features as on a tenant with them on (operate.toml [features]): bookmarks, notifications with web push
registration, user avatars; per user, in SQLite, and 400 when a feature is off. The mobile app's own agents drive
the same routes in tests/workitems/test_replay_mobile_app.py."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.solution.loading import SolutionError, load_solution
from smartplans.testing import solution_from_demo
from tests.conftest import OPEN_MATTER, START, client_token, user_token

PRIYA = "1a000000-0000-4000-8000-000000000001"
DANIEL = "1a000000-0000-4000-8000-000000000002"
P256DH = base64.b64encode(bytes([4]) + bytes(range(1, 65))).decode()
AUTH = base64.b64encode(bytes(range(16))).decode()
N = "/api/v1/public/notifications"


def as_user(app, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token(app, user)}"}


def add_owner(app, person: str, title: str = "Ring the other side") -> str:
    """A task under the open matter with `person` as its owner, created by the integration client."""
    body = {
        "workItem": {"sharedoTypeSystemName": "task", "title": title, "parentSharedoId": OPEN_MATTER},
        "participants": [{"roleSystemName": "primary-owner", "odsId": person}],
    }
    headers = {"Authorization": f"Bearer {client_token(app)}"}
    created = app.test_client().post("/api/v1/public/workItem", json=body, headers=headers)
    assert created.status_code == 201, created.json
    return created.json["workItem"]["id"]


# ---------------------------------------------------------------------------------------------- bookmarks


def test_bookmarks_are_per_user(app):
    client, priya, daniel = app.test_client(), as_user(app, "priya.shah"), as_user(app, "daniel.okafor")
    assert client.post(f"/api/v2/public/my/workitems/{OPEN_MATTER}/bookmark", headers=priya).status_code == 200
    assert client.post(f"/api/v2/public/my/workitems/{OPEN_MATTER}/bookmark", headers=priya).status_code == 200
    assert [b["id"] for b in client.get("/api/v2/public/my/workitems/bookmarked/10", headers=priya).json] == [
        OPEN_MATTER
    ]
    assert client.get("/api/v1/public/my/workitems/bookmarked/10", headers=daniel).json == []
    state = client.get(f"/api/v2/public/my/workitems/{OPEN_MATTER}/bookmarked", headers=daniel).json
    assert state == {"bookmarked": False}
    assert client.get("/api/v2/public/my/workitems/bookmarked/0", headers=priya).json == []


def test_bookmarks_survive_a_restart_and_go_with_a_reset(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "state", demo=True, clock="virtual", clock_start=START)
    app = create_app(settings)
    app.test_client().post(f"/api/v2/public/my/workitems/{OPEN_MATTER}/bookmark", headers=as_user(app, "priya.shah"))
    app.extensions["operate"].close()
    again = create_app(settings)
    try:
        headers = as_user(again, "priya.shah")
        listed = again.test_client().get("/api/v2/public/my/workitems/bookmarked/5", headers=headers).json
        assert [b["id"] for b in listed] == [OPEN_MATTER]
        again.extensions["operate"].reset()
        assert again.test_client().get("/api/v2/public/my/workitems/bookmarked/5", headers=headers).json == []
    finally:
        again.extensions["operate"].close()


def test_my_routes_need_a_users_token_and_a_real_work_item(app):
    client = app.test_client()
    own = {"Authorization": f"Bearer {client_token(app)}"}
    refused = client.get("/api/v2/public/my/workitems/bookmarked/5", headers=own)
    assert refused.status_code == 403 and "a user's token" in refused.json["title"]
    gone = "3c000000-0000-4000-8000-00000000dead"
    missing = client.post(f"/api/v2/public/my/workitems/{gone}/bookmark", headers=as_user(app, "priya.shah"))
    assert missing.status_code == 404
    bad = client.get("/api/v2/public/my/workitems/bookmarked/-1", headers=as_user(app, "priya.shah"))
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "count"


# ---------------------------------------------------------------------------------------------- notifications


def test_a_user_added_to_a_task_is_notified_and_only_users_are(app):
    em = app.extensions["operate"]
    task = add_owner(app, PRIYA)
    client = app.test_client()
    listed = client.get(f"{N}/{PRIYA}", headers=as_user(app, "priya.shah")).json
    assert listed["numberOfNewItems"] == 1
    assert listed["notifications"][0]["sharedoId"] == task
    assert listed["notifications"][0]["notificationTypeSystemName"] == "task-assigned"
    client_person = "1a000000-0000-4000-8000-000000000005"  # a client in the ODS, not a user
    add_owner(app, client_person)
    with em.store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM notifications WHERE user_id=?", (client_person,)).fetchone()[0] == 0


def test_an_event_delivered_twice_notifies_once(app):
    em = app.extensions["operate"]
    add_owner(app, PRIYA)
    (event,) = [e for e in em.stream.after(0, limit=1000) if e.event_type == "participant-added"]
    em.notifications.on_event(event)  # the dispatcher delivers at least once
    with em.store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM notifications WHERE user_id=?", (PRIYA,)).fetchone()[0] == 1


def test_a_user_reads_and_changes_only_their_own_notifications(app):
    add_owner(app, PRIYA)
    client, daniel = app.test_client(), as_user(app, "daniel.okafor")
    for method, path in (("GET", f"{N}/{PRIYA}"), ("DELETE", f"{N}/{PRIYA}"), ("GET", f"{N}/{PRIYA}/settings")):
        answer = client.open(path, method=method, headers=daniel)
        assert answer.status_code == 403 and "only their own" in answer.json["title"], path
    unknown = client.delete(f"{N}/{PRIYA}/9d000000-0000-4000-8000-000000000001", headers=as_user(app, "priya.shah"))
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"channelTypeSystemName": "email", "frequency": 5, "notificationTypeSystemName": "task-assigned"}], "[0]"),
        ([{"channelTypeSystemName": "push", "frequency": 3, "notificationTypeSystemName": "task-assigned"}], "[0]"),
        ([{"channelTypeSystemName": "push", "frequency": 5, "notificationTypeSystemName": "no-such-type"}], "[0]"),
        ({"channelTypeSystemName": "push"}, "(body)"),
    ],
)
def test_settings_refuse_what_the_catalogue_does_not_have(app, body, field):
    answer = app.test_client().put(f"{N}/{PRIYA}/settings/push", json=body, headers=as_user(app, "priya.shah"))
    assert answer.status_code == 400 and answer.json["errors"][0]["field"].startswith(field)


def test_web_push_registration_is_stored_per_user_and_checked(app):
    em, client, priya = app.extensions["operate"], app.test_client(), as_user(app, "priya.shah")
    key = client.get(f"{N}/webPushConfig", headers=priya).json["vapidPublicKey"]
    assert client.get(f"{N}/webPushConfig", headers=as_user(app, "daniel.okafor")).json["vapidPublicKey"] == key
    assert (Path(em.store.path).parent / "web-push-vapid-key.pem").is_file()
    sub = {"endpoint": "https://push.example/send/1", "p256dh": P256DH, "auth": AUTH}
    assert client.post(f"{N}/registerForWebPush", json=sub, headers=priya).status_code == 200
    renewed = {**sub, "auth": base64.b64encode(bytes(range(16, 32))).decode()}
    assert client.post(f"{N}/registerForWebPush", json=renewed, headers=priya).status_code == 200
    assert [s["auth"] for s in em.notifications.subscriptions(PRIYA)] == [renewed["auth"]]  # one per endpoint
    assert em.notifications.subscriptions(DANIEL) == []
    for broken, field in (
        ({**sub, "endpoint": "not a url"}, "endpoint"),
        ({**sub, "p256dh": "AAAA"}, "p256dh"),
        ({**sub, "auth": "%%%"}, "auth"),
        ({**sub, "extra": 1}, "extra"),
    ):
        answer = client.post(f"{N}/registerForWebPush", json=broken, headers=priya)
        assert answer.status_code == 400 and answer.json["errors"][0]["field"] == field, broken


# ---------------------------------------------------------------------------------------------- avatars


def test_every_user_has_a_default_avatar_of_their_initials(app):
    client, headers = app.test_client(), as_user(app, "priya.shah")
    first = client.get(f"/api/v2/public/users/{DANIEL}/avatar", headers=headers).json
    assert first["mimeType"] == "image/svg+xml" and b">DO</text>" in base64.b64decode(first["content"])
    assert client.get(f"/api/v2/public/users/{DANIEL.upper()}/avatar", headers=headers).json == first
    missing = client.get("/api/v2/public/users/1a000000-0000-4000-8000-000000000005/avatar", headers=headers)
    assert missing.status_code == 404  # an ODS person who is not a user


# ---------------------------------------------------------------------------------------------- switches


def features_toml(tmp_path: Path, table: str) -> Path:
    root = solution_from_demo(tmp_path / "solution")
    toml = root / "operate.toml"
    text = toml.read_text("utf-8")
    start = text.index("[features]")
    end = text.index("\n\n", start)
    toml.write_text(text[:start] + table + text[end:], "utf-8")
    return root


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[features]\nBookmark = true", "unknown feature 'Bookmark' (known: Bookmarks, Notifications"),
        ("[features]\nBookmarks = 1", "Bookmarks must be true or false"),
        ("[features]\nPageViewAnalytics = true", "PageViewAnalytics cannot be switched on: not emulated"),
        ("[features]\nBookmarks = false\nbookmarks = true", "'Bookmarks' and 'bookmarks' switch the same feature"),
        ("[features]\nBookmarks = true\nBOOKMARKS = false", "'Bookmarks' and 'BOOKMARKS' switch the same feature"),
    ],
)
def test_a_features_table_the_emulator_cannot_honour_stops_the_load(tmp_path: Path, table: str, message: str):
    with pytest.raises(SolutionError, match=r"operate\.toml: \[features\]") as err:
        load_solution(features_toml(tmp_path, table))
    assert message in str(err.value)


def test_each_feature_has_its_own_switch(tmp_path: Path):
    root = features_toml(tmp_path, "[features]\nbookmarks = true")  # names in any letter case
    app = create_app(Settings(data_dir=tmp_path / "state", solution=root, clock="virtual", clock_start=START))
    try:
        client, headers = app.test_client(), as_user(app, "priya.shah")
        assert client.get("/api/v2/public/features/Bookmarks/enabled", headers=headers).json == {"enabled": True}
        assert client.get("/api/v2/public/features/Notifications/enabled", headers=headers).json == {"enabled": False}
        assert client.get("/api/v2/public/my/workitems/bookmarked/5", headers=headers).status_code == 200
        off = client.get(f"/api/v2/public/users/{PRIYA}/avatar", headers=headers)
        assert off.status_code == 400 and "User avatars" in off.json["title"]
        add_owner(app, PRIYA)  # Notifications off: nothing is raised, nothing to read later
        with app.extensions["operate"].store.read() as conn:
            assert conn.execute("SELECT COUNT(*) FROM notifications").fetchone()[0] == 0
    finally:
        app.extensions["operate"].close()
