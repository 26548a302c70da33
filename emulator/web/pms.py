"""Practice management systems: each linked service (never its credentials), its recent calls through
the proxy (status, time, caller), and for the demo PMS its books and its fault switches."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Response, redirect, request

from pms_adapters.fakes.demo_pms.models import PRACTICE_AREAS, SUPPLIER_CATEGORIES, DemoPmsError

from .acting import action, back, current_user
from .frame import PageGroup, Refused, note, refuse, render_page, requested_page
from .labels import field_label, is_guid, is_instant, short_id
from .session import current_principal

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from ..kernel.store import Store
    from ..linked_services import LinkedServices, ProxyLog

BOOK_ROWS = 200  # rows of each book the page lists (the newest matters first)
CALLS_ON_LIST = 10
FAULT_PERMISSION = "emulator.control"


class _Refused(Exception):
    """What an action on the demo PMS refuses with (status and reason), shown as an error note on its page."""


def _typed(field: str) -> str | None:
    """A text field of the form as typed, without the spaces around it; None when left empty, which the demo PMS
    reads as "not given" (its own default), as the forms that open a matter and add a supplier both need."""
    return request.form.get(field, "").strip() or None


def _may_set_faults() -> str | None:
    """Why the signed-in user may not switch faults, or None."""
    principal = current_principal()
    if principal is None or not principal.has(FAULT_PERMISSION):
        return (
            f"{current_user()} lacks the permission {FAULT_PERMISSION!r}, which switching the demo PMS's faults needs"
        )
    return None


def pages(store: Store, proxy_log: ProxyLog, linked_services: LinkedServices) -> PageGroup:
    """The PMS pages over `linked_services` (the services and the demo PMS backends the emulator serves),
    `proxy_log` (their calls through the proxy) and `store` (the calls of every service read at one moment)."""
    bp = PageGroup("pms")

    def act_on(name: str, act: Callable[[Any], str], *, switches_faults: bool = False) -> Response:
        """Every form on a demo PMS's page: `act` on its backend, then back to the page with what `act` says.
        A name the emulator serves no demo PMS under is a 404 page; a user without FAULT_PERMISSION who would
        switch faults, a _Refused or the PMS's own DemoPmsError an error note naming the status."""
        backend = linked_services.fakes.get(name)
        if backend is None:
            raise Refused(404, f"{name[:80]!r} is not a demo PMS served by the emulator: it has no fault switches")
        where = back(f"/pms/{name}")
        refused = _may_set_faults() if switches_faults else None
        if refused:
            return note(redirect(where, 303), f"403: {refused}", "error")
        try:
            done = act(backend)
        except _Refused as exc:
            return note(redirect(where, 303), str(exc), "error")
        except DemoPmsError as exc:
            return note(redirect(where, 303), f"{exc.status}: {exc.message}", "error")
        return note(redirect(where, 303), done)

    @bp.page("/pms", nav="PMS", order=60)
    def services():
        with store.read():  # every service's calls read in one breath
            recent = {name: proxy_log.page(name, 1, CALLS_ON_LIST).rows for name in linked_services.services}
        return render_page(
            "pms.html",
            "PMS",
            services=sorted(linked_services.services.values(), key=lambda s: s.name),
            fakes=linked_services.fakes,
            recent=recent,
        )

    @bp.page("/pms/<name>")
    def service(name: str):
        found = linked_services.services.get(name)
        if found is None:
            known = ", ".join(sorted(linked_services.services)) or "none"
            return refuse(404, f"no linked service {name[:80]!r}; configured: {known}")
        page = requested_page()
        calls = proxy_log.page(name, page, 50)
        backend = linked_services.fakes.get(name)
        books = None
        if backend is not None:
            books = {
                "matters": list(reversed(backend.matters_json()))[:BOOK_ROWS],
                "clients": backend.clients_json()[:BOOK_ROWS],
                "fee earners": backend.fee_earners_json()[:BOOK_ROWS],
                "suppliers": backend.suppliers_json()[:BOOK_ROWS],
            }
        return render_page(
            "pms_service.html",
            name,
            service=found,
            calls=calls,
            backend=backend,
            books=books,
            faults=[f.to_json() for f in backend.faults()] if backend is not None else [],
            deliveries=list(reversed([d.to_json() for d in backend.outbox.all()]))[:BOOK_ROWS] if backend else [],
            practice_areas=PRACTICE_AREAS,
            supplier_categories=SUPPLIER_CATEGORIES,
            field_label=field_label,
            is_guid=is_guid,
            short_id=short_id,
            is_instant=is_instant,
        )

    @bp.post("/pms/<name>/faults")
    @action
    def add_fault(name: str):
        def switch_on(backend: Any) -> str:
            form = request.form
            try:
                status = int(form["status"]) if form.get("status") else None
                delay = float(form["delaySeconds"]) if form.get("delaySeconds") else None
                times = int(form["times"]) if form.get("times") else None
            except ValueError:
                raise _Refused("400: status and times are whole numbers, delaySeconds a number") from None
            fault = backend.add_fault(
                form.get("route", ""),
                form.get("method") or "*",
                delay=delay,
                status=status,
                malformed=form.get("malformed") == "1",
                times=times,
            )
            return f"fault {fault.fault_id} on {fault.method} {fault.route} is on"

        return act_on(name, switch_on, switches_faults=True)

    @bp.post("/pms/<name>/faults/clear")
    @action
    def clear_faults(name: str):
        def switch_off(backend: Any) -> str:
            backend.clear_faults()
            return "every fault is off"

        return act_on(name, switch_off, switches_faults=True)

    # -- acting in the demo PMS as one of its own users: its delivery worker then tells Operate ---------------

    @bp.post("/pms/<name>/matters")
    @action
    def open_matter(name: str):
        """Open a matter in the PMS itself (no Operate id): the PMS's worker sends it to Operate on the clock."""

        def incept(backend: Any) -> str:
            matter = backend.incept_matter(
                title=_typed("title") or "",
                fee_earner=_typed("feeEarner") or "",
                client_id=_typed("clientId"),
                client_name=_typed("clientName"),
                practice_area=request.form.get("practiceArea") or None,
                billing_arrangements=_typed("billingArrangements"),
            )
            return f"opened {matter.reference} in the PMS; its worker sends it to Operate within a minute on the clock"

        return act_on(name, incept)

    @bp.post("/pms/<name>/suppliers")
    @action
    def add_supplier(name: str):
        def save(backend: Any) -> str:
            supplier, _ = backend.save_supplier(
                None, name=_typed("name"), category=request.form.get("category") or None, vat_number=_typed("vatNumber")
            )
            return f"added {supplier.supplier_id} in the PMS; its worker sends it to Operate"

        return act_on(name, save)

    @bp.post("/pms/<name>/deliveries/<delivery_id>/retry")
    @action
    def retry_delivery(name: str, delivery_id: str):
        def retry(backend: Any) -> str:
            try:
                item = backend.outbox.retry(delivery_id)
            except KeyError:
                raise _Refused(f"404: no delivery {delivery_id[:80]!r}") from None
            return f"{item.delivery_id} is {item.state}: the worker sends it on its next run"

        return act_on(name, retry)

    return bp
