"""Suppliers: the firm's payees, kept here and pushed to Operate, linked to Operate's ODS ids."""

from __future__ import annotations

from .records import (
    MAX_BOOK_ROWS,
    SUPPLIER_CATEGORIES,
    DemoPmsError,
    Supplier,
)


class SupplierBook:
    """DemoPmsBackend's suppliers: a part of the backend, working on its books under its lock."""

    def supplier(self, key: str, field_name: str = "supplierId") -> Supplier:
        """A supplier by PMS supplier id or the payee's Operate ODS id."""
        with self._lock:
            found = self.supplier_index.get(key) or next(
                (s for s in self.supplier_index.values() if s.operate_ods_id == key), None
            )
        if found is None:
            raise DemoPmsError(400, f"{field_name}: no supplier {key!r} (GET /api/suppliers lists them)", field_name)
        return found

    def suppliers(self) -> list[Supplier]:
        with self._lock:
            return sorted(self.supplier_index.values(), key=lambda s: s.supplier_id)

    def get_supplier(self, supplier_id: str) -> Supplier:
        missing = f"no supplier {supplier_id!r} (GET /api/suppliers lists them)"
        return self._found(self.supplier_index, supplier_id, missing)

    def save_supplier(
        self,
        supplier_id: str | None,
        *,
        name: str | None = None,
        category: str | None = None,
        vat_number: str | None = None,
        payment_terms_days: int | None = None,
    ) -> tuple[Supplier, bool]:
        """Create (no id) or change a supplier; suppliers are mastered here, so each change is queued for
        Operate (delivery.py). Returns (supplier, created); a change that changes nothing queues nothing."""
        if category is not None and category not in SUPPLIER_CATEGORIES:
            raise DemoPmsError(
                400, f"category must be one of {', '.join(SUPPLIER_CATEGORIES)}, not {category!r}", "category"
            )
        with self._lock:
            if supplier_id is None:
                if not name:
                    raise DemoPmsError(400, "name is required", "name")
                wanted = name.strip().lower()
                if any(s.name.lower() == wanted for s in self.supplier_index.values()):
                    raise DemoPmsError(409, f"a supplier named {name!r} exists already", "name")
                if len(self.supplier_index) >= MAX_BOOK_ROWS:
                    raise DemoPmsError(507, "the demo PMS holds no more suppliers; POST /_fake/reset to start again")
                number = len(self.supplier_index) + 1
                while f"SUP-{number:04d}" in self.supplier_index:
                    number += 1
                supplier = Supplier(
                    f"SUP-{number:04d}", name, category or "other", vat_number, None, payment_terms_days
                )
                self.supplier_index[supplier.supplier_id] = supplier
                self.outbox.queue("supplier", supplier.supplier_id)
                return supplier, True
            supplier = self.get_supplier(supplier_id)
            before = supplier.to_json()
            if name is not None:
                supplier.name = name
            if category is not None:
                supplier.category = category
            if vat_number is not None:
                supplier.vat_number = vat_number
            if payment_terms_days is not None:
                supplier.payment_terms_days = payment_terms_days
            if supplier.to_json() != before:
                self.outbox.queue("supplier", supplier.supplier_id)
            return supplier, False

    def link_supplier(self, supplier_id: str, ods_id: str) -> Supplier:
        with self._lock:
            supplier = self.get_supplier(supplier_id)
            supplier.operate_ods_id = ods_id
            return supplier

    # --- matters -----------------------------------------------------------------------------
