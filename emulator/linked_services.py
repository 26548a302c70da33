"""Linked services: external systems (a PMS) that plans and widgets reach through Operate's proxy,
`/api/proxy/{service}/_/{path}`. The proxy injects the service's credentials; callers never hold them.

Fail closed: a service must be configured on purpose, and a base URL off this machine needs
`allow_remote = true` as well.

Credentials come from operate.toml (`api-key`, `oauth2-client-credentials`) or, for `auth = "clio"`, from a
connection made at run time: a `TokenProvider` registered in `LinkedServices.token_providers` (the Clio
sync registers one holding the firm's OAuth tokens). Until one is, the service answers "not connected".

What the services use of the PMS packages (the adapters a service may name, the in-process fakes, the
adapters' error) is handed in by the composition root as `PmsParts` (emulator/integrations/pms_parts.py):
this area imports nothing above it.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable, Collection, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from .cassettes import CassetteSettings, parse_cassette, parse_redact
from .kernel.http_server import is_loopback_host
from .kernel.paging import Paged, paged
from .kernel.schema import AreaSchema, sql_migrations
from .kernel.settings_table import Setting, SettingsTable, same

HEADER_NAME = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"  # an HTTP header name (RFC 9110 token)
AUTH_KINDS = ("none", "api-key", "oauth2-client-credentials", "clio")
CONNECTED = {"clio": "Clio"}  # auth kinds whose token comes from a connection (a TokenProvider): what to connect
FAKES = ("demo", "clio")  # in-process fakes: the demo PMS, a fake Clio Manage
PROXY_PERMISSION = "core.linkedServices.proxy"  # [inferred] see emulator/catalogue/security.json


class LinkedServiceError(ValueError):
    pass


class CassetteFailure(LinkedServiceError, httpx.TransportError):
    """A cassette could not answer (or record) a call: the proxy answers 502 with it (a LinkedServiceError), an
    adapter turns it into its PmsError as it does any transport failure; the message names the request."""

    def __init__(self, message: str) -> None:
        LinkedServiceError.__init__(self, message)


# How a fake serves a service in process: (service, clock, observer of each answer) -> the transport to reach
# it by and its backend (library-mode control).
MountFake = Callable[["LinkedService", Any, Any], "tuple[httpx.BaseTransport, Any]"]


@dataclass(frozen=True)
class PmsParts:
    """What the linked services use of the PMS packages, handed in by the composition root so this area
    imports none of them: the adapters a service may name (`adapter = "..."`) and how to build one, the
    error an adapter's failure is, and the in-process fakes by `fake = "..."`."""

    adapter_names: Collection[str]
    adapter_class: Callable[[str], Any]
    failure: Callable[[int, str], Exception]
    fakes: Mapping[str, MountFake]


class TokenProvider(Protocol):
    """Where a connected service's credentials come from (auth kinds in CONNECTED).

    `headers()` gives what each call carries (`{"Authorization": "Bearer ..."}`) and raises
    LinkedServiceError saying how to connect when there is no connection. `refreshed()` is called once
    when the service answers 401: True when it obtained new tokens (the call is then made again, once)."""

    def headers(self) -> dict[str, str]: ...

    def refreshed(self) -> bool: ...


@dataclass
class LinkedService:
    name: str
    base_url: str
    expose_for_proxy: bool = True
    auth: str = "none"
    api_key_header: str = "API_KEY"
    api_key: str | None = field(default=None, repr=False)
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    timeout_seconds: float = 10.0
    allow_remote: bool = False
    adapter: str | None = None  # the PmsAdapter that speaks this service's API (pms_adapters/registry.py)
    fake: str | None = None  # "demo": serve it from the in-process demo PMS until pointed at a real port
    require_permission: str = PROXY_PERMISSION  # what a caller of /api/proxy/<name>/_/ must hold ("" = nothing)
    # The header a plan's write through the proxy carries its idempotency key in (one key per host call of a
    # step, the same when the call is sent again after a restart), for a service that honours one. None: none.
    idempotency_header: str | None = None
    cassette: CassetteSettings | None = None  # recorded answers it is served from / recorded into (cassettes.py)
    redact: tuple[str, ...] = ()  # header names and JSON keys never written to a cassette


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def from_env(table: dict[str, Any], key: str, where: str) -> Any:
    """`key`, or the environment variable `key_env` names (a secret kept out of operate.toml);
    KeyError saying which variable is unset."""
    try:
        return SettingsTable(table, where, ValueError).secret(key)
    except ValueError as exc:
        raise KeyError(exc.args[0]) from None


