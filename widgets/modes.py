"""Modes a widget page renders in: the portal's culture, its currency, and the browser's viewport.

Storybook renders one story in several modes; here a scenario's page does, from three query parameters
(`?locale=fr-FR&currency=EUR&viewport=phone`) that the gallery offers as toggles and the `widget_page` /
`portal_page` fixtures take as arguments. Culture and currency reach the widget the way the real portal
gives them, in `$ui.pageContext` (`localisation.defaultCultureCode`, `currency`, `contextCurrencyCode`),
so a widget that formats from the page context shows `1 647,50 €` in fr-FR with EUR and needs no change.
What each mode holds is data, in `modes.json`: a culture's date formats and a currency's members are
*inferred*, the viewport sizes are the harness's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

MODES_FILE = Path(__file__).parent / "modes.json"
KINDS = {"locale": "locales", "currency": "currencies", "viewport": "viewports"}  # query parameter -> section


class ModeError(ValueError):
    """A mode this harness does not know: names the parameter, the value and what it may be."""


@lru_cache(maxsize=1)
def mode_data() -> dict[str, Any]:
    return json.loads(MODES_FILE.read_text("utf-8"))


def names(kind: str) -> list[str]:
    """The known values of one mode (`locale`, `currency`, `viewport`), in the data file's order."""
    return list(mode_data()[KINDS[kind]])


def check(kind: str, value: str | None) -> str | None:
    """`value` when it is a known mode of that kind (None and "" mean the default), else a ModeError."""
    if value in (None, ""):
        return None
    if value not in mode_data()[KINDS[kind]]:
        raise ModeError(
            f"{kind} must be one of {', '.join(names(kind))}, not {str(value)[:40]!r} "
            f"(the modes are in widgets/modes.json)"
        )
    return value


@dataclass(frozen=True)
class Modes:
    """The modes chosen for one page; None is the default (the solution's [portal] settings, 1280 × 900)."""

    locale: str | None = None
    currency: str | None = None
    viewport: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Modes:
        return cls(**{kind: check(kind, args.get(kind)) for kind in KINDS})

    def to_json(self) -> dict[str, str]:
        """The chosen modes only, as the page's query names them (for the boot data and snapshot names)."""
        return {kind: value for kind in KINDS if (value := getattr(self, kind))}

    def portal_overrides(self) -> dict[str, str]:
        """What the modes put over operate.toml's `[portal]` settings for this page."""
        return {k: v for k, v in (("culture", self.locale), ("currency", self.currency)) if v}

    def viewport_size(self) -> dict[str, int] | None:
        return viewport_size(self.viewport) if self.viewport else None


def viewport_size(name: str) -> dict[str, int]:
    """{width, height} of a named viewport, as Playwright's `set_viewport_size` takes it."""
    found = mode_data()["viewports"][check("viewport", name)]
    return {"width": int(found["width"]), "height": int(found["height"])}


def localisation_for(culture: str) -> dict[str, Any] | None:
    """A known culture's `localisation` members (code and date formats), None for one modes.json lacks."""
    found = mode_data()["locales"].get(culture)
    return dict(found["localisation"]) if found else None


def currency_for(code: str) -> dict[str, Any] | None:
    """A known currency's `pageContext.currency`, None for one modes.json lacks."""
    found = mode_data()["currencies"].get(code)
    return dict(found["currency"]) if found else None


def choices() -> dict[str, Any]:
    """(value, label) per mode, for the gallery's and the page's toggles, and each viewport's size."""
    data = mode_data()
    return {
        "locale": [(k, f"{k} · {v['label']}") for k, v in data["locales"].items()],
        "currency": [(k, f"{k} {v['currency']['symbol']}") for k, v in data["currencies"].items()],
        "viewport": [(k, v["label"]) for k, v in data["viewports"].items()],
        "viewport_sizes": {k: viewport_size(k) for k in data["viewports"]},
    }


def prepare(page: Any, *, locale: str | None, currency: str | None, viewport: str | None) -> Any:
    """The fixtures' part: check the modes before the page opens (a typo fails here, by name) and size the
    tab's viewport, so the page is laid out in its mode before it is reported bound. Returns the page."""
    modes = Modes(check("locale", locale), check("currency", currency), check("viewport", viewport))
    size = modes.viewport_size()
    if size:
        page.page.set_viewport_size(size)
    page.modes = modes.to_json()
    return page
