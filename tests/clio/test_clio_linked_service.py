"""A linked service of `auth = "clio"`: its token comes from a connection registered at run time (a
TokenProvider), in the proxy and in the service's PmsAdapter, renewed once on a 401; `fake = "clio"`
serves it from an in-process fake Clio on the emulator's clock. Every answer the fake gives is checked
against Clio's OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.solution.loading import SolutionError
from pms_adapters.base import PmsError
from pms_adapters.clio.adapter import ClioPmsAdapter
from pms_adapters.fakes.clio.models import ClioBackend
from smartplans.testing import solution_from_demo
from tests.conftest import START, Api, client_token
from tests.helpers.clio_connection import CLIO_TOML, SERVICE, FakeClioConnection
from tests.helpers.clio_openapi import Conformance

WHO = "/api/proxy/clio/_/api/v4/users/who_am_i.json?fields=id,name"


def build(tmp_path, toml: str = CLIO_TOML):
    root = solution_from_demo(tmp_path / "sol", toml=toml)
    return create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))


@pytest.fixture
def conformance():
    return Conformance()


@pytest.fixture
def app(tmp_path, conformance):
    app = build(tmp_path)
    em = app.extensions["operate"]
    em.linked_services.mount_clio(SERVICE, em.clock, observer=conformance)
    yield app
    em.close()
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"


@pytest.fixture
def em(app):
    return app.extensions["operate"]


@pytest.fixture
def api(app):
    return Api(app, client_token(app))


def test_the_fake_is_mounted_on_the_emulators_clock_and_the_adapter_is_clio_s(em):
    backend = em.linked_services.fakes[SERVICE]
    assert isinstance(backend, ClioBackend) and backend.clock is em.clock
    service = em.linked_services.services[SERVICE]
    assert (service.auth, service.adapter, service.base_url) == ("clio", "clio", "http://127.0.0.1:8767")
    assert isinstance(em.linked_services.adapter(SERVICE), ClioPmsAdapter)


def test_not_connected_the_proxy_says_where_to_connect(em, api, conformance):
    answer = api.get(WHO)
    assert answer.status_code == 502
    # The demo's Clio connection (not yet connected) or no connection at all: either way it says where to connect.
    assert "not connected" in answer.json["title"]
    assert answer.json["title"].endswith("connect Clio in Settings > Integrations")
    assert [(e["service"], e["status"]) for e in em.proxy_log.entries()] == [("clio", 502)]
    assert conformance.seen == 0  # nothing was sent to Clio without a token
    with pytest.raises(PmsError, match="connect Clio in Settings > Integrations") as caught:
        em.linked_services.adapter(SERVICE).get_matter(str(next(iter(em.linked_services.fakes[SERVICE].matters))))
    assert caught.value.status == 502


def test_connected_the_proxy_sends_the_connections_token_not_the_callers(em, api, conformance):
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    answer = api.get(WHO)
    assert answer.status_code == 200, answer.json
    backend = em.linked_services.fakes[SERVICE]
    assert answer.json["data"]["name"] == backend.users[min(backend.users)]["name"]
    assert connection.handed_out == [connection.access_token] and connection.refreshes == 0
    assert conformance.seen == 1


def test_an_expired_token_is_renewed_once_and_the_call_made_again(em, api):
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    first = connection.access_token
    em.linked_services.fakes[SERVICE].expire_tokens()
    answer = api.get(WHO)
    assert answer.status_code == 200 and connection.refreshes == 1
    assert connection.handed_out == [first, connection.access_token] and connection.access_token != first
    assert api.get(WHO).status_code == 200 and connection.refreshes == 1  # the new token holds


def test_a_revoked_grant_passes_clio_s_401_through_after_one_refresh(em, api):
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    em.linked_services.fakes[SERVICE].revoke_tokens()
    answer = api.get(WHO)
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"
    assert connection.refreshes == 1 and len(connection.handed_out) == 1


def test_a_connection_that_drops_is_a_502_naming_it(em, api):
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    connection.connected = False
    answer = api.get(WHO)
    assert answer.status_code == 502 and "Clio was disconnected" in answer.json["title"]


def test_a_provider_for_the_auth_kind_serves_every_clio_service(tmp_path):
    app = build(tmp_path, CLIO_TOML.replace("linked_services.clio", "linked_services.firm-a"))
    em = app.extensions["operate"]
    try:
        em.linked_services.token_providers["clio"] = FakeClioConnection(em, service="firm-a")
        answer = Api(app, client_token(app)).get(WHO.replace("/clio/", "/firm-a/"))
        assert answer.status_code == 200
    finally:
        em.close()


def test_the_adapter_renews_once_and_ages_on_the_emulators_clock(em):
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    backend = em.linked_services.fakes[SERVICE]
    bill = next(b for b in backend.bills.values() if b["state"] == "awaiting_payment" and b["balance"] > 0)
    matter_id = str(bill["matters"][0]["id"])
    adapter = em.linked_services.adapter(SERVICE)
    before = adapter.aged_debt_for_matter(matter_id, detail=True)
    assert before.as_of == em.clock.now()
    backend.expire_tokens()
    em.clock.advance(timedelta(days=12))
    after = em.linked_services.adapter(SERVICE).aged_debt_for_matter(matter_id, detail=True)
    assert connection.refreshes == 1
    assert [i.days_overdue for i in after.invoices] == [i.days_overdue + 12 for i in before.invoices]
    assert after.total == before.total


def test_the_adapter_gives_up_after_one_refresh_of_a_revoked_grant(em):
    connection = FakeClioConnection(em)
    em.linked_services.token_providers[SERVICE] = connection
    backend = em.linked_services.fakes[SERVICE]
    backend.revoke_tokens()
    with pytest.raises(PmsError, match="connect Clio again") as caught:
        em.linked_services.adapter(SERVICE).wip(str(next(iter(backend.matters))))
    assert caught.value.status == 401 and connection.refreshes == 1


@pytest.mark.parametrize(
    "toml, message",
    [
        (CLIO_TOML.replace('fake = "clio"', 'fake = "clio-manage"'), 'fake must be "demo"'),
        (CLIO_TOML.replace('auth = "clio"', 'auth = "clio-oauth"'), "auth must be one of"),
        (CLIO_TOML.replace('adapter = "clio"', 'adapter = "manage"'), "adapter 'manage' is unknown"),
    ],
)
def test_bad_clio_service_config_is_named(tmp_path, toml, message):
    with pytest.raises(SolutionError, match=message):
        build(tmp_path, toml)
