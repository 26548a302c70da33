"""Work-item references made the way a work type's `ReferenceGenerator` says (real export shape).

[C] A real export (sharedo-tech/forum2024-02-S3 "Demo 01") holds, per work type,
`ReferenceGenerator{SystemName, Mode: "generator", GeneratorSystemName: "core-configurable-reference",
GeneratorConfig, UserEditable, ...}` (or null), where `GeneratorConfig` is a JSON *string* such as
`{"formatMask": "{shortname}.{createddate}.{sequence}", "loadSharedoType": {"defaultShortNameIfNotSet": null},
"useSequence": {"zeroPadToMinimumCharacters": 5}, "loadCreatedDate": {"format": "yy"}}` or
`{"loadSharedoType": {}, "formatMask": "{typename}/{sequence}", "useSequence": {"zeroPadToMinimumCharacters": 8}}`.

[I] What the tokens mean is not published; this module is the one place that reads them:
- `{shortname}`: the item's work type `BaseSharedo.ShortName`, else `defaultShortNameIfNotSet`, else empty;
- `{typename}`: the item's work type `BaseSharedo.Name`;
- `{createddate}`: the creation instant (UTC) in `loadCreatedDate.format`, a .NET custom date format
  (yyyy yy MM M dd d HH H mm ss); default `yyyyMMdd`;
- `{sequence}`: the next number of one counter per generator (the work type that declares it),
  zero-padded to `zeroPadToMinimumCharacters`;
- any other `{token}` is kept as written; tokens are matched ignoring letter case;
- a type without its own generator uses its nearest ancestor's (an abstract `matter` declares the
  generator its concrete derived types use), sharing that ancestor's sequence.
Other generators (`GeneratorSystemName`) or modes are not emulated: the caller falls back to its own scheme.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..kernel.jsonfile import get_ci

CONFIGURABLE_REFERENCE = "core-configurable-reference"
GENERATOR_MODE = "generator"
DEFAULT_DATE_FORMAT = "yyyyMMdd"

_TOKEN = re.compile(r"\{([A-Za-z]+)\}")
_DATE_PART = re.compile(r"yyyy|yy|MM|M|dd|d|HH|H|mm|ss")


class ReferenceGeneratorError(ValueError):
    """A ReferenceGenerator the emulator would use is malformed; the message names the part."""


@dataclass(frozen=True)
class ReferenceFormat:
    """A parsed `core-configurable-reference` generator."""

    owner: str  # the work type that declares it: its sequence is shared by the types that inherit it
    mask: str
    pad: int
    date_format: str
    default_short_name: str

    @property
    def uses_sequence(self) -> bool:
        """Whether a clash can be resolved by taking the next number."""
        return "{sequence}" in self.mask.lower()

    def render(self, *, short_name: str, type_name: str, created: datetime, sequence: int) -> str:
        """The reference for one new work item."""
        values = {
            "shortname": short_name or self.default_short_name,
            "typename": type_name,
            "createddate": format_date(created, self.date_format),
            "sequence": str(sequence).zfill(self.pad),
        }
        return _TOKEN.sub(lambda m: values.get(m.group(1).lower(), m.group(0)), self.mask)


def format_date(value: datetime, fmt: str) -> str:
    """A .NET-style custom date format, for the tokens a reference mask plausibly uses."""
    parts = {
        "yyyy": f"{value.year:04d}",
        "yy": f"{value.year % 100:02d}",
        "MM": f"{value.month:02d}",
        "M": str(value.month),
        "dd": f"{value.day:02d}",
        "d": str(value.day),
        "HH": f"{value.hour:02d}",
        "H": str(value.hour),
        "mm": f"{value.minute:02d}",
        "ss": f"{value.second:02d}",
    }
    return _DATE_PART.sub(lambda m: parts[m.group(0)], fmt)


def not_emulated_reason(doc: Any) -> str | None:
    """Why a (non-null) ReferenceGenerator is not used here, or None when it is."""
    if not isinstance(doc, dict):
        return "ReferenceGenerator is not an object"
    mode = get_ci(doc, "Mode")
    generator = get_ci(doc, "GeneratorSystemName")
    if str(mode or "").lower() != GENERATOR_MODE:
        return f"reference mode {mode!r} is not emulated (only {GENERATOR_MODE!r})"
    if str(generator or "").lower() != CONFIGURABLE_REFERENCE:
        return f"reference generator {generator!r} is not emulated (only {CONFIGURABLE_REFERENCE!r})"
    return None


def parse_reference_generator(doc: Any, owner: str, source: str) -> ReferenceFormat | None:
    """The format of a work type's ReferenceGenerator; None if it has none or one not emulated.

    Raises ReferenceGeneratorError when it is an emulated generator with a broken config."""
    if doc is None or not_emulated_reason(doc) is not None:
        return None
    where = f"{source}: ReferenceGenerator.GeneratorConfig"
    raw = get_ci(doc, "GeneratorConfig")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise ReferenceGeneratorError(f"{where} is not JSON: {exc}") from None
    config = raw if raw is not None else {}
    if not isinstance(config, dict):
        raise ReferenceGeneratorError(f"{where} must be a JSON object")
    mask = get_ci(config, "formatMask")
    if not isinstance(mask, str) or not mask.strip():
        raise ReferenceGeneratorError(f"{where}.formatMask must be a non-empty string")
    pad = _dig(config, "useSequence", "zeroPadToMinimumCharacters")
    if pad is None:
        pad = 1
    if isinstance(pad, bool) or not isinstance(pad, int) or not 0 <= pad <= 50:
        raise ReferenceGeneratorError(f"{where}.useSequence.zeroPadToMinimumCharacters must be a whole number 0-50")
    date_format = _dig(config, "loadCreatedDate", "format") or DEFAULT_DATE_FORMAT
    if not isinstance(date_format, str):
        raise ReferenceGeneratorError(f"{where}.loadCreatedDate.format must be a string")
    default_short = _dig(config, "loadSharedoType", "defaultShortNameIfNotSet") or ""
    return ReferenceFormat(owner, mask, pad, date_format, str(default_short))


def _dig(config: dict[str, Any], section: str, key: str) -> Any:
    inner = get_ci(config, section)
    return get_ci(inner, key) if isinstance(inner, dict) else None
