"""Finance routes: payment details from the PMS, estimated and actual fees. Shapes are [inferred]."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .common import body, caller, emulator

bp = Blueprint("finance", __name__)


@bp.get("/api/v1/public/finance/paymentRequest/<item_id>")
def payment_request(item_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().finance.payment_request(item_id))


@bp.put("/api/v1/public/finance/paymentRequest/<item_id>")
def update_payment_request(item_id: str):
    """`{paymentDetails: {amount, paidDate, reference, method}}`, sent by the PMS once it has paid."""
    return jsonify(emulator().finance.update_payment_details(item_id, body(), caller()))


@bp.get("/api/v1/public/workItem/<item_id>/finance/fees")
def fees(item_id: str):
    caller("core.sharedo.read")
    return jsonify(emulator().finance.fees(item_id))


@bp.put("/api/v1/public/workItem/<item_id>/finance/fees")
def set_fees(item_id: str):
    """`{estimatedFees}` / `{actualFees}`: the PMS sends actual fees as they are recorded."""
    return jsonify(emulator().finance.set_fees(item_id, body(), caller()))
