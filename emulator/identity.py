"""OAuth2 the way Operate's identity server does it: `/connect/token` grants, opaque reference
tokens that expire on the one clock, and permissions checked per route."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import Any
from urllib.parse import unquote

from .kernel.clock import Clock, iso, parse_instant
from .kernel.errors import ApiError
from .kernel.store import Store

SCOPE = "sharedo"


def load_security_catalogue() -> dict[str, Any]:
    return json.loads(resources.files("emulator.catalogue").joinpath("security.json").read_text("utf-8"))


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None
    grants: tuple[str, ...]
    permissions: frozenset[str]
    fixed_user: str | None = None


@dataclass(frozen=True)
class Principal:
    client_id: str
    user: dict[str, Any] | None
    permissions: frozenset[str] = field(default_factory=frozenset)

    def has(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    @property
    def user_name(self) -> str | None:
        return self.user.get("userName") if self.user else None


def require(principal: Principal | None, permission: str) -> None:
    """403 when the caller lacks `permission`; `None` is the emulator itself (seeding)."""
    if principal is not None and not principal.has(permission):
        who = principal.user_name or principal.client_id
        raise ApiError(403, f"{who} lacks the permission {permission!r}")


class OAuthError(Exception):
    """RFC 6749 §5.2 error response: `{"error", "error_description"}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identity:
    def __init__(self, store: Store, clock: Clock, client_config: dict[str, Any], people: list[dict[str, Any]]) -> None:
        self.store = store
        self.clock = clock
        self.catalogue = load_security_catalogue()
        self.known_permissions = {p["name"] for p in self.catalogue["permissions"]}
        self.clients: dict[str, Client] = {}
        for cid, cfg in {**self.catalogue["clients"], **client_config}.items():
            self.clients[cid] = Client(
                client_id=cid,
                secret=cfg.get("secret"),
                grants=tuple(cfg.get("grants", ["client_credentials"])),
                permissions=self._expand(cfg.get("permissions", [])),
                fixed_user=cfg.get("user"),
            )
        self.users = {p["userName"].lower(): p for p in people if p.get("isUser") and p.get("userName")}
        self.access_ttl = timedelta(seconds=self.catalogue["accessTokenSeconds"])
        self.refresh_ttl = timedelta(seconds=self.catalogue["refreshTokenSeconds"])

    def _expand(self, permissions: list[str]) -> frozenset[str]:
        out = set(permissions)
        for p in permissions:
            out.update(self.catalogue["implies"].get(p, []))
        return frozenset(out)

    def user_permissions(self, user: dict[str, Any]) -> frozenset[str]:
        return self._expand(user.get("permissions") or self.catalogue["userDefault"])

    # -- /connect/token -------------------------------------------------------------------------
    def token_request(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client = self.client_from(form, authorization)
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant not in client.grants:
            known = {"client_credentials", "Impersonate.Specified", "Impersonate.Fixed", "refresh_token"}
            if grant not in known:
                raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
            raise OAuthError("unauthorized_client", f"client {client.client_id!r} may not use grant {grant!r}")
        scopes = (form.get("scope") or SCOPE).split()
        if grant != "refresh_token" and SCOPE not in scopes:
            raise OAuthError("invalid_scope", f"scope must include {SCOPE!r}")
        if grant == "client_credentials":
            return self._issue_response(client.client_id, None, scopes, refresh=False)
        if grant == "Impersonate.Specified":
            name = form.get("impersonate_user")
            if not name:
                raise OAuthError("invalid_request", "impersonate_user is required for Impersonate.Specified")
            provider = form.get("impersonate_provider", "idsrv")
            if provider != "idsrv":
                raise OAuthError("invalid_request", f"impersonate_provider {provider!r} is not configured; use 'idsrv'")
            user = self.users.get(name.lower())
            if user is None:
                raise OAuthError("invalid_grant", f"no user {name!r} (users are ODS people with isUser and userName)")
            return self._issue_response(client.client_id, user["userName"], scopes, refresh=True)
        if grant == "Impersonate.Fixed":
            if not client.fixed_user or client.fixed_user.lower() not in self.users:
                raise OAuthError("invalid_client", f"client {client.client_id!r} names no known user to impersonate")
            return self._issue_response(client.client_id, client.fixed_user, scopes, refresh=True)
        # refresh_token
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        row = self._lookup(token, "refresh")
        if row is None or row["client_id"] != client.client_id:
            raise OAuthError("invalid_grant", "refresh_token is unknown, expired or belongs to another client")
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM tokens WHERE token_hash=?", (_hash(token),))  # one use only
        return self._issue_response(client.client_id, row["user_name"], row["scope"].split(), refresh=True)

    def client_from(self, form: dict[str, str], authorization: str | None) -> Client:
        cid, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
                cid, _, secret = decoded.partition(":")
                cid, secret = unquote(cid), unquote(secret)
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "the Basic authorization header is malformed", 401) from None
        if not cid:
            raise OAuthError(
                "invalid_client", "client authentication is required (HTTP Basic or client_id/client_secret)", 401
            )
        client = self.clients.get(cid)
        given = (secret or "").encode("utf-8", "surrogatepass")  # bytes: compare_digest refuses non-ASCII str
        if client is None or client.secret is None or not secrets.compare_digest(client.secret.encode(), given):
            raise OAuthError("invalid_client", "unknown client or wrong secret", 401)
        return client

    def _issue_response(
        self, client_id: str, user_name: str | None, scopes: list[str], *, refresh: bool
    ) -> dict[str, Any]:
        access = self.issue(client_id, user_name, scopes)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(self.access_ttl.total_seconds()),
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }
        if refresh and (user_name is not None or "offline_access" in scopes):
            body["refresh_token"] = self._store_token("refresh", client_id, user_name, scopes, self.refresh_ttl)
        return body

    def issue(self, client_id: str, user_name: str | None = None, scopes: list[str] | None = None) -> str:
        """An access token; also how the emulator itself acts as `ee-app` for SmartPlans."""
        if client_id not in self.clients:
            raise ValueError(f"unknown client {client_id!r}")
        return self._store_token("access", client_id, user_name, scopes or [SCOPE], self.access_ttl)

    def _store_token(self, kind: str, client_id: str, user_name: str | None, scopes: list[str], ttl: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(token), kind, client_id, user_name, " ".join(scopes), iso(self.clock.now() + ttl)),
            )
        return token

    def _lookup(self, token: str, kind: str):
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM tokens WHERE token_hash=? AND kind=?", (_hash(token), kind)).fetchone()
        if row is None or parse_instant(row["expires_at"]) <= self.clock.now():
            return None
        return row

    def revoke(self, token: str, client_id: str) -> None:
        """RFC 7009: only the client a token was issued to can revoke it; anyone else's call revokes nothing."""
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM tokens WHERE token_hash=? AND client_id=?", (_hash(token), client_id))

    # -- bearer check ---------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Principal:
        challenge = {"WWW-Authenticate": 'Bearer realm="operate"'}
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(401, "a bearer token is required (get one from POST /connect/token)", headers=challenge)
        token = authorization[7:].strip()
        row = self._lookup(token, "access")
        if row is None:
            with self.store.read() as conn:
                stale = conn.execute(
                    "SELECT expires_at FROM tokens WHERE token_hash=? AND kind='access'", (_hash(token),)
                ).fetchone()
            reason = "the bearer token is unknown (or was revoked); get one from POST /connect/token"
            if stale is not None:  # after a clock move ({"advance": "P2D"}) a caller's token has run out
                reason = (
                    f"the bearer token expired on the emulator's clock at {stale['expires_at']} (the clock is now "
                    f"{iso(self.clock.now())}); get a new one from POST /connect/token"
                )
            raise ApiError(401, reason, headers={"WWW-Authenticate": 'Bearer realm="operate", error="invalid_token"'})
        return self.principal(row["client_id"], row["user_name"])

    def principal(self, client_id: str, user_name: str | None = None) -> Principal:
        client = self.clients[client_id]
        if user_name:
            user = self.users.get(user_name.lower())
            if user is None:
                raise ApiError(401, f"the token's user {user_name!r} no longer exists")
            return Principal(client_id, user, self.user_permissions(user))
        return Principal(client_id, None, client.permissions)

    def user_info(self, p: Principal) -> dict[str, Any]:
        user = p.user or {}
        first, last = user.get("firstName"), user.get("surname")
        perms = sorted(self.known_permissions) if "*" in p.permissions else sorted(p.permissions)
        return {
            "isAuthenticated": True,
            "clientId": p.client_id,
            "userId": user.get("id"),
            "userName": user.get("userName"),
            "provider": "idsrv" if user else None,
            "firstName": first,
            "surname": last,
            "fullName": " ".join(x for x in (first, last) if x) or None,
            "organisationId": user.get("organisationId"),
            "persona": user.get("persona"),
            "globalPermissions": perms,
        }
