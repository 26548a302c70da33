"""The fake Clio Manage's state and rules, in memory (moto's `models.py`).

One `ClioBackend` holds a firm's records (users, practice areas and their matter stages, contacts,
matters), the OAuth side (the developer app, codes, tokens), the per-token rate limiter and the
fake's switches (5xx, latency, expiry, revocation). The HTTP layer (`responses.py`) and tests in
library mode share it. Every time comes from the backend's `Clock`, so tokens expire, rate windows
roll and `updated_since` moves on virtual time.

Facts are from shared/reference/clio-manage-api.md (section numbers below); where Clio is silent,
the choice is marked [inferred].
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from emulator.kernel.clock import Clock

from . import seed

API_VERSIONS = ("4.0.4", "4.0.5", "4.0.6", "4.0.7", "4.0.8", "4.0.9", "4.0.10", "4.0.11", "4.0.12", "4.0.13")
DEFAULT_API_VERSION = "4.0.13"  # §3.6: the 2026 document's default
TOKEN_LIFETIME = timedelta(days=30)  # §2.2: the FAQ's 30 days; a backend may be made shorter for tests
CODE_LIFETIME = timedelta(minutes=10)  # [inferred] authorization codes: short-lived, single use
RATE_LIMIT = 50  # §3.7: requests per token per 60 s window at peak
RATE_WINDOW = timedelta(seconds=60)
MAX_LIMIT = 200  # §3.3
MAX_OFFSET_RECORDS = 10_000  # §3.3: offset paging stops here (422)
INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons.",
}  # §2.5, verbatim


class ClioError(Exception):
    """An answer other than success: status and the Clio error envelope `{"error": {type, message}}` (§3.8)."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "message": self.message}}


