"""Matters and contacts: creating, changing (If-Match), deleting them and moving a matter's stage."""

from __future__ import annotations

import copy
from typing import Any

from ....clio.errors import ClioError
from .. import seed
from .rules import (
    CONTACT_FIELDS,
    MATTER_CREATE_FIELDS,
    _day,
    _flag,
    _only,
    _text,
)

# The lists a contact's create or update may send: (key, the field holding the value, the names it may have).
CONTACT_LISTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("phone_numbers", "number", ("Work", "Home", "Mobile", "Fax", "Pager", "Skype", "Other")),
    ("email_addresses", "address", ("Work", "Home", "Other")),
)


class MatterRecords:
    """ClioBackend's matters and contacts: a part of the backend, working on its records under its lock."""

    def update_matter(self, matter_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """§4.5: status in lowercase, stage of the matter's practice area [inferred: 422 otherwise],
        description; `If-Match` guards it (412). etag and updated_at move on every change."""
        _only(data, ("status", "matter_stage", "description"), "matter", "a matter's update")
        return self._patch("matters", matter_id, data, if_match, "matter", self._changed_matter)

    def _changed_matter(self, matter: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        changed = dict(matter)
        if "status" in data:
            status = data["status"]
            if status not in ("open", "pending", "closed"):
                raise ClioError(422, "status must be one of open, pending, closed", "ValidationError")
            changed["status"] = status.capitalize()
            date_field = {"open": "open_date", "pending": "pending_date", "closed": "close_date"}[status]
            changed[date_field] = changed.get(date_field) or now.date().isoformat()  # [inferred]
        if "matter_stage" in data:
            stage = data["matter_stage"]
            if stage is None:
                changed["matter_stage"] = None
            else:
                stage_id = stage.get("id") if isinstance(stage, dict) else None
                found = self.matter_stages.get(stage_id) if isinstance(stage_id, int) else None
                area = (matter.get("practice_area") or {}).get("id")
                if found is None:
                    raise ClioError(422, f"matter_stage {stage_id!r} does not exist", "ValidationError")
                if str(area) != str(found["practice_area_id"]):
                    raise ClioError(422, "matter_stage belongs to another practice area", "ValidationError")
                changed["matter_stage"] = {"id": found["id"]}
            changed["matter_stage_updated_at"] = seed.stamp(now)
        if "description" in data:
            if not isinstance(data["description"], str) or not data["description"].strip():
                raise ClioError(422, "description can't be blank", "ValidationError")
            changed["description"] = data["description"]
        changed["updated_at"] = seed.stamp(now)
        return changed

    def create_matter(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """POST /matters: `client{id}` and `description` are required (the document's create body); `status`
        lowercase (default open) fills its date; practice area, stage (of that area), responsible attorney."""
        _only(data, MATTER_CREATE_FIELDS, "matter", "a matter")
        description = _text(data, "description", required=True)
        status = data.get("status") or "open"
        if status not in ("open", "pending", "closed"):
            raise ClioError(422, "data.status must be one of open, pending, closed", "ValidationError")
        with self.lock:
            if data.get("client") is None:
                raise ClioError(422, "data.client is required", "ValidationError")
            client = self._ref(data.get("client"), "contacts", "data.client")
            area = self._ref(data.get("practice_area"), "practice_areas", "data.practice_area")
            stage = self._ref(data.get("matter_stage"), "matter_stages", "data.matter_stage")
            if stage is not None and (
                area is None or self.matter_stages[stage["id"]]["practice_area_id"] != str(area["id"])
            ):
                raise ClioError(422, "data.matter_stage must be a stage of data.practice_area", "ValidationError")
            attorney = self._ref(data.get("responsible_attorney"), "users", "data.responsible_attorney")
            now = self.clock.now()
            number = max((m["number"] for m in self.matters.values()), default=0) + 1
            contact = self.contacts[client["id"]]
            display = _text(data, "display_number") or f"{number:05d}-{contact.get('last_name') or contact['name']}"
            record = {
                "id": max(self.matters, default=seed.FIRST_ID["matters"] - 1) + 1,
                "number": number,
                "display_number": display,
                "description": description,
                "status": status.capitalize(),
                "open_date": None,
                "pending_date": None,
                "close_date": None,
                "client_reference": _text(data, "client_reference"),
                "billable": _flag(data, "billable", default=True),
                "billing_method": "hourly",
                "client": client,
                "practice_area": area,
                "matter_stage": stage,
                "responsible_attorney": attorney,
                "matter_stage_updated_at": seed.stamp(now) if stage else None,
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
            }
            date_field = {"open": "open_date", "pending": "pending_date", "closed": "close_date"}[status]
            record[date_field] = _day(data, date_field) or now.date().isoformat()
            self._save("matters", record, None)
            return record

    def delete_matter(self, matter_id: int) -> None:
        """DELETE /matters/{id}: [inferred] a matter on a bill cannot be deleted (403, the one refusal the document
        lists); otherwise its activities, communications and documents go with it."""
        with self.lock:
            matter = self.find("matters", matter_id)
            if any(any(m["id"] == matter_id for m in b["matters"]) for b in self.bills.values()):
                raise ClioError(403, f"Matter {matter_id} has bills and cannot be deleted", "Forbidden")
            for name in ("activities", "communications", "documents"):
                for record in [r for r in self.collection(name).values() if (r["matter"] or {}).get("id") == matter_id]:
                    self._remove(name, record)
            self._remove("matters", matter)

    def set_stage(self, matter_id: int, stage_name: str) -> dict[str, Any]:
        """Library mode: move a matter to its practice area's stage called `stage_name` (as a firm would in Clio)."""
        matter = self.find("matters", matter_id)
        area = (matter.get("practice_area") or {}).get("id")
        stage = next(
            (
                s
                for s in self.matter_stages.values()
                if s["name"] == stage_name and str(s["practice_area_id"]) == str(area)
            ),
            None,
        )
        if stage is None:
            raise KeyError(f"practice area {area} has no stage {stage_name!r}")
        return self.update_matter(matter_id, {"matter_stage": {"id": stage["id"]}}, None)

    def create_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        """POST /contacts: `name` and `type` (Person or Company) are required (the document's create body)."""
        _only(data, CONTACT_FIELDS, "contact", "a contact")
        kind = data.get("type")
        if kind not in ("Person", "Company"):
            raise ClioError(422, "data.type must be Person or Company", "ValidationError")
        name = _text(data, "name", required=True)
        with self.lock:
            now = seed.stamp(self.clock.now())
            record: dict[str, Any] = {
                "id": max(self.contacts, default=seed.FIRST_ID["contacts"] - 1) + 1,
                "name": name,
                "first_name": None,
                "last_name": None,
                "type": kind,
                "is_client": False,
                "primary_email_address": None,
                "primary_phone_number": None,
                "phone_numbers": [],
                "email_addresses": [],
                "created_at": now,
                "updated_at": now,
            }
            self._contact_fields(record, data, now)
            self._save("contacts", record, None)
            return record

    def update_contact(self, contact_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        _only(data, CONTACT_FIELDS, "contact", "a contact")
        return self._patch("contacts", contact_id, data, if_match, "contact", self._changed_contact)

    def _changed_contact(self, contact: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(contact)
        now = seed.stamp(self.clock.now())
        if data.get("type") is not None:
            if data["type"] not in ("Person", "Company"):
                raise ClioError(422, "data.type must be Person or Company", "ValidationError")
            changed["type"] = data["type"]
        if data.get("name") is not None:
            changed["name"] = _text(data, "name", required=True)
        self._contact_fields(changed, data, now)
        changed["updated_at"] = now
        return changed

    def _contact_fields(self, record: dict[str, Any], data: dict[str, Any], now: str) -> None:
        """A person's names, and the phone numbers and e-mail addresses a create or update sends (others the
        document lists are taken and not kept)."""
        for name in ("first_name", "last_name"):
            if name in data:
                record[name] = _text(data, name)
        for key, value_key, names in CONTACT_LISTS:
            raw = data.get(key)
            if raw is None:
                continue
            if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
                raise ClioError(422, f"data.{key} must be a list of objects", "ValidationError")
            items = [self._contact_item(item, key, value_key, names, now) for item in raw]
            if items and not any(i["primary"] for i in items):
                items[0]["primary"] = True
            record[key] = items
            primary = next((i[value_key] for i in items if i["primary"]), None)
            record["primary_phone_number" if key == "phone_numbers" else "primary_email_address"] = primary

    def _contact_item(
        self, item: dict[str, Any], key: str, value_key: str, names: tuple[str, ...], now: str
    ) -> dict[str, Any]:
        """One phone number or e-mail address as the contact keeps it: its own id, the name Clio files it
        under (a phone number is Work, Personal or Other) and whether it is the primary one."""
        value = item.get(value_key)
        if not isinstance(value, str) or not value.strip():
            raise ClioError(422, f"data.{key}: each needs a {value_key}", "ValidationError")
        if item.get("name") is not None and item.get("name") not in names:
            raise ClioError(422, f"data.{key}: name must be one of {', '.join(names)}", "ValidationError")
        label = item.get("name") or names[-1]
        if key == "phone_numbers":
            kept = "Personal" if label in ("Home", "Mobile") else label
            label = kept if kept in ("Work", "Personal") else "Other"
        return {"id": self._new_id("external_properties"), "etag": '"x"', value_key: value, "name": label,
                "primary": item.get("default_number", item.get("default_email")) is True,
                "created_at": now, "updated_at": now}  # fmt: skip

    def delete_contact(self, contact_id: int) -> None:
        """DELETE /contacts/{id}: [inferred] the client of a matter or a bill cannot be deleted (403)."""
        with self.lock:
            contact = self.find("contacts", contact_id)
            if any(m["client"]["id"] == contact_id for m in self.matters.values()) or any(
                b["client"]["id"] == contact_id for b in self.bills.values()
            ):
                raise ClioError(
                    403, f"Contact {contact_id} is the client of a matter and cannot be deleted", "Forbidden"
                )
            self._remove("contacts", contact)
