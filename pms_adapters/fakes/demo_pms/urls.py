"""The demo PMS's routes (moto's `urls.py`): path rule, methods, and the `DemoPmsResponses` method that answers.

Everything under `/api/` needs the `X-API-Key` header; `/_fake/` is the fake's own control surface.
The table in README.md is this list, in words.
"""

from __future__ import annotations

URL_RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # Our finance API (seed 002's integration table)
    ("/api/matters", ("POST",), "create_matter"),
    ("/api/matters", ("GET",), "list_matters"),
    ("/api/matters/incept", ("POST",), "incept_matter"),  # opened in the PMS: delivered to Operate
    ("/api/matters/<ref>", ("GET",), "get_matter"),
    ("/api/matters/<ref>/disbursements", ("POST",), "create_disbursement"),
    ("/api/matters/<ref>/disbursements", ("GET",), "list_disbursements"),
    ("/api/disbursements/<disbursement_id>", ("GET",), "get_disbursement"),
    ("/api/disbursements/<disbursement_id>", ("PUT",), "pay_disbursement"),
    ("/api/matters/<ref>/time", ("POST",), "create_time_entry"),
    ("/api/matters/<ref>/time", ("GET",), "list_time_entries"),
    ("/api/matters/<ref>/invoices", ("POST",), "create_invoice"),
    ("/api/matters/<ref>/invoices", ("GET",), "list_invoices"),
    ("/api/invoices/<invoice_id>", ("GET",), "get_invoice"),
    ("/api/invoices/<invoice_id>/status", ("PUT",), "set_invoice_status"),
    ("/api/invoices/<invoice_id>/payments", ("POST",), "record_receipt"),
    ("/api/matters/<ref>/wip", ("GET",), "wip"),
    ("/api/matters/<ref>/aged-debt", ("GET",), "matter_aged_debt"),
    ("/api/clients/<client_id>/aged-debt", ("GET",), "client_aged_debt"),
    ("/api/matters/<ref>/actual-fees", ("GET",), "actual_fees"),
    ("/api/suppliers", ("GET",), "suppliers"),
    ("/api/suppliers", ("POST",), "create_supplier"),  # mastered here: delivered to Operate
    ("/api/suppliers/<supplier_id>", ("GET",), "get_supplier"),
    ("/api/suppliers/<supplier_id>", ("PUT",), "update_supplier"),
    ("/api/clients", ("GET",), "clients"),
    ("/api/fee-earners", ("GET",), "fee_earners"),
    # The official demo's contract (sharedo-tech/forum2024-02-S3, PMSApi), exactly
    ("/api/matter", ("POST",), "demo_create_matter"),
    ("/api/matter/<ref>/financials", ("GET",), "demo_balance"),
    ("/api/matter/<ref>/financials", ("POST",), "demo_post_delta"),
    ("/api/matter/<ref>/financials/audit", ("GET",), "demo_audit"),
    # The fake's controls (no API key)
    ("/_fake/requests", ("GET",), "fake_requests"),
    ("/_fake/requests", ("DELETE",), "fake_clear_requests"),
    ("/_fake/reset", ("POST",), "fake_reset"),
    ("/_fake/deliveries", ("GET",), "fake_deliveries"),  # what the PMS owes Operate (delivery.py)
    ("/_fake/deliveries/<delivery_id>/retry", ("POST",), "fake_retry_delivery"),
    ("/_fake/faults", ("GET",), "fake_faults"),
    ("/_fake/faults", ("POST",), "fake_add_fault"),
    ("/_fake/faults", ("DELETE",), "fake_clear_faults"),
    ("/_fake/faults/<fault_id>", ("DELETE",), "fake_remove_fault"),
)
