"""Finance routes: payment details from the PMS, estimated and actual fees. Shapes are [inferred]."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

from .common import READ_WORK, answers, changes, table_blueprint

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..finance import Finance

PAYMENT = "/api/v1/public/finance/paymentRequest/<item_id>"
FEES = "/api/v1/public/workItem/<item_id>/finance/fees"


def blueprint(finance: Finance) -> Blueprint:
    """The finance routes over `finance`, the area they serve."""
    # The PMS PUTs `{paymentDetails: {amount, paidDate, reference, method}}` once it has paid, and
    # `{estimatedFees}` / `{actualFees}` (actual fees as they are recorded).
    return table_blueprint(
        "finance",
        __name__,
        [
            (f"GET {PAYMENT}", "payment_request", answers(READ_WORK, finance.payment_request)),
            (f"PUT {PAYMENT}", "update_payment_request", changes(finance.update_payment_details)),
            (f"GET {FEES}", "fees", answers(READ_WORK, finance.fees)),
            (f"PUT {FEES}", "set_fees", changes(finance.set_fees)),
        ],
    )
