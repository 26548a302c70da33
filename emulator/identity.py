"""OAuth2 the way Operate's identity server does it: `/connect/token` grants, opaque reference
tokens that expire on the one clock, and permissions checked per route; and sign-in (`/connect/authorize`,
authorization codes, sign-in sessions) for the code and implicit flows."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import unquote

from . import oidc
from .authorize import IMPLICIT_RESPONSE_TYPES, first_problem, normal_response_type, verifier_problem
from .kernel.clock import Clock, iso, parse_instant
from .kernel.errors import ApiError
from .kernel.store import Store
from .oidc import SCOPE

GRANTS = ("client_credentials", "Impersonate.Specified", "Impersonate.Fixed", "refresh_token", "authorization_code")
SIGNIN_CLIENT = "idsrv"  # the client_id a sign-in session's row carries: the identity server's own
EXPIRED = "expired:"  # a token's kind once it expired before the virtual clock went back: never valid again


def load_security_catalogue() -> dict[str, Any]:
    return json.loads(resources.files("emulator.catalogue").joinpath("security.json").read_text("utf-8"))


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None
    grants: tuple[str, ...]
    permissions: frozenset[str]
    fixed_user: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        """No secret: a browser or device app. It may redeem codes (with PKCE) and refresh, nothing else."""
        return self.secret is None

    def may_redirect_to(self, uri: str, issuer: str, *, logout: bool = False) -> bool:
        """Exact match against the registered list; a registered path (`/_harness/callback`) is on the emulator's
        own origin, so a built-in client works on whatever port `serve` chose."""
        registered = self.post_logout_redirect_uris if logout else self.redirect_uris
        return any(uri == (issuer + r if r.startswith("/") else r) for r in registered)


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked `/connect/authorize` request: safe to redirect to, and what the code or token will carry."""

    client: Client
    redirect_uri: str
    response_type: str
    response_mode: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: tuple[str, ...]
    login_hint: str | None


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    user_name: str
    scopes: tuple[str, ...]
    nonce: str | None
    challenge: str | None
    method: str | None
    auth_time: int
    expires_at: datetime
    issued: list[str] = field(default_factory=list)  # hashes of what it bought, revoked if it is replayed


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


class AuthorizeRedirectError(OAuthError):
    """An authorize error the client hears about at its (checked) redirect_uri (RFC 6749 §4.1.2.1)."""

    def __init__(self, request: AuthorizeRequest, error: str, description: str) -> None:
        super().__init__(error, description)
        self.request = request


class AuthorizePageError(OAuthError):
    """An authorize error shown on the identity server's own page: the client or its redirect_uri is not
    trusted, so nothing may be sent there (RFC 6749 §4.1.2.1, §10.15 open redirectors)."""


