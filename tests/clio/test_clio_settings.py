"""`operate.toml [integrations.clio]`: the region hosts, fail closed, and every mistake named."""

from __future__ import annotations

import pytest

from emulator.integrations.clio.settings import REGIONS, ClioSettingsError, parse_clio


def clio(**table):
    return {"integrations": {"clio": table}}


def test_no_table_no_clio_and_the_regions_are_clios_four_hosts():
    assert parse_clio({}) is None
    assert REGIONS == {
        "us": "https://app.clio.com",
        "ca": "https://ca.app.clio.com",
        "eu": "https://eu.app.clio.com",
        "au": "https://au.app.clio.com",
    }
    eu = parse_clio(clio(region="eu", client_id="key", client_secret="secret", allow_remote=True))
    assert (eu.base_url, eu.region, eu.fake) == ("https://eu.app.clio.com", "eu", False)


def test_fail_closed_a_real_clio_needs_allow_remote():
    with pytest.raises(ClioSettingsError, match="allow_remote = true"):
        parse_clio(clio(region="us", client_id="key", client_secret="secret"))


def test_the_fake_needs_no_key_and_stays_on_loopback():
    fake = parse_clio(clio(fake="clio"))
    assert fake.fake and fake.base_url == "http://127.0.0.1:8767" and fake.client_id == "fake-clio-app"


def test_the_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLIO_SECRET_FOR_TEST", "s3cret")
    got = parse_clio(clio(region="ca", client_id="key", client_secret_env="CLIO_SECRET_FOR_TEST", allow_remote=True))
    assert got.client_secret == "s3cret" and "s3cret" not in repr(got)
    with pytest.raises(ClioSettingsError, match="CLIO_UNSET_FOR_TEST is not set"):
        parse_clio(clio(region="ca", client_id="key", client_secret_env="CLIO_UNSET_FOR_TEST", allow_remote=True))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"region": "uk"}, "region must be one of"),
        ({}, "give region"),
        ({"fake": "manage"}, 'fake must be "clio"'),
        ({"fake": "clio", "base_url": "ftp://x"}, "http(s) URL"),
        ({"region": "us", "allow_remote": True}, "client_id and client_secret"),
        ({"fake": "clio", "later_window_days": 0}, "later_window_days must be from 1"),
        ({"fake": "clio", "first_window_days": "ten years"}, "first_window_days must be a whole number"),
        ({"fake": "clio", "client_contact": "pager"}, "client_contact must be one of"),
        ({"fake": "clio", "mobile_phone_names": []}, "mobile_phone_names"),
        ({"fake": "clio", "stages": {"Intake": 3}}, "stages"),
        ({"fake": "clio", "nightly": True}, "unknown key 'nightly'"),
        ({"fake": "clio", "require_attorney": "yes"}, "require_attorney must be true or false"),
    ],
)
def test_mistakes_are_named(table, message):
    with pytest.raises(ClioSettingsError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_clio(clio(**table))
    assert str(caught.value).startswith("operate.toml [integrations.clio]")


def test_settings_keys_are_read_exactly_as_written():
    """TOML keys are case-sensitive: a `Region` or a `BASE_URL` is a mistake named as one, never read as
    `region` or `base_url` (the settings tables read through binding.Fields, which folds case for JSON)."""
    from emulator.linked_services import LinkedServiceError, parse_services

    with pytest.raises(ClioSettingsError, match="unknown key 'Region'"):
        parse_clio(clio(fake="clio", Region="eu"))
    with pytest.raises(LinkedServiceError, match=r"\[linked_services.pms\]: base_url must be an http\(s\) URL"):
        parse_services({"linked_services": {"pms": {"BASE_URL": "http://127.0.0.1:9"}}})
    found = parse_services({"linked_services": {"pms": {"base_url": "http://127.0.0.1:9/", "Timeout_Seconds": 1}}})
    assert found["pms"].timeout_seconds == 10.0
