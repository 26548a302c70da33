"""Portal definitions: which widgets a work item's portal page shows, in which zone, with what chrome.

The documents are the real export's `data/portal-worktype-*.json` (`Portals`, `Pages`, `PortalWidgets`,
`Widgets`; operate-surface.md §6.3), kept as they are in a solution's `portals/` folder. How the
`Require*` and `Must*` columns are evaluated is not documented; the rules in `placement_refusal`
are [inferred] and kept there, in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from emulator.kernel.jsonfile import get_ci

# Zones seen in real exports [C] (and the demo's `middle`), in the order a page lays them out within its
# column (column_for); an unknown zone sorts with "middle".
ZONES = (
    "top-menu", "top", "above-radar", "above-nav", "nav", "left-top", "left-1", "centre-top",
    "middle-top", "middle", "middle-bottom", "bottom", "right", "right-1",
)  # fmt: skip


def strict_json(text: str) -> Any:
    """JSON as the browser reads it: NaN and Infinity are not JSON (Python would let them through)."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def column_for(zone: str) -> str:
    """Where a zone sits on the page, as a portal lays it out: across the top, left, right or centre."""
    z = zone.lower()
    if z in ("top-menu", "top") or z.startswith("top-"):
        return "top"
    if z in ("above-nav", "nav") or z.startswith("left"):
        return "left"
    if z.startswith("right"):
        return "right"
    return "centre"


def truthy(value: Any) -> bool:
    """A flag as exports write it: true/false, or "true"/"false" strings, or 0/1."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class PortalError(ValueError):
    """A portal document that cannot be used; says which file and which row."""


@dataclass
class Placement:
    """One widget row: a widget id placed in a zone, with the designer's chrome settings."""

    id: str
    widget: str
    zone: str
    order: int
    with_chrome: bool
    title: str | None
    icon: str | None
    configuration: dict[str, Any]
    row: dict[str, Any] = field(repr=False)
    source: str = ""
    error: str | None = None  # ConfigurationJson that does not parse: shown on the page, not raised

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "widget": self.widget,
            "zone": self.zone,
            "withChrome": self.with_chrome,
            "title": self.title,
            "icon": self.icon,
            "configuration": self.configuration,
        }


@dataclass
class Portal:
    id: str
    work_type: str
    title: str
    row: dict[str, Any]
    pages: list[dict[str, Any]]
    master: list[Placement]  # PortalWidgets: on every page of the portal
    by_page: dict[str | None, list[Placement]]  # Widgets, keyed by PortalPageId (None: not on a page)
    source: str
    problems: list[str] = field(default_factory=list)  # rows that cannot be placed, shown on the page

    def page_ids(self) -> list[str]:
        ordered = sorted(self.pages, key=lambda p: _int(get_ci(p, "DisplayOrder")))
        return [str(get_ci(p, "Id")) for p in ordered if get_ci(p, "Id") is not None]

    def landing_page(self) -> str | None:
        """The page a work item opens on: `default` [inferred from a real export, where it is the matter
        dashboard], else the first page that is not a nav group (groups have no PageSystemName)."""
        ordered = sorted(self.pages, key=lambda p: _int(get_ci(p, "DisplayOrder")))
        for page in ordered:
            if get_ci(page, "PageSystemName") == "default":
                return str(get_ci(page, "Id"))
        named = [p for p in ordered if get_ci(p, "PageSystemName")]
        return str(get_ci(named[0], "Id")) if named else (self.page_ids() or [None])[0]

    def find_page(self, key: str) -> str | None:
        """A page by its Id or its PageSystemName."""
        for page in self.pages:
            if key in (str(get_ci(page, "Id")), get_ci(page, "PageSystemName")):
                return str(get_ci(page, "Id"))
        return None

    def placements(self, page_id: str | None = None) -> list[Placement]:
        """The master widgets plus one page's (the landing page when none is named), and rows on no page."""
        chosen = page_id if page_id is not None else self.landing_page()
        rows = [*self.master, *self.by_page.get(None, [])]
        if chosen is not None:
            rows += self.by_page.get(chosen, [])
        return sorted(rows, key=lambda p: (_zone_rank(p.zone), p.order))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _zone_rank(zone: str) -> int:
    return ZONES.index(zone) if zone in ZONES else ZONES.index("middle")