def _origin(uri: str) -> str | None:
    """`http://localhost:8200` of `http://localhost:8200/oAuthReply`; None for a path on the emulator itself."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in ("http", "https"):
        return None
    host = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{host}" if host else None


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
                redirect_uris=tuple(cfg.get("redirect_uris", [])),
                post_logout_redirect_uris=tuple(cfg.get("post_logout_redirect_uris", [])),
            )
        self.users = {p["userName"].lower(): p for p in people if p.get("isUser") and p.get("userName")}
        self.cors_origins = {
            origin for c in self.clients.values() for uri in c.redirect_uris if (origin := _origin(uri)) is not None
        }
        self.access_ttl = timedelta(seconds=self.catalogue["accessTokenSeconds"])
        self.refresh_ttl = timedelta(seconds=self.catalogue["refreshTokenSeconds"])
        self.code_ttl = timedelta(seconds=self.catalogue["authorizationCodeSeconds"])
        self.id_token_seconds = int(self.catalogue["identityTokenSeconds"])
        self.signin_ttl = timedelta(seconds=self.catalogue["signInSessionSeconds"])
        self.signing_key = oidc.SigningKey(store.path.parent)  # one per data dir, made on first use
        # Codes live a few minutes and only in this process: a restart between authorize and token is a
        # new sign-in, as a real identity server's restart would not be, but nothing else is lost.
        self._codes: dict[str, _Code] = {}
        self._used_codes: dict[str, _Code] = {}
        self._codes_lock = threading.Lock()
        clock.on_rewind.append(self._expire_before_rewind)

    def _expire_before_rewind(self, leaving: datetime) -> None:
        """The virtual clock is about to go back from `leaving`: every token (access, refresh, sign-in session)
        and code that has expired by then is marked so, and stays expired whatever the clock reads next."""
        with self.store.transaction() as tx:
            tx.execute(
                f"UPDATE tokens SET kind = '{EXPIRED}' || kind WHERE expires_at <= ? AND kind NOT LIKE '{EXPIRED}%'",
                (iso(leaving),),
            )
        with self._codes_lock:
            for key in [k for k, c in self._codes.items() if c.expires_at <= leaving]:
                del self._codes[key]

    def _expand(self, permissions: list[str]) -> frozenset[str]:
        out = set(permissions)
        for p in permissions:
            out.update(self.catalogue["implies"].get(p, []))
        return frozenset(out)

    def user_permissions(self, user: dict[str, Any]) -> frozenset[str]:
        return self._expand(user.get("permissions") or self.catalogue["userDefault"])

    # -- /connect/token -------------------------------------------------------------------------
    def token_request(
        self, form: Mapping[str, str], authorization: str | None, issuer: str | None = None
    ) -> dict[str, Any]:
        """`issuer` (the URL the request came to) is what an id_token names as `iss`; without it none is issued."""
        client = self.client_from(form, authorization)
        grant = self._permitted_grant(client, form.get("grant_type"))
        if grant == "authorization_code":
            return self._redeem_code(client, form, issuer)
        scopes = (form.get("scope") or SCOPE).split()
        if grant != "refresh_token" and SCOPE not in scopes:
            raise OAuthError("invalid_scope", f"scope must include {SCOPE!r}")
        grants: dict[str, Callable[[], dict[str, Any]]] = {
            "client_credentials": lambda: self._issue_response(client.client_id, None, scopes, refresh=False),
            "Impersonate.Specified": lambda: self._impersonate_specified(client, form, scopes),
            "Impersonate.Fixed": lambda: self._impersonate_fixed(client, scopes),
        }
        # Any other grant a client's config lists is answered as refresh_token is (as it always was).
        return grants.get(grant, lambda: self._refresh(client, form, issuer))()

    @staticmethod
    def _permitted_grant(client: Client, grant: str | None) -> str:
        """The grant_type asked for, once it is known, and the client may use it."""
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant not in client.grants:
            if grant not in GRANTS:
                raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
            raise OAuthError("unauthorized_client", f"client {client.client_id!r} may not use grant {grant!r}")
        if client.public and grant not in ("authorization_code", "refresh_token"):
            raise OAuthError(
                "invalid_client", f"client {client.client_id!r} has no secret: it may only redeem codes", 401
            )
        return grant

    def _impersonate_specified(self, client: Client, form: Mapping[str, str], scopes: list[str]) -> dict[str, Any]:
        """Impersonate.Specified: the client names the user (`impersonate_user`) it acts as."""
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

    def _impersonate_fixed(self, client: Client, scopes: list[str]) -> dict[str, Any]:
        """Impersonate.Fixed: the client always acts as the one user its operate.toml entry names."""
        if not client.fixed_user or client.fixed_user.lower() not in self.users:
            raise OAuthError(
                "invalid_client",
                f"client {client.client_id!r} names no known user to impersonate (`user = ...` in operate.toml)",
            )
        return self._issue_response(client.client_id, client.fixed_user, scopes, refresh=True)

    def _refresh(self, client: Client, form: Mapping[str, str], issuer: str | None) -> dict[str, Any]:
        """refresh_token: one use only; the new tokens carry the scopes first granted, not those asked for now."""
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        row = self._lookup(token, "refresh")
        if row is None or row["client_id"] != client.client_id:
            raise OAuthError("invalid_grant", "refresh_token is unknown, expired or belongs to another client")
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM tokens WHERE token_hash=?", (_hash(token),))  # one use only
        granted = row["scope"].split()
        body = self._issue_response(client.client_id, row["user_name"], granted, refresh=True)
        user = self.users.get((row["user_name"] or "").lower())
        if issuer and user and "openid" in granted:
            body["id_token"] = self._id_token(issuer, client.client_id, user, granted, None, None, body["access_token"])
        return body

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
        if client is not None and client.public and "authorization_code" in client.grants and not secret:
            return client  # a public client names itself; PKCE proves the code is its own
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
        if refresh:
            body["refresh_token"] = self._store_token("refresh", client_id, user_name, scopes, self.refresh_ttl)
        return body

    def renew_signin(self, client_id: str, refresh_token: str) -> dict[str, Any]:
        """Fresh access and refresh tokens for a user who signed in before the virtual clock jumped past
        both (a time travel is no sign-out; on a system clock tokens expire as they would on a tenant).

        Who that is comes from the server's own row for the refresh token (expired, never revoked), not from
        anything the browser says: a cookie naming a user proves nothing. The old refresh token is used up."""
        if not self.clock.is_virtual:
            raise OAuthError("invalid_grant", "the sign-in has expired; sign in again")
        with self.store.transaction() as tx:
            row = tx.execute(
                "SELECT user_name FROM tokens WHERE token_hash=? AND client_id=? AND kind IN ('refresh', ?)",
                (_hash(refresh_token), client_id, EXPIRED + "refresh"),
            ).fetchone()
            if row is None or not row["user_name"]:
                raise OAuthError("invalid_grant", "the sign-in is unknown or was ended; sign in again")
            tx.execute("DELETE FROM tokens WHERE token_hash=?", (_hash(refresh_token),))
        user_name = row["user_name"]
        if user_name.lower() not in self.users:
            raise OAuthError("invalid_grant", f"no user {user_name!r}")
        return self._issue_response(client_id, self.users[user_name.lower()]["userName"], [SCOPE], refresh=True)

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

    # -- /connect/authorize ---------------------------------------------------------------------
    def authorize_request(self, args: Mapping[str, str], issuer: str) -> AuthorizeRequest:
        """Check an authorize request. Until client and redirect_uri are trusted, errors are for the page
        (AuthorizePageError); after, they go back to the client (AuthorizeRedirectError)."""
        client, redirect_uri = self._trusted_redirect(args, issuer)
        raw_type = args.get("response_type") or ""
        response_type = normal_response_type(raw_type)
        implicit = response_type in IMPLICIT_RESPONSE_TYPES
        mode = args.get("response_mode") or ("fragment" if implicit else "query")
        code_challenge = args.get("code_challenge") or None
        request = AuthorizeRequest(
            client=client,
            redirect_uri=redirect_uri,
            response_type=response_type,
            response_mode=mode if mode in oidc.RESPONSE_MODES else ("fragment" if implicit else "query"),
            scopes=tuple((args.get("scope") or "").split()),
            state=args.get("state"),
            nonce=args.get("nonce"),
            code_challenge=code_challenge,
            code_challenge_method=(args.get("code_challenge_method") or "plain") if code_challenge else None,
            prompt=tuple((args.get("prompt") or "").split()),
            login_hint=args.get("login_hint") or None,
        )
        problem = first_problem(request, raw_type, mode)
        if problem is not None:
            raise AuthorizeRedirectError(request, *problem)
        return request

    def _trusted_redirect(self, args: Mapping[str, str], issuer: str) -> tuple[Client, str]:
        """The client and the redirect_uri registered for it: until both are known, nothing may go there."""
        cid = args.get("client_id") or ""
        client = self.clients.get(cid)
        if not cid:
            raise AuthorizePageError("invalid_request", "client_id is required")
        if client is None:
            raise AuthorizePageError("invalid_client", f"no client {cid[:80]!r} is registered (operate.toml [clients])")
        redirect_uri = args.get("redirect_uri") or ""
        if not redirect_uri:
            raise AuthorizePageError("invalid_request", "redirect_uri is required")
        if not client.may_redirect_to(redirect_uri, issuer):
            listed = ", ".join(client.redirect_uris) or "none"
            raise AuthorizePageError(
                "invalid_request",
                f"redirect_uri {redirect_uri[:200]!r} is not registered for client {cid!r} "
                f"(its redirect_uris in operate.toml: {listed}); it must match one exactly",
            )
        return client, redirect_uri

    def issue_code(self, request: AuthorizeRequest, user_name: str, auth_time: int) -> str:
        code = secrets.token_urlsafe(32)
        with self._codes_lock:
            now = self.clock.now()
            for key in [k for k, c in self._codes.items() if c.expires_at <= now]:
                del self._codes[key]  # expired codes are dropped as new ones come
            for key in [k for k, c in self._used_codes.items() if c.expires_at + self.code_ttl <= now]:
                del self._used_codes[key]  # a replay is told apart for one more lifetime, then forgotten
            self._codes[_hash(code)] = _Code(
                client_id=request.client.client_id,
                redirect_uri=request.redirect_uri,
                user_name=user_name,
                scopes=request.scopes,
                nonce=request.nonce,
                challenge=request.code_challenge,
                method=request.code_challenge_method,
                auth_time=auth_time,
                expires_at=now + self.code_ttl,
            )
        return code

    def implicit_response(
        self, request: AuthorizeRequest, user_name: str, issuer: str, auth_time: int
    ) -> dict[str, str]:
        """The fragment (or form) of an implicit response: access_token and/or id_token, never a refresh token."""
        types = request.response_type.split()
        out: dict[str, str] = {}
        access = None
        if "token" in types:
            access = self.issue(request.client.client_id, user_name, list(request.scopes))
            out.update(
                access_token=access,
                token_type="Bearer",
                expires_in=str(int(self.access_ttl.total_seconds())),
                scope=" ".join(request.scopes),
            )
        if "id_token" in types:
            user = self.users[user_name.lower()]
            out["id_token"] = self._id_token(
                issuer, request.client.client_id, user, list(request.scopes), request.nonce, auth_time, access
            )
        return out

    def _redeem_code(self, client: Client, form: Mapping[str, str], issuer: str | None) -> dict[str, Any]:
        code = form.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required for grant_type authorization_code")
        key = _hash(code)
        with self._codes_lock:
            found = self._codes.pop(key, None)
            replayed = self._used_codes.get(key) if found is None else None
            if found is not None:
                self._used_codes[key] = found  # single use: a second redemption finds it here
        if replayed is not None:
            with self.store.transaction() as tx:  # RFC 6749 §4.1.2: revoke what the first redemption bought
                tx.executemany("DELETE FROM tokens WHERE token_hash=?", [(h,) for h in replayed.issued])
            raise OAuthError("invalid_grant", "the code was already used; the tokens it gave are revoked")
        if found is None:
            raise OAuthError("invalid_grant", "the code is unknown")
        if found.expires_at <= self.clock.now():
            raise OAuthError(
                "invalid_grant",
                f"the code expired on the emulator's clock at {iso(found.expires_at)} "
                f"(codes last {int(self.code_ttl.total_seconds())} s)",
            )
        if found.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != found.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri must be the one the authorize request used")
        problem = verifier_problem(found.challenge, found.method, form.get("code_verifier"))
        if problem is not None:
            raise OAuthError("invalid_grant", problem)
        user = self.users.get(found.user_name.lower())
        if user is None:
            raise OAuthError("invalid_grant", f"the user {found.user_name!r} no longer exists")
        scopes = list(found.scopes)
        body = self._issue_response(client.client_id, user["userName"], scopes, refresh="offline_access" in scopes)
        found.issued = [_hash(body["access_token"])] + (
            [_hash(body["refresh_token"])] if "refresh_token" in body else []
        )
        if "openid" in scopes and issuer:
            body["id_token"] = self._id_token(
                issuer, client.client_id, user, scopes, found.nonce, found.auth_time, body["access_token"]
            )
        return body

    def _id_token(
        self,
        issuer: str,
        client_id: str,
        user: dict[str, Any],
        scopes: list[str],
        nonce: str | None,
        auth_time: int | None,
        access_token: str | None,
    ) -> str:
        claims = oidc.id_token_claims(
            issuer,
            client_id,
            user,
            scopes,
            now=self.clock.now(),
            lifetime_seconds=self.id_token_seconds,
            auth_time=auth_time,
            nonce=nonce,
            access_token=access_token,
        )
        return self.signing_key.sign(claims)

    # -- sign-in sessions (the identity server's own cookie) ------------------------------------
    def start_signin(self, user_name: str) -> str:
        """A sign-in session for `user_name`: its cookie value. Later authorize requests skip the page."""
        return self._store_token(
            "signin", SIGNIN_CLIENT, self.users[user_name.lower()]["userName"], [], self.signin_ttl
        )

    def signed_in(self, cookie: str | None) -> tuple[str, int] | None:
        """(user name, auth_time) of a live sign-in session, or None."""
        row = self._lookup(cookie, "signin") if cookie else None
        if row is None or (row["user_name"] or "").lower() not in self.users:
            return None
        started = parse_instant(row["expires_at"]) - self.signin_ttl
        return row["user_name"], int(started.timestamp())

    def end_signin(self, cookie: str | None) -> None:
        if cookie:
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM tokens WHERE token_hash=? AND kind='signin'", (_hash(cookie),))

    def userinfo_claims(self, token_scopes: list[str], principal: Principal) -> dict[str, Any]:
        if principal.user is None:
            raise ApiError(403, "userinfo is about a user: this token was issued to a client alone")
        return oidc.user_claims(principal.user, token_scopes)

    def token_scopes(self, authorization: str | None) -> list[str]:
        token = (authorization or "")[7:].strip()
        row = self._lookup(token, "access") if token else None
        return row["scope"].split() if row else []

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
                    "SELECT expires_at FROM tokens WHERE token_hash=? AND kind IN ('access', ?)",
                    (_hash(token), EXPIRED + "access"),
                ).fetchone()
            reason = "the bearer token is unknown (or was revoked); get one from POST /connect/token"
            if stale is not None and parse_instant(stale["expires_at"]) > self.clock.now():
                reason = (
                    f"the bearer token expired at {stale['expires_at']}, before the emulator's clock was set back "
                    f"to {iso(self.clock.now())}; a token once expired stays expired: get a new one from "
                    "POST /connect/token"
                )
            elif stale is not None:  # after a clock move ({"advance": "P2D"}) a caller's token has run out
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
