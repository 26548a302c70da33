"""`operate.toml [integrations.clio]`: where Clio is, the app's key and secret, and the sync's rules.

Fail closed: nothing leaves the machine unless a region (or a remote base URL) is configured together
with `allow_remote = true`. Every default below is what the seed describes, marked where inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...kernel.http_server import is_loopback_host
from ...kernel.settings_table import FLAG, TEXT, Setting, SettingsTable, whole

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


def _name_table(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values())


def _phone_names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(n, str) and n for n in value)


# The optional keys after the connection's own, each with what it must be; checked in this order.
OPTIONS: tuple[Setting, ...] = (
    *(
        Setting(name, FLAG)
        for name in ("require_attorney", "require_practice_area", "nightly_default", "notify_client")
    ),
    *(Setting(name, TEXT) for name in ("client_role", "attorney_role", "message_subject", "linked_service")),
    Setting("first_window_days", whole(1, 36_500)),
    Setting("later_window_days", whole(1, 36_500)),
    Setting("fake_matters", whole(0, 100_000)),
    Setting(
        "client_contact",
        ((lambda value: value in CONTACT_RULES, f"{{where}}: client_contact must be one of {list(CONTACT_RULES)}"),),
    ),
    *(
        Setting(name, ((_name_table, '{where}.{name}: a table of "Clio name" = "Operate system name"'),), dict)
        for name in ("practice_areas", "stages")
    ),
    Setting(
        "mobile_phone_names",
        ((_phone_names, "{where}: mobile_phone_names must be a list of Clio phone names"),),
        tuple,
    ),
)
KNOWN_KEYS = frozenset(ClioSettings.__dataclass_fields__) | {"client_secret_env"}


def parse_clio(config: dict[str, Any]) -> ClioSettings | None:
    """The Clio settings of a solution's operate.toml, or None when it configures no Clio."""
    raw = (config.get("integrations") or {}).get("clio")
    if raw is None:
        return None
    table = SettingsTable(raw, "operate.toml [integrations.clio]", ClioSettingsError)
    unknown = sorted(set(table.keys()) - KNOWN_KEYS)
    if unknown:
        table.fail(f"unknown key {unknown[0]!r}; known: {sorted(KNOWN_KEYS)}")
    fake = table.get("fake", False)
    if fake not in (False, True, "clio"):
        table.fail(f'fake must be "clio" (the in-process fake Clio) or false, not {fake!r}')
    region = table.get("region")
    if region is not None and region not in REGIONS:
        table.fail(f"region must be one of {sorted(REGIONS)}, not {region!r}")
    base_url = _base_url(table, region, fake)
    client_id, secret = _credentials(table, fake)
    return ClioSettings(
        base_url=base_url.rstrip("/"),
        region=region,
        client_id=client_id,
        client_secret=secret,
        fake=bool(fake),
        allow_remote=bool(table.get("allow_remote", False)),
        **table.read(OPTIONS),
    )


def _base_url(table: SettingsTable, region: str | None, fake: Any) -> str:
    """Where Clio is: `base_url`, else the region's host, else (for the fake) a loopback port; off this
    machine only with `allow_remote = true`."""
    base_url = table.get("base_url") or (REGIONS[region] if region else None)
    if base_url is None:
        if not fake:
            table.fail('give region (us, ca, eu, au), base_url, or fake = "clio"')
        base_url = "http://127.0.0.1:8767"
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https"):
        table.fail(f"base_url must be an http(s) URL, not {base_url!r}")
    if not table.get("allow_remote") and not is_loopback_host(urlsplit(base_url).hostname or ""):
        table.fail(f"{base_url} is not on this machine; set allow_remote = true to connect to Clio on purpose")
    return base_url


def _credentials(table: SettingsTable, fake: Any) -> tuple[str, str]:
    """The app's key and secret (the secret perhaps from the environment); the fake's own app when unset."""
    secret = table.secret("client_secret")
    client_id = table.get("client_id")
    if fake:
        from pms_adapters.fakes.clio.models import App

        client_id, secret = client_id or App.client_id, secret or App.client_secret
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        table.fail("client_id and client_secret (or client_secret_env): the app's key and secret")
    return client_id, secret
