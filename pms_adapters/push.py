"""Play the PMS side by hand: push suppliers and actual fees into a running Operate through its
public API, as a real PMS integration does (`operate pms push-suppliers`, `push-actual-fees`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from .base import PmsAdapter, PmsError

Say = Callable[[str], None]


class PushError(RuntimeError):
    """Operate refused or could not be reached; says which call and why."""


@dataclass
class PushReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def operate_client(
    base_url: str, client_id: str, client_secret: str, *, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An httpx client for Operate carrying a client-credentials token (the integration's identity)."""
    client = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=30, trust_env=False)
    try:
        response = client.post(
            "/connect/token",
            data={"grant_type": "client_credentials", "scope": "sharedo"},
            auth=(client_id, client_secret),
        )
    except httpx.TransportError as exc:
        client.close()
        raise PushError(f"cannot reach Operate at {base_url}: {exc}") from None
    if response.status_code != 200:
        client.close()
        raise PushError(f"Operate refused the client {client_id!r}: {response.status_code} {response.text[:200]}")
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def _check(response: httpx.Response, what: str) -> dict:
    if response.status_code >= 400:
        try:
            title = response.json().get("title")
        except ValueError:
            title = response.text[:200]
        raise PushError(f"{what}: Operate answered {response.status_code}: {title}")
    return response.json() if response.content else {}


def _existing_supplier(operate: httpx.Client, supplier_id: str, ods_id: str | None) -> dict | None:
    if ods_id:
        found = operate.get(f"/api/public/v1/organisation/{ods_id}")
        if found.status_code == 200:
            return found.json()
    page = _check(
        operate.post(
            "/api/ods/_search",
            json={"searchString": supplier_id, "odsEntityTypes": ["organisation"], "rowsPerPage": 50},
        ),
        "searching the ODS",
    )
    for row in page.get("rows", []):
        org = json.loads(row["result"])
        if org.get("externalReference") == supplier_id:
            return org
    return None


def push_suppliers(pms: PmsAdapter, operate: httpx.Client, say: Say = print) -> PushReport:
    """Create or update every PMS supplier as an ODS organisation tagged `supplier` (mastered in the PMS)."""
    report = PushReport()
    suppliers = pms.suppliers()
    for i, s in enumerate(suppliers, 1):
        body = {
            "name": s.name,
            "externalReference": s.supplier_id,
            "vatNumber": s.vat_number,
            "tags": ["supplier"],
            "supplierCategory": s.category,
        }
        existing = _existing_supplier(operate, s.supplier_id, s.operate_ods_id)
        try:
            if existing is None:
                created = _check(operate.post("/api/v2/public/organisation", json=body), f"creating {s.name}")
                report.created.append(created["id"])
                outcome = f"created {created['id']}"
            elif all(existing.get(k) == v for k, v in body.items() if k != "tags") and "supplier" in existing.get(
                "tags", []
            ):
                report.unchanged.append(existing["id"])
                outcome = "unchanged"
            else:
                tags = sorted(set(existing.get("tags") or []) | {"supplier"})
                _check(
                    operate.put(f"/api/v2/public/organisation/{existing['id']}", json={**body, "tags": tags}),
                    f"updating {s.name}",
                )
                report.updated.append(existing["id"])
                outcome = f"updated {existing['id']}"
        except PushError as exc:
            report.failed.append(f"{s.supplier_id}: {exc}")
            outcome = f"FAILED: {exc}"
        say(f"[{i}/{len(suppliers)}] {s.supplier_id} {s.name}: {outcome}")
    return report


def push_actual_fees(
    pms: PmsAdapter, operate: httpx.Client, say: Say = print, reference_path: str = "form-demo-finance.pmsReference"
) -> PushReport:
    """Send each linked matter's actual fees from the PMS; Operate raises the 80 %/100 % alerts."""
    report = PushReport()
    query = {
        "search": {"types": {"includeTypesDerivedFrom": ["matter"]}, "page": {"rowsPerPage": 1000}},
        "enrich": [{"path": "reference"}, {"path": reference_path}],
    }
    matters = _check(operate.post("/api/v1/public/workItem/findByQuery", json=query), "listing matters")["results"]
    linked = [m for m in matters if m["data"].get(reference_path)]
    for i, m in enumerate(linked, 1):
        ref = m["data"][reference_path]
        try:
            fees = pms.actual_fees(ref)
            before = _check(operate.get(f"/api/v1/public/workItem/{m['id']}/finance/fees"), "reading fees")
            after = _check(
                operate.put(
                    f"/api/v1/public/workItem/{m['id']}/finance/fees", json={"actualFees": str(fees.actual_fees)}
                ),
                f"sending fees for {ref}",
            )
            if after.get("lastAlert") != before.get("lastAlert"):
                report.alerts.append(f"{m['data']['reference']}: {after['lastAlert']} of estimate")
            report.updated.append(m["id"])
            percent = after.get("percentOfEstimate")
            share = f"{percent:g}% of estimate" if percent is not None else "no estimated fees to compare with"
            outcome = f"actual fees {fees.actual_fees} ({share})"
        except (PmsError, PushError) as exc:
            report.failed.append(f"{ref}: {exc}")
            outcome = f"FAILED: {exc}"
        say(f"[{i}/{len(linked)}] {m['data']['reference']} = {ref}: {outcome}")
    return report
