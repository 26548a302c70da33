"""A token once expired stays expired, whatever the virtual clock does afterwards (docs/security.md)."""

from __future__ import annotations

from tests.conftest import OPEN_MATTER, Api, client_token, user_token


def test_setting_the_clock_back_does_not_revive_an_expired_token(app):
    control = Api(app, client_token(app))
    hannah = user_token(app, "hannah.whitfield")
    as_hannah = Api(app, hannah)
    assert as_hannah.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 200
    assert control.post("/api/_emulator/clock", {"advance": "P1D"}).status_code == 200
    assert as_hannah.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 401

    control = Api(app, client_token(app))  # the control token ran out with the day too
    assert control.post("/api/_emulator/clock", {"set": "2000-01-01T00:00:00Z"}).status_code == 200
    response = as_hannah.get(f"/api/v1/public/workItem/{OPEN_MATTER}")
    assert response.status_code == 401
    assert "stays expired" in response.json["title"] and "set back" in response.json["title"]
    fresh = Api(app, user_token(app, "hannah.whitfield"))  # a token issued after the move works as ever
    assert fresh.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 200


def test_an_expired_refresh_token_stays_expired_after_the_clock_goes_back(app, em):
    response = app.test_client().post(
        "/connect/token",
        data={"grant_type": "Impersonate.Specified", "impersonate_user": "tom.becker", "scope": "sharedo"},
        auth=("demo-client", "demo-secret"),
    )
    refresh = response.json["refresh_token"]
    start = em.clock.now()
    em.clock.set(start + (em.identity.refresh_ttl * 2))
    em.clock.set(start)
    again = app.test_client().post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=("demo-client", "demo-secret"),
    )
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


def test_a_restart_with_an_earlier_clock_start_does_not_revive_a_token(tmp_path):
    from datetime import timedelta

    from emulator.app import create_app
    from emulator.settings import Settings
    from tests.conftest import START

    settings = Settings(data_dir=tmp_path / "d", demo=True, clock="virtual", clock_start=START)
    app = create_app(settings)
    token = user_token(app, "tom.becker")
    app.extensions["operate"].clock.advance(timedelta(days=1))  # saved with the state: the token ran out
    app.extensions["operate"].close()
    again = create_app(settings)  # the clock starts at START again, before the token's expiry
    try:
        assert again.extensions["operate"].clock.now() == START
        response = Api(again, token).get(f"/api/v1/public/workItem/{OPEN_MATTER}")
        assert response.status_code == 401 and "stays expired" in response.json["title"]
    finally:
        again.extensions["operate"].close()