def names(value: Any) -> list[str]:
    """A `*List` column: null, "", "a,b", a JSON array in a string, or an array."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                return [text]
        else:
            return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _placement(row: Any, where: str) -> Placement:
    if not isinstance(row, dict):
        raise PortalError(f"{where}: a widget row is a JSON object")
    widget = get_ci(row, "Widget")
    if not isinstance(widget, str) or not widget.strip():
        raise PortalError(f"{where}: the row needs Widget (the widget's id)")
    error = None
    config: Any = get_ci(row, "ConfigurationJson")
    if isinstance(config, str):
        try:
            config = strict_json(config) if config.strip() else {}
        except ValueError as exc:
            error = f"{where}: ConfigurationJson is not JSON ({exc})"
            config = {}
    if config is None:
        config = {}
    if not isinstance(config, dict):
        error = f"{where}: ConfigurationJson must be a JSON object"
        config = {}
    return Placement(
        id=str(get_ci(row, "Id") or where),
        widget=widget.strip(),
        zone=str(get_ci(row, "Zone") or "middle").strip(),
        order=_int(get_ci(row, "DisplayOrder")),
        with_chrome=truthy(get_ci(row, "WithChrome")),
        title=get_ci(row, "Title"),
        icon=get_ci(row, "Icon"),
        configuration=config,
        row=row,
        source=where,
        error=error,
    )


def _rows(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    value = get_ci(doc, key) or []
    if not isinstance(value, list):
        raise PortalError(f"{source}: {key} must be an array")
    return value


def parse_portal_document(doc: Any, source: str) -> list[Portal]:
    """One `portal-worktype-*.json`: its portals with their pages and widget rows."""
    if not isinstance(doc, dict):
        raise PortalError(f"{source}: a portal document is a JSON object with Portals, Pages and Widgets")
    portals = _portals(doc, source)
    by_id = {p.id: p for p in portals}
    only = portals[0] if len(portals) == 1 else None
    page_owner = _attach_pages(doc, source, by_id, only)
    _attach_master_rows(doc, source, by_id, only)
    _attach_page_rows(doc, source, by_id, only, page_owner)
    return portals


def _portals(doc: dict[str, Any], source: str) -> list[Portal]:
    """The document's `Portals` rows, each an empty portal the pages and widget rows then join."""
    portals_rows = _rows(doc, "Portals", source)
    if not portals_rows:
        raise PortalError(f"{source}: Portals is empty")
    portals: list[Portal] = []
    for i, row in enumerate(portals_rows):
        if not isinstance(row, dict) or not get_ci(row, "SharedoTypeSystemName"):
            raise PortalError(f"{source}: Portals[{i}] needs SharedoTypeSystemName")
        portals.append(
            Portal(
                id=str(get_ci(row, "Id") or f"{source}#{i}"),
                work_type=str(get_ci(row, "SharedoTypeSystemName")),
                title=str(get_ci(row, "Title") or get_ci(row, "SharedoTypeSystemName")),
                row=row,
                pages=[],
                master=[],
                by_page={},
                source=source,
            )
        )
    return portals


def _attach_pages(doc: dict[str, Any], source: str, by_id: dict[str, Portal], only: Portal | None) -> dict[str, Portal]:
    """Each `Pages` row joins its portal (by PortalId, or the only portal); returns page Id -> portal."""
    page_owner: dict[str, Portal] = {}
    for i, page in enumerate(_rows(doc, "Pages", source)):
        if not isinstance(page, dict):
            raise PortalError(f"{source}: Pages[{i}] is not an object")
        owner = by_id.get(str(get_ci(page, "PortalId"))) or only
        if owner is None:
            raise PortalError(f"{source}: Pages[{i}] names PortalId {get_ci(page, 'PortalId')!r}, not in Portals")
        owner.pages.append(page)
        page_owner[str(get_ci(page, "Id"))] = owner
    return page_owner


