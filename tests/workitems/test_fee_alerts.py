"""Actual vs estimated fees (seed 002): the alert rule holds whenever either figure changes, by any route,
and at load; once per threshold crossed, never twice for the same crossing (set twice, restart, snapshot).

The rule (emulator/finance.py `_alert`): the actual fees at or over a share of the estimate (80 %, 100 %)
raise `actual-fees-threshold-crossed` and note it on the matter, once; `lastAlert` (`feeAlert`) keeps the
highest threshold alerted and still reached, so falling back below a line (a raised estimate) re-arms it.
"""

from __future__ import annotations

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import START

V1 = "/api/v1/public/workItem"
ESTATE = "3c000000-0000-4000-8000-000000000001"  # MAT-00001: 1,850 of 4,500 (41 %)
DEBT = "3c000000-0000-4000-8000-000000000004"  # MAT-00004: 5,200 of 15,000 (35 %)
FRAMEWORK = "3c000000-0000-4000-8000-000000000005"  # MAT-00005: 6,000 of 6,000 (100 %)
POWERS = "3c000000-0000-4000-8000-000000000008"  # MAT-00008: 900 of 900 (100 %, closed)
OPPOSITION = "3c000000-0000-4000-8000-000000000009"  # MAT-00009: 4,750 of 5,000 (95 %, closed)
REMEDY = "3c000000-0000-4000-8000-000000000006"  # MAT-00006: 3,100 of 12,000 (26 %)


def alerts(operate, item: str | None = None) -> list[tuple[int, str, str]]:
    return [
        (e["Data"]["threshold"], e["Data"]["actualFees"], e["Data"]["estimatedFees"])
        for e in operate.events("actual-fees-threshold-crossed")
        if item is None or e["Data"]["sharedoId"] == item
    ]


def notes(api, item: str) -> list[str]:
    rows = api.get(f"{V1}/{item}/comments?rowsPerPage=100").json["rows"]
    return sorted(c["comment"].split(" (")[0] for c in rows if "of the estimate" in c["comment"])


def fees(api, item: str) -> dict:
    return api.get(f"{V1}/{item}/finance/fees").json


def test_seeded_matters_at_or_over_a_threshold_carry_their_alert_from_the_start(operate):
    """The seed is the starting state (no events): its alerts are there as notes and lastAlert."""
    api = operate.api()
    assert fees(api, FRAMEWORK)["lastAlert"] == "100%"
    assert notes(api, FRAMEWORK) == [
        "Actual fees 6000.00 have reached 100% of the estimate 6000.00",
        "Actual fees 6000.00 have reached 80% of the estimate 6000.00",
    ]
    assert fees(api, POWERS)["lastAlert"] == "100%"
    assert fees(api, OPPOSITION)["lastAlert"] == "80%"
    assert notes(api, OPPOSITION) == ["Actual fees 4750.00 have reached 80% of the estimate 5000.00"]
    assert fees(api, DEBT)["lastAlert"] is None and notes(api, DEBT) == []
    assert operate.events() == []
    # the seed's alerts are not raised again by a figure sent again
    assert api.put(f"{V1}/{FRAMEWORK}/finance/fees", {"actualFees": "6000"}).status_code == 200
    assert api.put(f"{V1}/{FRAMEWORK}/attributes", {"actualFees": "6000.0"}).status_code == 200
    assert alerts(operate) == []


def test_lowering_the_estimate_below_the_actuals_alerts(operate):
    api = operate.api()
    answer = api.put(f"{V1}/{DEBT}/finance/fees", {"estimatedFees": "5000"})
    assert answer.status_code == 200, answer.json
    assert answer.json["lastAlert"] == "100%" and answer.json["percentOfEstimate"] == 104.0
    assert alerts(operate, DEBT) == [(80, "5200.00", "5000.00"), (100, "5200.00", "5000.00")]
    assert notes(api, DEBT) == [
        "Actual fees 5200.00 have reached 100% of the estimate 5000.00",
        "Actual fees 5200.00 have reached 80% of the estimate 5000.00",
    ]
    # the same figure set twice, by either route, is no second crossing
    api.put(f"{V1}/{DEBT}/finance/fees", {"estimatedFees": "5000"})
    api.post(f"{V1}/{DEBT}/attributes/estimatedFees", {"value": "5000"})
    assert len(alerts(operate, DEBT)) == 2


