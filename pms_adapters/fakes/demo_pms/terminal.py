"""`operate pms open-matter | pay-disbursement | record-receipt | add-supplier | change-supplier | deliveries`:
act in the demo PMS as its own users do (over its HTTP API, with its key). Nothing here calls Operate:
the PMS's delivery worker (`delivery.py`) tells Operate on the clock, as seed 002's PMS -> Operate rows say.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .app import DEFAULT_API_KEY, DEFAULT_PORT
from .models import PAYMENT_METHODS, PRACTICE_AREAS, SUPPLIER_CATEGORIES

COMMANDS: dict[str, str] = {
    "open-matter": "open a matter in the PMS (its worker sends it to Operate, linked and open)",
    "pay-disbursement": "pay a disbursement in the PMS (its worker marks Operate's payment request paid)",
    "record-receipt": "record cash received on an invoice in the PMS (its worker moves Operate's invoice on)",
    "add-supplier": "add a supplier in the PMS (its worker creates it in Operate's ODS)",
    "change-supplier": "change a supplier in the PMS (its worker updates it in Operate's ODS)",
    "deliveries": "list what the PMS has sent, or still owes, Operate (pending, delivered, failed)",
}


def add_commands(sub: Any) -> None:
    """Add the commands to `operate pms`'s subparsers."""
    for name, what in COMMANDS.items():
        p = sub.add_parser(name, help=what, description=f"{what[0].upper()}{what[1:]}.")
        p.add_argument(
            "--pms-url", help=f"the demo PMS (default: the one `operate serve --demo` started, else :{DEFAULT_PORT})"
        )
        p.add_argument("--pms-key", default=DEFAULT_API_KEY, help="the demo PMS's X-API-Key")
        p.add_argument(
            "--data-dir", type=Path, default=Path(".operate"), help="find the demo PMS served on this data dir"
        )
        _ARGUMENTS[name](p)


def _open_matter(p: argparse.ArgumentParser) -> None:
    p.add_argument("--title", required=True)
    p.add_argument("--fee-earner", required=True, help="a fee earner's code (PS), user name or name")
    p.add_argument("--client-id", help="a client the PMS knows (CLI-0006)")
    p.add_argument("--client-name", help="or a client by name (a new one is made)")
    p.add_argument("--practice-area", choices=PRACTICE_AREAS, default=PRACTICE_AREAS[0])
    p.add_argument("--billing", help="billing arrangements, e.g. Hourly")
    p.add_argument("--estimate", help="estimated fees in pounds")


def _pay(p: argparse.ArgumentParser) -> None:
    p.add_argument("disbursement", help="the PMS disbursement id (PMS-DISB-...)")
    p.add_argument("--reference", required=True, help="the payment reference (BACS-...)")
    p.add_argument("--method", choices=PAYMENT_METHODS)
    p.add_argument("--paid-date", help="YYYY-MM-DD (default: today on the PMS's clock)")


def _receipt(p: argparse.ArgumentParser) -> None:
    p.add_argument("invoice", help="the PMS invoice id (PMS-INV-...)")
    p.add_argument("--amount", required=True, help="pounds received")
    p.add_argument("--reference", help="the receipt's reference (makes a resend harmless)")


def _supplier(p: argparse.ArgumentParser, creating: bool) -> None:
    if not creating:
        p.add_argument("supplier", help="the PMS supplier id (SUP-0006)")
    p.add_argument("--name", required=creating)
    p.add_argument("--category", choices=SUPPLIER_CATEGORIES)
    p.add_argument("--vat-number")
    p.add_argument("--payment-terms-days", type=int)


def _deliveries(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", choices=("pending", "delivered", "failed"))


_ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "open-matter": _open_matter,
    "pay-disbursement": _pay,
    "record-receipt": _receipt,
    "add-supplier": lambda p: _supplier(p, True),
    "change-supplier": lambda p: _supplier(p, False),
    "deliveries": _deliveries,
}


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    c = args.pms_command
    if c == "open-matter":
        body = {
            "title": args.title,
            "feeEarner": args.fee_earner,
            "clientId": args.client_id,
            "clientName": args.client_name,
            "practiceArea": args.practice_area,
            "billingArrangements": args.billing,
            "estimatedFees": args.estimate,
        }
        return "POST", "/api/matters/incept", _drop_none(body)
    if c == "pay-disbursement":
        body = {"paymentReference": args.reference, "paymentMethod": args.method, "paidDate": args.paid_date}
        return "PUT", f"/api/disbursements/{args.disbursement}", _drop_none(body)
    if c == "record-receipt":
        body = {"amount": args.amount, "reference": args.reference}
        return "POST", f"/api/invoices/{args.invoice}/payments", _drop_none(body)
    if c in ("add-supplier", "change-supplier"):
        body = {
            "name": args.name,
            "category": args.category,
            "vatNumber": args.vat_number,
            "paymentTermsDays": args.payment_terms_days,
        }
        path = "/api/suppliers" if c == "add-supplier" else f"/api/suppliers/{args.supplier}"
        return ("POST" if c == "add-supplier" else "PUT"), path, _drop_none(body)
    return "GET", "/_fake/deliveries", None


def run(args: argparse.Namespace, pms_url: str) -> int:
    """Make the PMS call; print what the PMS holds now (JSON). 0 done, 1 refused by the PMS, 2 unreachable."""
    method, path, body = _request(args)
    params = {"state": args.state} if args.pms_command == "deliveries" and args.state else None
    try:
        with httpx.Client(base_url=pms_url, headers={"X-API-Key": args.pms_key}, timeout=30, trust_env=False) as pms:
            response = pms.request(method, path, json=body, params=params)
    except httpx.TransportError as exc:
        print(f"operate pms: cannot reach the demo PMS at {pms_url}: {exc}", file=sys.stderr)
        return 2
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    if response.status_code >= 400:
        message = answer.get("message") if isinstance(answer, dict) else answer
        print(f"operate pms: the PMS refused {method} {path}: {response.status_code} {message}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    if args.pms_command != "deliveries":
        print("the PMS's worker sends this to Operate within a minute (operate pms deliveries)", file=sys.stderr)
    return 0