def _is_header_name(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(HEADER_NAME, value) is not None


# How the keys of a [linked_services.<name>] table become a LinkedService: each key's default and conversion
# (no check: what the service's calls make of them is theirs to say).
SERVICE_FIELDS: tuple[tuple[str, Any, Callable[[Any], Any]], ...] = (
    ("expose_for_proxy", True, bool),
    ("api_key_header", "API_KEY", same),
    ("token_url", None, same),
    ("client_id", None, same),
    ("scope", None, same),
    ("timeout_seconds", 10, float),
    ("allow_remote", False, bool),
    ("adapter", None, same),
    ("fake", None, same),
    # "" opens the service to every caller, on purpose; unset means the default permission.
    ("require_permission", PROXY_PERMISSION, str),
    ("idempotency_header", None, same),
)
# What the optional keys must be when set, checked in this order once the service is built.
SERVICE_CHECKS: tuple[Setting, ...] = (
    Setting(
        "idempotency_header",
        ((_is_header_name, '{where}: idempotency_header must be a header name such as "Idempotency-Key"'),),
    ),
    Setting(
        "fake",
        (
            (
                lambda value: value in FAKES,
                '{where}: fake must be "demo" (the in-process demo PMS) or "clio" (a fake Clio Manage), not {value!r}',
            ),
        ),
    ),
)


def parse_services(config: dict[str, Any], adapters: Collection[str] = ()) -> dict[str, LinkedService]:
    """The `[linked_services.<name>]` tables of operate.toml, each `adapter =` one of `adapters` (the root's
    PmsParts.adapter_names); LinkedServiceError names the first mistake."""
    return {name: _service(name, cfg, adapters) for name, cfg in (config.get("linked_services") or {}).items()}


def _service(name: str, cfg: Any, adapters: Collection[str]) -> LinkedService:
    table = SettingsTable(cfg, f"operate.toml [linked_services.{name}]", LinkedServiceError)
    base_url = table.get("base_url")
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https"):
        table.fail("base_url must be an http(s) URL")
    auth = table.get("auth", "none")
    if auth not in AUTH_KINDS:
        table.fail(f"auth must be one of {list(AUTH_KINDS)}, not {auth!r}")
    cassette = parse_cassette(table, name)
    replay_only = cassette is not None and cassette.mode == "replay"  # offline: the credentials are not needed
    api_key, secret = _secret(table, "api_key", replay_only), _secret(table, "client_secret", replay_only)
    service = LinkedService(
        name=name,
        base_url=base_url.rstrip("/"),
        auth=auth,
        api_key=api_key,
        client_secret=secret,
        **{key: convert(table.get(key, default)) for key, default, convert in SERVICE_FIELDS},
    )
    service.cassette, service.redact = cassette, parse_redact(table)
    table.read(SERVICE_CHECKS)
    if replay_only:
        return service
    if service.adapter is not None and service.adapter not in adapters:
        table.fail(f"adapter {service.adapter!r} is unknown; known: {sorted(adapters)}")
    if auth == "api-key" and not service.api_key:
        table.fail("auth 'api-key' needs api_key or api_key_env")
    if auth == "oauth2-client-credentials" and not (service.token_url and service.client_id and secret):
        table.fail("oauth2-client-credentials needs token_url, client_id, client_secret")
    if not service.allow_remote and not _is_loopback(base_url):
        table.fail(f"{base_url} is not on this machine; set allow_remote = true to send data there on purpose")
    return service


def _secret(table: SettingsTable, key: str, optional: bool) -> Any:
    """`key` or its `_env` variable; for a service replayed from a cassette an unset variable is no error."""
    try:
        return table.secret(key)
    except LinkedServiceError:
        if optional:
            return None
        raise


class LinkedServices:
    """Configured services, each with an httpx client; tests mount in-process fakes by transport.

    `token_providers` holds the connections of connected services, by service name, or by auth kind for
    every service of that kind (`token_providers["clio"]`)."""

    def __init__(
        self, services: dict[str, LinkedService], *, pms: PmsParts, clock: Any = None, root: Path | None = None
    ) -> None:
        self.services = services
        self.root = root  # the solution folder a cassette's path is relative to
        self.pms = pms
        self.clock = clock  # what an adapter that ages debt itself reads "now" from
        self.token_providers: dict[str, TokenProvider] = {}
        self._transports: dict[str, httpx.BaseTransport] = {}
        self._clients: dict[str, httpx.Client] = {}  # what the proxy forwards with (no hooks)
        self._adapter_clients: dict[str, httpx.Client] = {}  # adapters' own, credentials injected by hook
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self.fakes: dict[str, Any] = {}  # service name -> in-process fake backend (library mode)

    def add(self, service: LinkedService, transport: httpx.BaseTransport | None = None) -> None:
        """Configure (or replace) a service; `transport` serves it in process (httpx.WSGITransport(app))."""
        with self._lock:
            self.services[service.name] = service
            for clients in (self._clients, self._adapter_clients):
                old = clients.pop(service.name, None)
                if old:
                    old.close()
            self._tokens.pop(service.name, None)
            if transport is not None:
                self._transports[service.name] = transport
            else:
                self._transports.pop(service.name, None)

    def mount(self, name: str, fake: str, clock: Any, observer: Any = None) -> Any:
        """Serve `name` from the in-process fake `fake` (a PmsParts.fakes key) on `clock`; nothing leaves the
        process. Returns the fake's backend, also kept in `fakes[name]`."""
        if fake not in self.pms.fakes:
            raise LinkedServiceError(f"no in-process fake {fake!r}; known: {sorted(self.pms.fakes)}")
        transport, backend = self.pms.fakes[fake](self.services[name], clock, observer)
        self.add(self.services[name], transport)
        self.fakes[name] = backend
        return backend

    def mount_demo(self, name: str, clock: Any) -> Any:
        """Serve `name` from an in-process demo PMS on `clock`; nothing leaves the process."""
        return self.mount(name, "demo", clock)

    def mount_clio(self, name: str, clock: Any, observer: Any = None) -> Any:
        """Serve `name` from an in-process fake Clio Manage on `clock` (a seeded firm); `observer(request,
        response)` sees each of its answers. Its token still comes from a connection (token_providers)."""
        return self.mount(name, "clio", clock, observer)

    def mount_fakes(self, clock: Any) -> None:
        """Serve each service configured with `fake = "..."` from that fake, in process."""
        for name, service in self.services.items():
            if service.fake is not None:
                self.mount(name, service.fake, clock)

    def client(self, name: str) -> httpx.Client:
        with self._lock:
            if name not in self._clients:
                service = self.services[name]
                self._clients[name] = httpx.Client(
                    base_url=service.base_url,
                    transport=self.transport(name),
                    timeout=service.timeout_seconds,
                    trust_env=False,
                )
            return self._clients[name]

    def transport(self, name: str) -> httpx.BaseTransport | None:
        """What the service's calls go through: its own transport (None: the network), behind its cassette
        when it has one."""
        inner, service = self._transports.get(name), self.services[name]
        if service.cassette is None:
            return inner
        from .cassettes import Cassette, CassetteTransport

        settings = service.cassette
        return CassetteTransport(
            name,
            Cassette(self.cassette_folder(name), settings.path, settings),
            inner,
            base_path=urlsplit(service.base_url).path,
            redact=service.redact,
            key_header=service.api_key_header if service.auth == "api-key" else None,
            secrets=lambda: [s for s in (service.api_key, service.client_secret, self._tokens.get(name)) if s],
            error=CassetteFailure,
            token_url=service.token_url if service.auth == "oauth2-client-credentials" else None,
        )

    def cassette_folder(self, name: str) -> Path:
        """Where the service's cassette is: its path, relative to the solution folder."""
        cassette = self.services[name].cassette
        if cassette is None:
            raise LinkedServiceError(f"linked service {name!r} has no cassette")
        path = Path(cassette.path)
        return path if path.is_absolute() or self.root is None else self.root / path

    def use_cassette(self, name: str, mode: str, path: str | None = None) -> CassetteSettings:
        """Switch `name` to its cassette in `mode` (`operate record`): at `path`, else the one configured,
        else cassettes/<name>."""
        import dataclasses

        if name not in self.services:
            raise LinkedServiceError(f"no linked service {name!r}; configured: {sorted(self.services) or 'none'}")
        service = self.services[name]
        now = service.cassette or CassetteSettings(path=f"cassettes/{name}")
        service.cassette = dataclasses.replace(now, mode=mode, path=path or now.path)
        self.add(service, self._transports.get(name))
        return service.cassette

    def adapter(self, name: str) -> Any:
        """The service's PmsAdapter, talking to it directly with its credentials injected."""
        service = self.services[name]
        if service.adapter is None:
            raise LinkedServiceError(f'linked service {name!r} names no adapter (add adapter = "demo" or another)')
        with self._lock:
            if name not in self._adapter_clients:
                connected = service.auth in CONNECTED

                def inject(request: httpx.Request) -> None:
                    if not connected:  # a connected service's token is set (and renewed) by its auth flow
                        request.headers.update(self.credentials(service))

                def renew_once(response: httpx.Response) -> None:  # a cached token the service has dropped
                    if response.status_code == 401 and service.auth == "oauth2-client-credentials":
                        self.forget_token(name)

                # A client of its own: the hook must not fire on the token request (it would fetch the
                # token through itself, without end) nor on what the proxy forwards.
                self._adapter_clients[name] = httpx.Client(
                    base_url=service.base_url,
                    transport=self.transport(name),
                    timeout=service.timeout_seconds,
                    trust_env=False,
                    event_hooks={"request": [inject], "response": [renew_once]},
                    auth=_ConnectionAuth(self, service, self.pms.failure) if connected else None,
                )
            client = self._adapter_clients[name]
        cls = self.pms.adapter_class(service.adapter)
        if self.clock is not None and "now" in inspect.signature(cls).parameters:
            return cls(client, now=self.clock.now)
        return cls(client)

    def provider(self, service: LinkedService) -> TokenProvider:
        """The connection a connected service's calls are made with; LinkedServiceError when there is none."""
        found = self.token_providers.get(service.name) or self.token_providers.get(service.auth)
        if found is None:
            system = CONNECTED.get(service.auth, service.auth)
            raise LinkedServiceError(
                f"linked service {service.name!r} is not connected to {system}: "
                f"connect {system} in Settings > Integrations"
            )
        return found

    def refreshed(self, service: LinkedService) -> bool:
        """After a 401: whether the connection renewed its tokens (then the call is worth making again)."""
        return service.auth in CONNECTED and bool(self.provider(service).refreshed())

    def credentials(self, service: LinkedService) -> dict[str, str]:
        if service.cassette is not None and service.cassette.mode == "replay":
            return {}  # answered from the cassette: no credentials are sent, none are needed
        if service.auth in CONNECTED:
            return dict(self.provider(service).headers())
        if service.auth == "api-key":
            return {service.api_key_header: service.api_key or ""}
        if service.auth == "oauth2-client-credentials":
            token = self._tokens.get(service.name) or self._fetch_token(service)
            return {"Authorization": f"Bearer {token}"}
        return {}

    def forget_token(self, name: str) -> None:
        self._tokens.pop(name, None)

    def _fetch_token(self, service: LinkedService) -> str:
        data = {"grant_type": "client_credentials"}
        if service.scope:
            data["scope"] = service.scope
        response = self.client(service.name).post(
            service.token_url or "", data=data, auth=(service.client_id or "", service.client_secret or "")
        )
        if response.status_code != 200 or "access_token" not in response.text:
            raise LinkedServiceError(
                f"linked service {service.name!r}: token request failed with {response.status_code}"
            )
        token = response.json()["access_token"]
        self._tokens[service.name] = token
        return token

    def close(self) -> None:
        with self._lock:
            for client in [*self._clients.values(), *self._adapter_clients.values()]:
                client.close()
            self._clients.clear()
            self._adapter_clients.clear()


class _ConnectionAuth(httpx.Auth):
    """An adapter's calls to a connected service: the connection's token on each, and after a 401 one
    more try when the connection could renew it. A missing connection is a PmsError (`failure`, handed in),
    as every adapter failure is."""

    def __init__(
        self, services: LinkedServices, service: LinkedService, failure: Callable[[int, str], Exception]
    ) -> None:
        self.services, self.service, self.failure = services, service, failure

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._guarded(lambda: self.services.credentials(self.service)))
        response = yield request
        if response.status_code == 401 and self._guarded(lambda: self.services.refreshed(self.service)):
            request.headers.update(self._guarded(lambda: self.services.credentials(self.service)))
            yield request

    def _guarded(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except LinkedServiceError as exc:
            raise self.failure(502, str(exc)) from None


class ProxyLog:
    """Every proxied call, as the platform audits them: who, which service, what, how it went."""

    def __init__(self, store: Any, clock: Any) -> None:
        self.store = store
        self.clock = clock

    def record(self, service: str, method: str, path: str, status: int, started: float, caller: str) -> None:
        import logging
        import time

        from .kernel.clock import iso

        ms = round((time.perf_counter() - started) * 1000, 2)
        logging.getLogger("operate.proxy").info(
            "%s %s /%s -> %s in %s ms (%s)", service, method, path, status, ms, caller
        )
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO proxy_calls(at, service, method, path, status, duration_ms, caller) "
                "VALUES (?,?,?,?,?,?,?)",
                (iso(self.clock.now()), service, method, "/" + path, status, ms, caller),
            )

    def page(self, service: str | None, page: int, size: int) -> Paged:
        """One page of the proxied calls, newest first, of one service or all (the PMS pages)."""
        sql, args = "SELECT * FROM proxy_calls", []
        if service:
            sql += " WHERE service=?"
            args.append(service)
        with self.store.read() as conn:
            return paged(conn, sql + " ORDER BY id DESC", args, page, size)

    def last_number(self) -> int:
        """How many calls went through the proxy (the number of the last one; the home page's count)."""
        with self.store.read() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM proxy_calls").fetchone()[0])

    def entries(self, service: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM proxy_calls", []
        if service:
            sql += " WHERE service=?"
            args.append(service)
        with self.store.read() as conn:
            rows = conn.execute(sql + " ORDER BY id LIMIT ?", [*args, limit]).fetchall()
        return [
            {
                "at": r["at"],
                "service": r["service"],
                "method": r["method"],
                "path": r["path"],
                "status": r["status"],
                "durationMs": r["duration_ms"],
                "caller": r["caller"],
            }
            for r in rows
        ]


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="linked services",
    modules=("emulator.linked_services",),
    tables=("proxy_calls",),
    migrations=sql_migrations(__name__),
)
