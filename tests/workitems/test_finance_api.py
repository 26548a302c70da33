import pytest

from tests.conftest import OPEN_MATTER, SUBMITTED_PAYMENT, Api, events_of, user_token

PR = "/api/v1/public/finance/paymentRequest"
FEES = f"/api/v1/public/workItem/{OPEN_MATTER}/finance/fees"


def test_the_pms_reports_a_payment_and_an_event_is_raised(api):
    before = api.get(f"{PR}/{SUBMITTED_PAYMENT}").json
    assert before["reference"] == "PR-00001" and before["paymentDetails"] is None
    response = api.put(
        f"{PR}/{SUBMITTED_PAYMENT}",
        {
            "paymentDetails": {
                "amount": 245.5,
                "paidDate": "2026-01-06T10:00:00Z",
                "reference": "BACS-99812",
                "method": "BACS",
            }
        },
    )
    assert response.status_code == 200, response.json
    assert response.json["paymentDetails"] == {
        "amount": "245.50",
        "paidDate": "2026-01-06T10:00:00Z",
        "reference": "BACS-99812",
        "method": "BACS",
    }
    (event,) = events_of(api, "payment-details-updated")
    assert event["Data"]["paymentReference"] == "BACS-99812" and event["Data"]["paidAmount"] == "245.50"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "paymentDetails"),
        ({"paymentDetails": {"amount": "lots", "paidDate": "2026-01-06", "reference": "x"}}, "paymentDetails.amount"),
        ({"paymentDetails": {"amount": 1, "paidDate": "someday", "reference": "x"}}, "paymentDetails.paidDate"),
        ({"paymentDetails": {"amount": 1, "paidDate": "2026-01-06"}}, "paymentDetails.reference"),
        ({"paymentDetails": {"amount": -1, "paidDate": "2026-01-06", "reference": "x"}}, "paymentDetails.amount"),
    ],
)
def test_bad_payment_details_are_400(api, body, field):
    response = api.put(f"{PR}/{SUBMITTED_PAYMENT}", body)
    assert response.status_code == 400 and field in [e["field"] for e in response.json["errors"]]
    assert events_of(api) == []


def test_only_payment_requests_take_payment_details(api):
    response = api.put(
        f"{PR}/{OPEN_MATTER}", {"paymentDetails": {"amount": 1, "paidDate": "2026-01-06", "reference": "x"}}
    )
    assert response.status_code == 404 and "no payment request" in response.json["title"]  # it is a matter
    assert api.get(f"{PR}/00000000-0000-4000-8000-000000000000").status_code == 404


def test_actual_fees_crossing_80_and_100_percent_alert_once_each(api):
    assert api.put(FEES, {"estimatedFees": 10000, "actualFees": 0}).status_code == 200
    assert api.put(FEES, {"actualFees": 7000}).json["lastAlert"] is None
    at_80 = api.put(FEES, {"actualFees": "8000.00"}).json
    assert at_80["lastAlert"] == "80%" and at_80["percentOfEstimate"] == 80.0
    api.put(FEES, {"actualFees": 9000})
    over = api.put(FEES, {"actualFees": 10500}).json
    assert over["lastAlert"] == "100%" and over["percentOfEstimate"] == 105.0
    alerts = [e["Data"]["threshold"] for e in events_of(api, "actual-fees-threshold-crossed")]
    assert alerts == [80, 100]
    comments = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/comments").json["rows"]
    assert any("reached 100% of the estimate" in c["comment"] for c in comments)


def test_fee_input_errors(api):
    assert api.put(FEES, {}).status_code == 400
    assert api.put(FEES, {"actualFees": True}).status_code == 400
    assert api.put(FEES, {"estimatedFees": "1e999"}).status_code == 400


def test_thresholds_come_from_operate_toml(tmp_path):
    import shutil

    from emulator.app import create_app
    from emulator.settings import Settings
    from emulator.solution.loading import SolutionError, demo_solution_path
    from tests.conftest import client_token

    root = tmp_path / "sol"
    shutil.copytree(demo_solution_path(), root)
    with (root / "operate.toml").open("a") as f:
        f.write("\n[finance]\nfee_alert_thresholds = [0.5]\n")
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root))
    api = Api(app, client_token(app))
    api.put(FEES, {"estimatedFees": 100, "actualFees": 0})
    assert api.put(FEES, {"actualFees": 50}).json["lastAlert"] == "50%"
    app.extensions["operate"].close()
    (root / "operate.toml").write_text('[finance]\nfee_alert_thresholds = "lots"\n')
    with pytest.raises(SolutionError, match="fee_alert_thresholds"):
        create_app(Settings(data_dir=tmp_path / "e", solution=root))


def test_suppliers_are_created_only_through_the_public_api(api, app):
    supplier = {"name": "Swift Process Servers", "externalReference": "SUP-0042", "tags": ["supplier"]}
    refused = api.post("/api/ods/organisation", supplier)
    assert refused.status_code == 403 and "mastered in the PMS" in refused.json["title"]
    created = api.post("/api/v2/public/organisation", supplier)
    assert created.status_code == 201 and created.json["name"] == "Swift Process Servers"
    org_id = created.json["id"]
    assert api.get(f"/api/public/v1/organisation/{org_id}").json["externalReference"] == "SUP-0042"
    changed = api.put(f"/api/v2/public/organisation/{org_id}", {"name": "Swift Process Servers Ltd"})
    assert changed.status_code == 200 and changed.json["tags"] == ["supplier"]
    assert api.post("/api/v2/public/organisation", supplier).status_code == 409  # same PMS id twice
    plain = api.post("/api/ods/organisation", {"name": "A client company"})
    assert plain.status_code == 201
    kinds = [(e["eventType"], e["Data"]["odsId"]) for e in events_of(api) if e["eventType"].startswith("ods-")]
    assert kinds == [
        ("ods-entity-created", org_id),
        ("ods-entity-updated", org_id),
        ("ods-entity-created", plain.json["id"]),
    ]
    paralegal = Api(app, user_token(app, "tom.becker"))
    assert paralegal.post("/api/v2/public/organisation", {"name": "x"}).status_code == 403
    assert api.post("/api/v2/public/organisation", {"tags": "supplier"}).status_code == 400


def test_fees_written_by_hand_as_text_read_as_unknown_not_a_crash(api, em):
    refused = api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/estimatedFees", {"value": "about ten grand"})
    assert refused.status_code == 400 and refused.json["errors"][0]["field"] == "estimatedFees"  # never taken now
    with em.store.transaction() as tx:  # text stored before fee figures were checked (an old snapshot)
        tx.execute(
            "UPDATE attributes SET value='about ten grand' WHERE work_item_id=? AND name='estimatedFees'",
            (OPEN_MATTER,),
        )
    assert api.get(FEES).json["percentOfEstimate"] is None
    assert api.put(FEES, {"actualFees": 100}).status_code == 200