def _attach_master_rows(doc: dict[str, Any], source: str, by_id: dict[str, Portal], only: Portal | None) -> None:
    """`PortalWidgets` rows: placed on every page of their portal (the master page)."""
    for i, row in enumerate(_rows(doc, "PortalWidgets", source)):
        placement = _placement(row, f"{source}: PortalWidgets[{i}]")
        owner = by_id.get(str(get_ci(row, "PortalId"))) or only
        if owner is None:
            raise PortalError(f"{source}: PortalWidgets[{i}] names PortalId {get_ci(row, 'PortalId')!r}")
        owner.master.append(placement)


def _attach_page_rows(
    doc: dict[str, Any],
    source: str,
    by_id: dict[str, Portal],
    only: Portal | None,
    page_owner: dict[str, Portal],
) -> None:
    """`Widgets` rows: placed on one page; a row naming an unknown page is a problem shown on the portal."""
    for i, row in enumerate(_rows(doc, "Widgets", source)):
        placement = _placement(row, f"{source}: Widgets[{i}]")
        page_id = get_ci(row, "PortalPageId")
        page_id = str(page_id) if page_id is not None else None
        owner = page_owner.get(page_id) if page_id is not None else None
        owner = owner or by_id.get(str(get_ci(row, "PortalId"))) or only
        if owner is None:
            raise PortalError(f"{source}: Widgets[{i}] is on no known page or portal")
        if page_id is not None and page_id not in page_owner:
            owner.problems.append(f"{source}: Widgets[{i}] ({placement.widget}): no page has Id {page_id!r}")
            continue
        owner.by_page.setdefault(page_id, []).append(placement)


@dataclass
class Viewer:
    """What the `Require*` rules look at: the work item and the signed-in user."""

    work_type_chain: list[str]  # the work item's type first, then its ancestors
    phase: str
    permissions: frozenset[str]
    persona: str | None


def placement_refusal(placement: Placement, viewer: Viewer) -> str | None:
    """Why a placed widget is not shown to this viewer, or None. [inferred] rules:
    RequirePermission is a permission the user holds; RequirePhaseList the work item's phase;
    RequirePersonaList the user's persona; MustBeTypesList / MustNotBeTypesList name exact types;
    MustBeSubTypesList / MustNotBeSubTypesList a type or any type derived from it. Features are not
    emulated, so RequireFeature always holds (the page says so)."""
    row = placement.row
    for permission in names(get_ci(row, "RequirePermission")):
        if "*" not in viewer.permissions and permission not in viewer.permissions:
            return f"needs the permission {permission!r}"
    phases = names(get_ci(row, "RequirePhaseList"))
    if phases and viewer.phase not in phases:
        return f"shown only in phase {', '.join(phases)}"
    personas = names(get_ci(row, "RequirePersonaList"))
    if personas and viewer.persona not in personas:
        return f"shown only to persona {', '.join(personas)}"
    own = viewer.work_type_chain[0] if viewer.work_type_chain else ""
    must = names(get_ci(row, "MustBeTypesList"))
    if must and own not in must:
        return f"shown only on type {', '.join(must)}"
    if own in names(get_ci(row, "MustNotBeTypesList")):
        return f"not shown on type {own}"
    sub = names(get_ci(row, "MustBeSubTypesList"))
    if sub and not set(sub) & set(viewer.work_type_chain):
        return f"shown only on types derived from {', '.join(sub)}"
    not_sub = set(names(get_ci(row, "MustNotBeSubTypesList"))) & set(viewer.work_type_chain)
    if not_sub:
        return f"not shown on types derived from {', '.join(sorted(not_sub))}"
    return None


def portal_for(portals: list[Portal], work_type_chain: list[str], persona: str | None = None) -> Portal | None:
    """The portal of the nearest type in the chain (own type first) that the persona may use."""
    for work_type in work_type_chain:
        for portal in portals:
            if portal.work_type != work_type:
                continue
            allowed = names(get_ci(portal.row, "ForPersonaList"))
            if allowed and persona not in allowed:
                continue
            return portal
    return None