class OAuthError(Exception):
    """RFC 6749 token-endpoint errors: `{"error": "invalid_grant", ...}` (§2.5 [inferred] shape)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class App:
    """The developer application (§2.6): key and secret are the client id and secret."""

    client_id: str = "fake-clio-app"
    client_secret: str = "fake-clio-secret"
    redirect_uris: list[str] = field(default_factory=list)  # empty: any loopback URI (a local fake)


@dataclass
class Token:
    access_token: str
    refresh_token: str
    user_id: int
    expires_at: datetime
    revoked: bool = False


@dataclass
class Switches:
    """What a test or a person turns on to see the adapter cope (§14 "test toggles")."""

    fail_next: int = 0  # the next N API calls answer 503
    fail_status: int = 503
    latency_seconds: float = 0.0


class ClioBackend:
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        matters: int = seed.DEFAULT_MATTERS,
        rate_limit: int = RATE_LIMIT,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        app: App | None = None,
        seed_value: int = 1,
    ) -> None:
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.app = app or App()
        self.rate_limit = rate_limit
        self.token_lifetime = token_lifetime
        self.switches = Switches()
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.windows: dict[str, tuple[datetime, int]] = {}  # access token → (window start, calls)
        self.requests = 0
        data = seed.generate(self.clock.now(), matters=matters, seed_value=seed_value)
        self.users: dict[int, dict[str, Any]] = {u["id"]: u for u in data["users"]}
        self.practice_areas: dict[int, dict[str, Any]] = {p["id"]: p for p in data["practice_areas"]}
        self.matter_stages: dict[int, dict[str, Any]] = {s["id"]: s for s in data["matter_stages"]}
        self.contacts: dict[int, dict[str, Any]] = {c["id"]: c for c in data["contacts"]}
        self.matters: dict[int, dict[str, Any]] = {m["id"]: m for m in data["matters"]}
        self.account_owner = min(self.users)

    # -- OAuth (§2) ------------------------------------------------------------------------------
    def check_client(self, client_id: str | None, redirect_uri: str | None) -> None:
        if client_id != self.app.client_id:
            raise OAuthError(400, "invalid_client", "unknown client_id")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is required")
        if self.app.redirect_uris and redirect_uri not in self.app.redirect_uris:
            raise OAuthError(400, "invalid_request", "redirect_uri is not one of the app's registered Redirect URIs")

    def issue_code(self, client_id: str, redirect_uri: str, user_id: int) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "user_id": user_id,
                "expires_at": self.clock.now() + CODE_LIFETIME,
            }
        return code

    def exchange(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_id") != self.app.client_id or not secrets.compare_digest(
            (form.get("client_secret") or "").encode(), self.app.client_secret.encode()
        ):
            raise OAuthError(401, "invalid_client", "client_id or client_secret is wrong")
        grant = form.get("grant_type")
        with self.lock:
            if grant == "authorization_code":
                issued = self.codes.pop(form.get("code") or "", None)
                if issued is None or issued["expires_at"] <= self.clock.now():
                    raise OAuthError(400, "invalid_grant", "the code is unknown, used or expired")
                if issued["redirect_uri"] != form.get("redirect_uri"):
                    raise OAuthError(400, "invalid_grant", "redirect_uri does not match the one the code was issued to")
                token = self._new_token(issued["user_id"], refresh=secrets.token_urlsafe(32))
            elif grant == "refresh_token":
                # §2.3: Manage refresh tokens do not expire and are reused; the answer carries it again.
                old = next((t for t in self.tokens.values() if t.refresh_token == form.get("refresh_token")), None)
                if old is None or old.revoked:
                    raise OAuthError(400, "invalid_grant", "the refresh token is unknown or revoked")
                token = self._new_token(old.user_id, refresh=old.refresh_token)
            else:
                raise OAuthError(
                    400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
                )
        return {
            "token_type": "bearer",
            "access_token": token.access_token,
            "expires_in": int((token.expires_at - self.clock.now()).total_seconds()),
            "refresh_token": token.refresh_token,
        }

    def _new_token(self, user_id: int, refresh: str) -> Token:
        token = Token(secrets.token_urlsafe(32), refresh, user_id, self.clock.now() + self.token_lifetime)
        self.tokens[token.access_token] = token
        return token

    def deauthorize(self, access_token: str) -> None:
        """§2.4: the grant is gone: the access token and every token sharing its refresh token."""
        with self.lock:
            token = self.tokens.get(access_token)
            if token is None or token.revoked:
                raise ClioError(401, "invalid_token", INVALID_TOKEN["error_description"])
            for other in self.tokens.values():
                if other.refresh_token == token.refresh_token:
                    other.revoked = True

    def authenticate(self, access_token: str | None) -> Token | None:
        token = self.tokens.get(access_token or "")
        if token is None or token.revoked or token.expires_at <= self.clock.now():
            return None
        return token

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = min(token.expires_at, self.clock.now())

    def revoke_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.revoked = True

    # -- rate limiting (§3.7) --------------------------------------------------------------------
    def charge(self, access_token: str) -> dict[str, str]:
        """Count one call against the token's window; the `X-RateLimit-*` headers, or 429."""
        now = self.clock.now()
        with self.lock:
            start, calls = self.windows.get(access_token, (now, 0))
            if now >= start + RATE_WINDOW:
                start, calls = now, 0
            reset = start + RATE_WINDOW
            headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Reset": str(int(reset.timestamp()))}
            if calls >= self.rate_limit:
                wait = max(int((reset - now).total_seconds() + 0.999), 1)
                headers |= {"X-RateLimit-Remaining": "0", "Retry-After": str(wait)}
                raise ClioError(429, "RateLimited", f"Rate limit of {self.rate_limit} exceeded", headers)
            self.windows[access_token] = (start, calls + 1)
            headers["X-RateLimit-Remaining"] = str(self.rate_limit - calls - 1)
            return headers

    # -- records ---------------------------------------------------------------------------------
    def who_am_i(self, token: Token) -> dict[str, Any]:
        return self.users[token.user_id]

    def collection(self, name: str) -> dict[int, dict[str, Any]]:
        return {
            "users": self.users,
            "practice_areas": self.practice_areas,
            "matter_stages": self.matter_stages,
            "contacts": self.contacts,
            "matters": self.matters,
        }[name]

    def find(self, name: str, record_id: int) -> dict[str, Any]:
        record = self.collection(name).get(record_id)
        if record is None:
            raise ClioError(
                404, "RecordNotFound", f"{name[:-1].replace('_', ' ').capitalize()} {record_id} was not found"
            )
        return record

    def update_matter(self, matter_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """§4.5: status in lowercase, stage of the matter's practice area [inferred: 422 otherwise],
        description; `If-Match` guards it (412). etag and updated_at move on every change."""
        with self.lock:
            matter = self.find("matters", matter_id)
            if if_match is not None and if_match != matter["etag"]:
                raise ClioError(412, "PreconditionFailed", "the matter has changed since that ETag")
            now = self.clock.now()
            changed = dict(matter)
            if "status" in data:
                status = data["status"]
                if status not in ("open", "pending", "closed"):
                    raise ClioError(422, "ValidationError", "status must be one of open, pending, closed")
                changed["status"] = status.capitalize()
                date_field = {"open": "open_date", "pending": "pending_date", "closed": "close_date"}[status]
                changed[date_field] = changed.get(date_field) or now.date().isoformat()  # [inferred]
            if "matter_stage" in data:
                stage = data["matter_stage"]
                if stage is None:
                    changed["matter_stage"] = None
                else:
                    stage_id = stage.get("id") if isinstance(stage, dict) else None
                    found = self.matter_stages.get(stage_id) if isinstance(stage_id, int) else None
                    area = (matter.get("practice_area") or {}).get("id")
                    if found is None:
                        raise ClioError(422, "ValidationError", f"matter_stage {stage_id!r} does not exist")
                    if str(area) != str(found["practice_area_id"]):
                        raise ClioError(422, "ValidationError", "matter_stage belongs to another practice area")
                    changed["matter_stage"] = {"id": found["id"]}
                changed["matter_stage_updated_at"] = seed.stamp(now)
            if "description" in data:
                if not isinstance(data["description"], str) or not data["description"].strip():
                    raise ClioError(422, "ValidationError", "description can't be blank")
                changed["description"] = data["description"]
            changed["updated_at"] = seed.stamp(now)
            changed["etag"] = seed.etag_of(changed)
            self.matters[matter_id] = changed
            return changed

    def set_stage(self, matter_id: int, stage_name: str) -> dict[str, Any]:
        """Library mode: move a matter to its practice area's stage called `stage_name` (as a firm would in Clio)."""
        matter = self.find("matters", matter_id)
        area = (matter.get("practice_area") or {}).get("id")
        stage = next(
            (
                s
                for s in self.matter_stages.values()
                if s["name"] == stage_name and str(s["practice_area_id"]) == str(area)
            ),
            None,
        )
        if stage is None:
            raise KeyError(f"practice area {area} has no stage {stage_name!r}")
        return self.update_matter(matter_id, {"matter_stage": {"id": stage["id"]}}, None)
