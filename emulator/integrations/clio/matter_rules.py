"""What a Clio matter needs to be imported (seed 000 and reference §12, "required fields"), said as the
reason a person reads when it is skipped, and what the sync writes on the Operate side when it has it."""

from __future__ import annotations

from typing import Any

from ...kernel.clock import parse_instant
from .settings import ClioSettings

INSTANTS = ("updated_at", "matter_stage_updated_at", "created_at")  # the matter's times Clio sends


class Skip(Exception):
    """This matter cannot be imported as it stands in Clio; the message is the reason a person reads."""


def wanted(
    matter: dict[str, Any],
    contacts: dict[int, dict[str, Any]],
    people: dict[str, dict[str, Any]],
    mapping: dict[str, dict[str, str]],
    settings: ClioSettings,
    types: Any,
) -> dict[str, Any]:
    """The Operate matter a Clio matter becomes (`types`: the work types, to find the mapped phase), or Skip
    with the first rule it breaks, checked in the order a person fixes them: number, times, practice area,
    stage, attorney, client."""
    number = matter.get("display_number")
    if not isinstance(number, str) or not number.strip():
        raise Skip("the matter has no display number")
    for name in INSTANTS:
        value = matter.get(name)
        if value is not None and not _is_instant(value):
            raise Skip(f"{name} {str(value)[:40]!r} is not a date and time Clio would send")
    description = _text(matter, "description")
    work_type = _work_type(matter, mapping["practiceAreas"], settings)
    stage, phase = _phase(matter, mapping["stages"], work_type, types)
    attorney = _attorney(matter, people, settings)
    client_id, contact = _client(matter, contacts)
    mobile = _mobile(contact, settings)
    email = _text(contact, "primary_email_address")
    if settings.client_contact == "mobile" and not mobile:
        raise Skip(f"client {contact.get('name') or client_id} has no mobile phone in Clio")
    if settings.client_contact == "email" and not email:
        raise Skip(f"client {contact.get('name') or client_id} has no e-mail address in Clio")
    return {
        "display_number": number.strip(),
        "title": (description or number).strip()[:400],
        "description": description,
        "work_type": work_type,
        "stage": stage,
        "phase": phase,
        "attorney": attorney,
        "contact": {**contact, "id": client_id},
        "mobile": mobile,
        "email": email,
        "status": _text(matter, "status"),
    }


def _text(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    return value if isinstance(value, str) else None


def _work_type(matter: dict[str, Any], areas: dict[str, str], settings: ClioSettings) -> str:
    """The work type the matter's practice area maps to; without a practice area (when one is not required),
    the first mapped type."""
    node = matter.get("practice_area")
    area = node.get("name") if isinstance(node, dict) else None
    work_type = areas.get(area) if area else None
    if work_type is not None:
        return work_type
    if settings.require_practice_area:
        if not area:
            raise Skip("the matter has no practice area")
        raise Skip(f"practice area {area!r} is not mapped to an Operate work type (Settings > Integrations)")
    first = next(iter(areas.values()), None)
    if first is None:
        raise Skip("no practice area is mapped to an Operate work type (Settings > Integrations)")
    return first


def _phase(matter: dict[str, Any], stages: dict[str, str], work_type: str, types: Any) -> tuple[Any, str | None]:
    """The matter's stage and the phase of `work_type` it maps to (neither when it has no stage)."""
    node = matter.get("matter_stage")
    stage = node.get("name") if isinstance(node, dict) else None
    if not stage:
        return stage, None
    phase = stages.get(stage)
    if phase is None:
        raise Skip(f"matter stage {stage!r} is not mapped to an Operate phase (Settings > Integrations)")
    if types.phase(work_type, phase) is None:
        raise Skip(f"stage {stage!r} maps to phase {phase!r}, which work type {work_type!r} does not have")
    return stage, phase


def _attorney(
    matter: dict[str, Any], people: dict[str, dict[str, Any]], settings: ClioSettings
) -> dict[str, Any] | None:
    """The Operate user the responsible attorney is, matched by e-mail."""
    lawyer = matter.get("responsible_attorney")
    attorney = None
    if isinstance(lawyer, dict) and isinstance(lawyer.get("email"), str):
        attorney = people.get(lawyer["email"].strip().lower())
    if attorney is None and settings.require_attorney:
        if not isinstance(lawyer, dict):
            raise Skip("the matter has no responsible attorney")
        raise Skip(
            f"responsible attorney {lawyer.get('name') or lawyer.get('id')} <{lawyer.get('email')}> "
            "is not an Operate user (matched by e-mail)"
        )
    return attorney


def _client(matter: dict[str, Any], contacts: dict[int, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The client's Clio id and its contact as the page's batched look-up found it (else the matter's
    reference to it)."""
    client_ref = matter.get("client")
    if not isinstance(client_ref, dict) or not isinstance(client_ref.get("id"), int):
        raise Skip("the matter has no client")
    return client_ref["id"], contacts.get(client_ref["id"]) or client_ref


def _mobile(contact: dict[str, Any], settings: ClioSettings) -> Any:
    """The first number of the client's phones whose name says it is a mobile."""
    return next(
        (
            p.get("number")
            for p in contact.get("phone_numbers") or []
            if isinstance(p, dict) and p.get("name") in settings.mobile_phone_names and p.get("number")
        ),
        None,
    )


def _is_instant(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_instant(value)
    except ValueError:
        return False
    return True
