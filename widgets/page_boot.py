"""What a widget page boots with: the page context, the widgets to place, a token for the signed-in user.

The host page (`static/host/operate-host.js`) turns this into the real portal's globals (`$ui.pageContext`,
`$ajax`, ...). Everything the real portal's shape leaves unknown comes from `portal-globals.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from emulator.kernel.jsonfile import JsonFileError, load

from .manifests import Manifest, ManifestError, WidgetManifests
from .modes import currency_for, localisation_for
from .portals import (
    Placement,
    PortalError,
    Viewer,
    column_for,
    parse_portal_document,
    placement_refusal,
    portal_for,
)

GLOBALS_FILE = Path(__file__).parent / "portal-globals.json"
SHAREDO_FILE = Path(__file__).parent / "sharedo-globals.json"  # the Sharedo namespace and stand-ins [inferred]
PORTAL_CLIENT = "operate-portal"  # the emulator's own client for portal pages (emulator/catalogue/security.json)


@lru_cache(maxsize=1)
def portal_globals() -> dict[str, Any]:
    return json.loads(GLOBALS_FILE.read_text("utf-8"))


@lru_cache(maxsize=1)
def sharedo_globals() -> dict[str, Any]:
    """The `Sharedo` namespace, its stand-in components and the proxied `$ui`/`$ajax` members, for the page.

    One data file, so an inferred name or shape is corrected in one place (sharedo-globals.js reads it).
    """
    return json.loads(SHAREDO_FILE.read_text("utf-8"))


def page_context(
    em: Any, user_name: str | None, work_item: Any | None, *, page: str = "widget-preview", modes: Any = None
) -> dict:
    """`$ui.pageContext` before ko-mapping: the user, the work item, localisation and currency; a page's
    modes (widgets/modes.py: `?locale=&currency=`) go over the solution's `[portal]` settings."""
    defaults = {k: v["value"] for k, v in portal_globals()["pageContext"].items()}
    overrides = {**em.solution.config.get("portal", {}), **(modes.portal_overrides() if modes else {})}
    currency_code, currency = _currency(defaults, overrides)
    person = em.identity.users.get(user_name.lower()) if user_name else None
    return {
        "sharedoId": work_item.id if work_item else None,
        "sharedoTypeSystemName": work_item.type if work_item else None,
        "sharedoTitle": work_item.title if work_item else None,
        "portalSystemName": defaults["portalSystemName"],
        "pageSystemName": page,
        "cspNonce": defaults["cspNonce"],
        "user": _context_user(person or {}),
        "localisation": _localisation(defaults, overrides),
        "currency": currency,
        "contextCurrencyCode": currency_code,
        "systemPermissions": _system_permissions(em, person),
    }


def _localisation(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The portal's localisation, with the solution's `portal.culture` / `portal.time_zone` over the defaults."""
    localisation = dict(defaults["localisation"])
    if overrides.get("culture"):
        localisation["defaultCultureCode"] = str(overrides["culture"])
        localisation.update(localisation_for(str(overrides["culture"])) or {})  # a known culture's date formats
    if overrides.get("time_zone"):
        localisation["defaultTimeZone"] = str(overrides["time_zone"])
    return localisation


def _currency(defaults: dict[str, Any], overrides: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(code, currency): the solution's `portal.currency` names a code; an unknown one is its own symbol."""
    currency_code = str(overrides.get("currency") or defaults["contextCurrencyCode"])
    currency = dict(defaults["currency"])
    if currency_code != currency["code"]:
        currency = currency_for(currency_code) or {
            "code": currency_code,
            "symbol": currency_code,
            "name": currency_code,
            "decimalPlaces": 2,
        }
    return currency_code, currency


def _system_permissions(em: Any, person: dict[str, Any] | None) -> list[str]:
    """The user's permissions, sorted; a `*` grant lists every permission the emulator knows."""
    if person is None:
        return []
    granted = em.identity.user_permissions(person)
    return sorted(em.identity.known_permissions if "*" in granted else granted)


def _context_user(person: dict[str, Any]) -> dict[str, Any]:
    """`pageContext.user` from the person's record; every member is None without a signed-in user."""
    first, last = person.get("firstName"), person.get("surname")
    return {
        "userid": person.get("id"),
        "username": person.get("userName"),
        "firstName": first,
        "lastName": last,
        "fullName": " ".join(x for x in (first, last) if x) or None,
        "organisationId": person.get("organisationId"),
        "personaSystemName": person.get("persona"),
    }


@dataclass
class Slot:
    """One widget on the page: its manifest (or why it cannot run), configuration and chrome."""

    key: str
    widget: str
    zone: str
    with_chrome: bool
    title: str | None
    icon: str | None
    configuration: dict[str, Any]
    manifest: Manifest | None
    problem: str | None = None  # shown in the widget's place: missing widget, bad configuration
    hidden: str | None = None  # a Require* rule keeps it off this viewer's page (listed, not rendered)

    @property
    def column(self) -> str:
        return column_for(self.zone)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "widget": self.widget,
            "zone": self.zone,
            "configuration": self.configuration,
            "manifest": self.manifest.to_json() if self.manifest else None,
            "problem": self.problem,
        }