def test_either_figure_written_through_the_attributes_routes_alerts(operate):
    api = operate.api()
    assert api.put(f"{V1}/{REMEDY}/attributes", {"actualFees": "9600"}).status_code == 200
    assert alerts(operate, REMEDY) == [(80, "9600.00", "12000.00")]
    assert api.post(f"{V1}/{ESTATE}/attributes/estimatedFees", {"value": "2000"}).status_code == 200
    assert alerts(operate, ESTATE) == [(80, "1850.00", "2000.00")]
    assert fees(api, ESTATE)["lastAlert"] == "80%"


def test_a_raised_estimate_re_arms_the_alert_for_the_next_crossing(operate):
    api = operate.api()
    api.put(f"{V1}/{REMEDY}/finance/fees", {"actualFees": "10000"})  # 83 %
    assert fees(api, REMEDY)["lastAlert"] == "80%"
    api.put(f"{V1}/{REMEDY}/finance/fees", {"estimatedFees": "20000"})  # 50 %: below the line again
    assert fees(api, REMEDY)["lastAlert"] is None
    api.put(f"{V1}/{REMEDY}/finance/fees", {"actualFees": "16000"})  # 80 % of the new estimate
    assert [a[0] for a in alerts(operate, REMEDY)] == [80, 80]
    assert alerts(operate, REMEDY)[-1] == (80, "16000.00", "20000.00")


def test_a_fee_figure_that_is_not_an_amount_is_refused_by_every_route(operate):
    api = operate.api()
    for value in ("lots", "-5", "NaN", "1e999", "", " "):
        put = api.put(f"{V1}/{DEBT}/attributes", {"actualFees": value})
        assert put.status_code == 400, (value, put.json)
        assert put.json["errors"][0]["field"] == "actualFees" and "fee figure" in put.json["errors"][0]["message"]
        post = api.post(f"{V1}/{DEBT}/attributes/estimatedFees", {"value": value})
        assert post.status_code == 400, (value, post.json)
    bad = api.put(f"{V1}/{DEBT}/finance/fees", {"actualFees": "lots"})
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "actualFees"
    assert fees(api, DEBT)["actualFees"] == "5200" and fees(api, DEBT)["estimatedFees"] == "15000"
    # a refused figure leaves nothing half-done: not the other attributes sent with it either
    mixed = api.put(f"{V1}/{DEBT}/attributes", {"priority": "1", "estimatedFees": "five thousand"})
    assert mixed.status_code == 400 and operate.attribute(DEBT, "priority") == "8"
    # clearing a figure is allowed, and takes the alert state with it
    assert api.put(f"{V1}/{FRAMEWORK}/attributes", {"actualFees": None}).status_code == 200
    assert fees(api, FRAMEWORK)["lastAlert"] is None
    assert alerts(operate) == []


def test_no_alert_twice_across_a_restart_or_a_snapshot_load(tmp_path):
    data_dir = tmp_path / "operate"

    def start():
        app = create_app(Settings(data_dir=data_dir, demo=True, clock="virtual", clock_start=START))
        return app, app.extensions["operate"]

    def raised(em) -> list[tuple[str, int]]:
        return [
            (e.data["sharedoId"], e.data["threshold"])
            for e in em.stream.after(0, limit=10_000)
            if e.event_type == "actual-fees-threshold-crossed"
        ]

    app, em = start()
    try:
        em.finance.set_fees(DEBT, {"estimatedFees": "6000"}, None)
        assert raised(em) == [(DEBT, 80)]
        snapshot = em.export()
    finally:
        em.close()

    app, em = start()  # a restart: the rule runs at load and finds every crossing alerted
    try:
        assert raised(em) == [(DEBT, 80)]
        assert em.finance.fees(FRAMEWORK)["lastAlert"] == "100%"
        em.import_snapshot(snapshot)  # the same state again: nothing new
        assert raised(em) == [(DEBT, 80)]
        # a snapshot holding figures past a line it never alerted for (made before the rule) alerts once
        rows = snapshot["tables"]["attributes"]["rows"]
        snapshot["tables"]["attributes"]["rows"] = [r for r in rows if not (r[0] == DEBT and r[1] == "feeAlert")]
        em.import_snapshot(snapshot)
        assert raised(em) == [(DEBT, 80), (DEBT, 80)]
        em.import_snapshot(em.export())
        assert raised(em) == [(DEBT, 80), (DEBT, 80)]
    finally:
        em.close()
