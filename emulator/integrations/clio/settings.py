"""`operate.toml [integrations.clio]`: where Clio is, the app's key and secret, and the sync's rules.

Fail closed: nothing leaves the machine unless a region (or a remote base URL) is configured together
with `allow_remote = true`. Every default below is what the seed describes, marked where inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...kernel.http_server import is_loopback_host
from ...linked_services import from_env

# Clio's four data regions, each its own host for OAuth and API (reference §1).
REGIONS: dict[str, str] = {
    "us": "https://app.clio.com",
    "ca": "https://ca.app.clio.com",
    "eu": "https://eu.app.clio.com",
    "au": "https://au.app.clio.com",
}
CONTACT_RULES = ("mobile", "email", "none")
NIGHTLY_CRON = "15 21 * * *"  # 9:15 PM UTC (seed 000)
MESSAGES_CRON = "*/2 * * * *"  # every 2 minutes
DOCUMENTS_CRON = "*/20 * * * *"  # every 20 minutes (seed 000; for Clio "likely, not confirmed": reference §12)


class ClioSettingsError(ValueError):
    pass


@dataclass
class ClioSettings:
    base_url: str  # the OAuth and API host (https://app.clio.com, or a fake on loopback)
    region: str | None
    client_id: str
    client_secret: str = field(repr=False)
    fake: bool = False  # serve Clio from the in-process fake (`pms_adapters/fakes/clio`): nothing leaves the process
    allow_remote: bool = False  # data may go off this machine (Clio's region host, its document storage)
    fake_matters: int = 60
    linked_service: str | None = None  # the linked service whose bearer token is this connection's (finance widgets)
    # What a matter needs to be imported (seed 000 and reference §12, "required fields"):
    require_attorney: bool = True  # a responsible attorney who is an Operate user, matched by e-mail
    client_contact: str = "mobile"  # the client needs a mobile phone ("mobile"), an e-mail ("email") or nothing
    mobile_phone_names: tuple[str, ...] = ("Mobile", "Personal")  # [inferred] Clio's answers call a cell "Personal"
    require_practice_area: bool = True  # mapped to an Operate matter work type (table clio_practice_areas)
    client_role: str = "client"  # the Operate role the Clio client takes on the matter [inferred]
    attorney_role: str = "fee-earner"  # the Operate role the responsible attorney takes [inferred]
    first_window_days: int = 3650  # a first sync: matters updated in the last 10 years
    later_window_days: int = 30  # every later sync: matters updated in the last 30 days
    message_subject: str = "Case Status Message"
    nightly_default: bool = False  # the firm's nightly sync before an administrator turns it on or off
    notify_client: bool = True  # a stage change records a status update to the client in the outbox
    # The mappings an administrator starts from (`[integrations.clio.practice_areas]` and `.stages`): Clio's
    # names, exact and case-sensitive, to an Operate work type and phase. Edits made in the pages win.
    practice_areas: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)


def parse_clio(config: dict[str, Any]) -> ClioSettings | None:
    """The Clio settings of a solution's operate.toml, or None when it configures no Clio."""
    raw = (config.get("integrations") or {}).get("clio")
    if raw is None:
        return None
    where = "operate.toml [integrations.clio]"
    if not isinstance(raw, dict):
        raise ClioSettingsError(f"{where}: expected a table")
    known = set(ClioSettings.__dataclass_fields__) | {"client_secret_env"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ClioSettingsError(f"{where}: unknown key {unknown[0]!r}; known: {sorted(known)}")
    fake = raw.get("fake", False)
    if fake not in (False, True, "clio"):
        raise ClioSettingsError(f'{where}: fake must be "clio" (the in-process fake Clio) or false, not {fake!r}')
    region = raw.get("region")
    if region is not None and region not in REGIONS:
        raise ClioSettingsError(f"{where}: region must be one of {sorted(REGIONS)}, not {region!r}")
    base_url = raw.get("base_url") or (REGIONS[region] if region else None)
    if base_url is None:
        if not fake:
            raise ClioSettingsError(f'{where}: give region (us, ca, eu, au), base_url, or fake = "clio"')
        base_url = "http://127.0.0.1:8767"
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https"):
        raise ClioSettingsError(f"{where}: base_url must be an http(s) URL, not {base_url!r}")
    if not raw.get("allow_remote") and not is_loopback_host(urlsplit(base_url).hostname or ""):
        raise ClioSettingsError(
            f"{where}: {base_url} is not on this machine; set allow_remote = true to connect to Clio on purpose"
        )
    try:
        secret = from_env(raw, "client_secret", where)
    except KeyError as exc:
        raise ClioSettingsError(exc.args[0]) from None
    client_id = raw.get("client_id")
    if fake:
        from pms_adapters.fakes.clio.models import App

        client_id, secret = client_id or App.client_id, secret or App.client_secret
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        raise ClioSettingsError(
            f"{where}: client_id and client_secret (or client_secret_env): the app's key and secret"
        )
    values: dict[str, Any] = {}
    for name in ("require_attorney", "require_practice_area", "nightly_default", "notify_client"):
        if name in raw:
            values[name] = _typed(raw[name], bool, where, name)
    for name in ("client_role", "attorney_role", "message_subject", "linked_service"):
        if name in raw:
            values[name] = _text(raw[name], where, name)
    ranges = (("first_window_days", 1, 36_500), ("later_window_days", 1, 36_500), ("fake_matters", 0, 100_000))
    for name, low, high in ranges:
        if name in raw:
            value = _typed(raw[name], int, where, name)
            if not low <= value <= high:
                raise ClioSettingsError(f"{where}: {name} must be from {low} to {high}, not {value}")
            values[name] = value
    if "client_contact" in raw:
        if raw["client_contact"] not in CONTACT_RULES:
            raise ClioSettingsError(f"{where}: client_contact must be one of {list(CONTACT_RULES)}")
        values["client_contact"] = raw["client_contact"]
    for name in ("practice_areas", "stages"):
        if name in raw:
            table = raw[name]
            if not isinstance(table, dict) or not all(isinstance(v, str) and v for v in table.values()):
                raise ClioSettingsError(f'{where}.{name}: a table of "Clio name" = "Operate system name"')
            values[name] = dict(table)
    if "mobile_phone_names" in raw:
        names = raw["mobile_phone_names"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ClioSettingsError(f"{where}: mobile_phone_names must be a list of Clio phone names")
        values["mobile_phone_names"] = tuple(names)
    return ClioSettings(
        base_url=base_url.rstrip("/"),
        region=region,
        client_id=client_id,
        client_secret=secret,
        fake=bool(fake),
        allow_remote=bool(raw.get("allow_remote", False)),
        **values,
    )


def _typed(value: Any, kind: type, where: str, name: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wanted = "true or false" if kind is bool else "a whole number"
        raise ClioSettingsError(f"{where}: {name} must be {wanted}, not {value!r}")
    return value


def _text(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ClioSettingsError(f"{where}: {name} must be a non-empty string")
    return value
