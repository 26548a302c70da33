"""The Clio client against the fake Clio, in process through httpx.WSGITransport: paging, batched
contacts, one refresh on a 401, 429s waited out on the virtual clock, 5xx retried then given up.
Every answer the fake gives is checked against Clio's OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from pms_adapters.clio.client import ClioClient, ClioDisconnected, ClioError, Tokens
from pms_adapters.fakes.clio.app import create_app
from pms_adapters.fakes.clio.models import App, ClioBackend
from tests.helpers.clio_openapi import Conformance


def make(clock, **backend_options):
    conformance = Conformance()
    backend = ClioBackend(clock, app=App(), **{"matters": 450, **backend_options})
    app = create_app(backend, observer=conformance)
    tokens = backend.issue_token(min(backend.users))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    refreshed: list[Tokens] = []
    client = ClioClient(
        httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://clio.test"),
        Tokens(tokens["access_token"], tokens["refresh_token"]),
        client_id=backend.app.client_id,
        client_secret=backend.app.client_secret,
        on_refresh=refreshed.append,
        sleep=sleep,
    )
    return backend, client, slept, refreshed, conformance


def test_every_matter_in_three_pages_and_contacts_in_batches(clock):
    backend, client, _, _, conformance = make(clock)
    matters = [m for page in client.matters() for m in page]
    assert [m["id"] for m in matters] == sorted(backend.matters)
    assert client.requests == 3
    contacts = client.contacts([m["client"]["id"] for m in matters])
    assert set(contacts) == {m["client"]["id"] for m in matters}
    assert client.requests == 3 + 3  # 450 clients, 200 a look-up (Clio's largest page)
    assert all("phone_numbers" in c for c in contacts.values())
    assert conformance.problems == [] and conformance.seen == 6


def test_an_expired_token_is_refreshed_once_and_the_call_retried(clock):
    backend, client, _, refreshed, _ = make(clock, token_lifetime=timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    me = client.who_am_i()
    assert me["email"].endswith("@harbourvale.example")
    assert len(refreshed) == 1 and refreshed[0].access_token != "" and client.tokens == refreshed[0]
    assert client.requests == 3  # refused, refresh, again


def test_a_revoked_grant_says_to_connect_again(clock):
    backend, client, _, _, _ = make(clock)
    backend.revoke_tokens()
    with pytest.raises(ClioDisconnected, match="connect Clio again"):
        client.who_am_i()


def test_rate_limits_are_waited_out_on_the_clock(clock):
    backend, client, slept, _, conformance = make(clock, rate_limit=2)
    started = clock.now()
    matters = [m for page in client.matters(limit=50) for m in page]
    assert len(matters) == 450
    assert slept and all(1 <= s <= 60 for s in slept)
    assert clock.now() - started >= timedelta(seconds=sum(slept))
    assert conformance.problems == []


def test_server_errors_are_retried_with_backoff_then_given_up(clock):
    backend, client, slept, _, _ = make(clock)
    backend.switches.fail_next = 2
    assert client.who_am_i()["name"]
    assert slept == [1.0, 2.0]
    backend.switches.fail_next = 100
    with pytest.raises(ClioError, match="Clio answered 503"):
        client.who_am_i()
    assert slept[2:] == [1.0, 2.0, 4.0, 8.0]
