"""Finance routes: payment details from the PMS, estimated and actual fees. Shapes are [inferred]."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify

from .common import body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..finance import Finance


def blueprint(finance: Finance) -> Blueprint:
    """The finance routes over `finance`, the area they serve."""
    bp = Blueprint("finance", __name__)

    @bp.get("/api/v1/public/finance/paymentRequest/<item_id>")
    def payment_request(item_id: str):
        caller("core.sharedo.read")
        return jsonify(finance.payment_request(item_id))

    @bp.put("/api/v1/public/finance/paymentRequest/<item_id>")
    def update_payment_request(item_id: str):
        """`{paymentDetails: {amount, paidDate, reference, method}}`, sent by the PMS once it has paid."""
        return jsonify(finance.update_payment_details(item_id, body(), caller()))

    @bp.get("/api/v1/public/workItem/<item_id>/finance/fees")
    def fees(item_id: str):
        caller("core.sharedo.read")
        return jsonify(finance.fees(item_id))

    @bp.put("/api/v1/public/workItem/<item_id>/finance/fees")
    def set_fees(item_id: str):
        """`{estimatedFees}` / `{actualFees}`: the PMS sends actual fees as they are recorded."""
        return jsonify(finance.set_fees(item_id, body(), caller()))

    return bp
