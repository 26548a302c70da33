"""The OAuth side of the fake Clio (§2): the developer app, authorization codes, tokens, their expiry
and revocation, and the per-token rate limiter (§3.7)."""

from __future__ import annotations

import secrets
from typing import Any

from ....clio.errors import ClioError
from .rules import (
    CODE_LIFETIME,
    INVALID_TOKEN,
    RATE_WINDOW,
    OAuthError,
    Token,
)


class OAuthSide:
    """ClioBackend's OAuth side and rate limiter: a part of the backend, working on its state under its lock."""

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

    def issue_token(self, user_id: int) -> dict[str, Any]:
        """Library mode: the tokens a completed connect would give `user_id` (tests skip the browser)."""
        with self.lock:
            token = self._new_token(user_id, refresh=secrets.token_urlsafe(32))
        return {"access_token": token.access_token, "refresh_token": token.refresh_token}

    def _new_token(self, user_id: int, refresh: str) -> Token:
        token = Token(secrets.token_urlsafe(32), refresh, user_id, self.clock.now() + self.token_lifetime)
        self.tokens[token.access_token] = token
        return token

    def deauthorize(self, access_token: str) -> None:
        """§2.4: the grant is gone: the access token and every token sharing its refresh token."""
        with self.lock:
            token = self.tokens.get(access_token)
            if token is None or token.revoked:
                raise ClioError(401, INVALID_TOKEN["error_description"], "invalid_token")
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
                raise ClioError(429, f"Rate limit of {self.rate_limit} exceeded", "RateLimited", headers)
            self.windows[access_token] = (start, calls + 1)
            headers["X-RateLimit-Remaining"] = str(self.rate_limit - calls - 1)
            return headers

    # -- records ---------------------------------------------------------------------------------
    def who_am_i(self, token: Token) -> dict[str, Any]:
        return self.users[token.user_id]
