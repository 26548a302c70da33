"""A widget scenario belongs to the page that chose it, at the HTTP level: the page's scenario key selects its
faults in the demo PMS fake, calls without it (plans, other pages) see the PMS as it is, and the keys kept are
bounded in number and in time."""

from __future__ import annotations

import json
import re

import pytest

from emulator.kernel.scenario_keys import MAX_KEYS, SCENARIO_HEADER, ScenarioKeys, new_key, valid_key
from tests.conftest import Api
from tests.helpers.upstream import app_with, upstream  # noqa: F401  (a fixture)

WIP = "OperateFinance.WipWidget"
WIP_CALL = "/api/proxy/demo-pms/_/api/matters/PMS-260101/wip"
CLIENT_ORG = "2b000000-0000-4000-8000-000000000001"
FEE_EARNER = "1a000000-0000-4000-8000-000000000001"  # PS in the demo PMS


def boot(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="operate-boot">(.*?)</script>', html, re.S)
    assert found, "no boot data on the page"
    return json.loads(found.group(1))


def open_page(app, path: str) -> tuple[str | None, Api]:
    """The page's scenario key and a client with the page's own token, as its widgets call."""
    page = app.test_client().get(path)
    assert page.status_code == 200, page.text[:500]
    data = boot(page.text)
    return data["scenarioKey"], Api(app, data["session"]["token"])


def wip(api: Api, key: str | None) -> int:
    return api.get(WIP_CALL, headers={SCENARIO_HEADER: key} if key else None).status_code


def test_a_pages_scenario_reaches_only_the_calls_that_carry_its_key(app, em):
    error_key, error_page = open_page(app, f"/widgets/{WIP}?scenario=pms-error")
    ok_key, ok_page = open_page(app, f"/widgets/{WIP}?scenario=ok")
    assert error_key and ok_key and error_key != ok_key
    assert wip(error_page, error_key) == 502  # this page's scenario
    assert wip(ok_page, ok_key) == 200  # another tab's, at the same time
    assert wip(error_page, error_key) == 502  # choosing "ok" elsewhere healed nothing here
    assert wip(error_page, None) == 200  # a call without the key: the PMS as it is
    assert em.linked_services.fakes["demo-pms"].faults() == []  # the shared PMS has no faults
    portal_key, portal = open_page(app, "/portal/3c000000-0000-4000-8000-000000000001?scenario=timeout")
    assert wip(portal, portal_key) == 504 and wip(error_page, error_key) == 502


def test_a_page_with_no_scenario_has_no_key_and_sees_the_shared_pms(app, em):
    key, page = open_page(app, f"/widgets/{WIP}?scenario=pms-error")
    none_key, plain = open_page(app, f"/widgets/{WIP}")
    assert none_key is None
    assert wip(plain, None) == 200
    em.linked_services.fakes["demo-pms"].add_fault("/api/**", status=503)  # the PMS page's shared switch
    assert wip(plain, None) == 503
    assert wip(page, key) == 502  # the page's scenario is the whole stage: its faults, not the shared ones
    ok_key, ok_page = open_page(app, f"/widgets/{WIP}?scenario=ok")
    assert wip(ok_page, ok_key) == 200 and wip(plain, None) == 503  # "ok" no longer clears the shared faults


def test_a_plans_proxy_call_during_a_pages_pms_error_succeeds(operate):
    key, page = open_page(operate.app, f"/widgets/{WIP}?scenario=pms-error")
    assert wip(page, key) == 502
    item = operate.create_work_item(
        "matter-commercial",
        "Opened while a page shows a PMS error",
        participants={"client": CLIENT_ORG, "fee-earner": FEE_EARNER},
    )
    operate.move(item["id"], "matter-open")  # the demo's matter-inception plan: POST /api/matters by proxy
    operate.assert_execution("matter-inception", "STOPPED", sharedo_id=item["id"])
    assert (operate.attribute(item["id"], "pmsReference") or "").startswith("PMS-")
    assert wip(page, key) == 502  # and the page keeps its scenario


def test_a_made_up_or_malformed_key_is_no_key(app, em):
    key, page = open_page(app, f"/widgets/{WIP}?scenario=pms-error")
    backend = em.linked_services.fakes["demo-pms"]
    for other in (new_key(), "x", "a" * 65, key + "!", "../" + key):
        assert wip(page, other) == 200, other
    assert len(backend.faults(key)) == 1


def test_the_keys_a_fake_keeps_are_bounded(app, em):
    backend = em.linked_services.fakes["demo-pms"]
    first = new_key()
    backend.set_scenario_faults(first, [{"route": "/api/**", "status": 502}])
    for _ in range(MAX_KEYS + 50):
        backend.set_scenario_faults(new_key(), [{"route": "/api/**", "status": 500}])
    assert len(backend._scenario_faults) == MAX_KEYS
    assert backend.faults(first) == []  # the least recently used went first: that page sees the shared PMS
    with pytest.raises(Exception, match="at most 100 faults"):
        backend.set_scenario_faults(new_key(), [{"route": "/api/**", "status": 500}] * 101)


def test_scenario_keys_expire_and_the_least_recently_used_goes_first():
    now = [0.0]
    keys: ScenarioKeys[str] = ScenarioKeys(cap=2, ttl=60, now=lambda: now[0])
    a, b, c = new_key(), new_key(), new_key()
    keys.put(a, "A")
    keys.put(b, "B")
    assert keys.get(a) == "A"  # used: b is now the least recently used
    keys.put(c, "C")
    assert (keys.get(a), keys.get(b), keys.get(c)) == ("A", None, "C")
    now[0] = 59.0
    assert keys.get(a) == "A"  # used again at 59 s: kept
    now[0] = 100.0
    assert keys.get(c) is None and keys.get(a) == "A" and len(keys) == 1
    now[0] = 161.0
    assert len(keys) == 0
    assert valid_key(a) == a and valid_key("short") is None and valid_key(None) is None
    with pytest.raises(ValueError, match="16-64 URL-safe"):
        keys.put("not a key", "x")


def test_the_proxy_keeps_the_scenario_header_from_a_real_service(tmp_path, upstream):  # noqa: F811
    app, api = app_with(
        tmp_path,
        f'[linked_services.pms]\nbase_url = "{upstream.url}"\nauth = "api-key"\napi_key = "k"\n',
    )
    try:
        assert api.get("/api/proxy/pms/_/echo", headers={SCENARIO_HEADER: new_key()}).status_code == 200
        (received,) = upstream.received
        assert not [k for k in received["headers"] if k.lower() == SCENARIO_HEADER.lower()], received["headers"]
    finally:
        app.extensions["operate"].close()
