"""The finance examples tested the Python way, with the `operate` fixture (demo solution, demo PMS in
process, virtual clock). Run: `pytest smartplans/examples/tests` or `operate test smartplans/examples`."""

PAYMENT = "5e000000-0000-4000-8000-000000000001"  # PR-00001, submitted, on matter MAT-00002 = PMS-260102
ENQUIRY = "3c000000-0000-4000-8000-000000000010"  # MAT-00010, not yet in the PMS


def test_an_approved_payment_reaches_the_pms(operate):
    operate.move(PAYMENT, "payment-request-approved")
    operate.assert_execution("payment-approved", state="STOPPED")
    operate.assert_pms_received("POST", "/api/matters/PMS-260102/disbursements", {"amount": 245.0})
    assert operate.attribute(PAYMENT, "pmsDisbursementId")


def test_an_opened_matter_is_incepted_once(operate):
    operate.move(ENQUIRY, "matter-open")
    operate.assert_execution("matter-inception", sharedo_id=ENQUIRY)
    reference = operate.attribute(ENQUIRY, "pmsReference")
    assert reference.startswith("PMS-26")
    operate.move(ENQUIRY, "matter-closed")
    operate.move(ENQUIRY, "matter-open")  # opened again: already in the PMS, nothing sent
    operate.assert_pms_received("POST", "/api/matters", {"operateId": ENQUIRY}, count=1)


def test_a_pms_outage_errors_the_plan_and_a_retry_sends_once(operate):
    operate.pms.add_fault("/api/matters/*/disbursements", "POST", status=503, times=1)
    operate.move(PAYMENT, "payment-request-approved")
    execution = operate.assert_execution("payment-approved", state="ERRORED")
    step = execution["steps"][0]["id"]
    retried = operate.api().post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step}/retry")
    assert retried.json["state"] == "STOPPED"
    assert len(operate.pms.requests("POST", "/api/matters/PMS-260102/disbursements")) == 2  # the 503, then one
    assert len(operate.pms_requests("GET", "/api/matters/PMS-260102/disbursements")) == 0


def test_a_hanging_pms_is_a_timeout_the_plan_reports(operate):
    operate.mock_host_call("POST", "/api/proxy/demo-pms/_/api/matters/*/disbursements", never_answers=True)
    operate.move(PAYMENT, "payment-request-approved")
    assert "GatewayTimeout" in operate.assert_execution("payment-approved", state="ERRORED")["lastErrored"]