def slot_for(widget_manifests: WidgetManifests, key: str, placement: Placement) -> Slot:
    manifest = widget_manifests.get(placement.widget)
    problem = placement.error
    config: dict[str, Any] = {}
    if manifest is None:
        problem = problem or f"widget {placement.widget!r} is not in the solution's _IDE folder or the built-ins"
    else:
        try:
            config = {**manifest.default_configuration(), **placement.configuration}
        except ManifestError as exc:
            problem = str(exc)
    return Slot(
        key=key,
        widget=placement.widget,
        zone=placement.zone,
        with_chrome=placement.with_chrome,
        title=placement.title or (manifest.title if manifest else placement.widget),
        icon=placement.icon or (manifest.icon if manifest else None),
        configuration=config,
        manifest=manifest,
        problem=problem,
    )


def portals(em: Any) -> tuple[list[Any], list[str]]:
    """Every portal in the solution's `portals/` folder, and the documents that failed (shown on the page)."""
    return solution_portals(em.solution)


def solution_portals(solution: Any) -> tuple[list[Any], list[str]]:
    """`portals` of one solution, for a page built with the solution rather than the emulator (the home page)."""
    found, errors = [], []
    for path in solution.portal_files:
        try:
            portals = parse_portal_document(load(path), str(path))
        except (PortalError, JsonFileError) as exc:
            errors.append(str(exc))
            continue
        except OSError as exc:
            errors.append(f"{path}: cannot read: {exc.strerror}")
            continue
        found += portals
        errors += [problem for portal in portals for problem in portal.problems]
    return found, errors


def portal_slots(
    em: Any, widget_manifests: WidgetManifests, work_item: Any, user_name: str | None, page_id: str | None = None
):
    """(portal, slots) for the work item's portal page as this user sees it; (None, []) without a portal."""
    found, _ = portals(em)
    person = em.identity.users.get(user_name.lower()) if user_name else None
    chain = em.solution.worktypes.ancestors(work_item.type) if work_item.type in em.solution.worktypes else []
    portal = portal_for(found, chain, (person or {}).get("persona"))
    if portal is None:
        return None, []
    viewer = Viewer(
        work_type_chain=chain,
        phase=work_item.phase,
        permissions=em.identity.user_permissions(person) if person else frozenset(),
        persona=(person or {}).get("persona"),
    )
    if page_id is not None and portal.find_page(page_id) is None:
        raise PortalError(f"portal {portal.title!r} has no page {page_id!r} (give a page's Id or PageSystemName)")
    slots = []
    for i, placement in enumerate(portal.placements(portal.find_page(page_id) if page_id else None)):
        slot = slot_for(widget_manifests, f"p{i}", placement)
        slot.hidden = placement_refusal(placement, viewer)
        slots.append(slot)
    return portal, slots
