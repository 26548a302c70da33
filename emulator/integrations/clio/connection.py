"""The firm's grant to Clio: connect (OAuth 2.0 authorization code), the tokens, disconnect.

The tokens sit in `integration_secrets`, a table no snapshot, export, page, log line or event carries.
An expired access token is refreshed once and the call retried (the client does it; the new tokens are
stored here); a refused refresh (a revoked grant) marks the integration disconnected with a message that
says to connect again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from pms_adapters.clio.client import ClioClient, ClioDisconnected, ClioError, Tokens

from ...kernel.clock import Clock, iso, parse_instant
from ...kernel.errors import ApiError
from ...kernel.store import Store
from .settings import ClioSettings

PROVIDER = "clio"
STATE_SECONDS = 600  # how long a connect may take between "Integrate with Clio" and the callback
RECONNECT = "Clio refused the stored grant: an administrator must connect Clio again in Settings > Integrations"


class ConnectError(ApiError):
    """A connect that did not complete: why, in words a person can act on."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, message)
        self.return_to: str | None = None  # the page the connect was started from, when it is known


class ClioConnection:
    def __init__(
        self, store: Store, clock: Clock, settings: ClioSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.store, self.clock, self.settings = store, clock, settings
        self.http = httpx.Client(
            base_url=settings.base_url, transport=transport, timeout=30.0, trust_env=False, follow_redirects=False
        )
        self.sleep: Callable[[float], None] = self._sleep

    # -- what the pages and the API show (never a token) ------------------------------------------
    def status(self) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM integrations WHERE provider=?", (PROVIDER,)).fetchone()
        base = {"provider": PROVIDER, "baseUrl": self.settings.base_url, "region": self.settings.region}
        if row is None:
            return {**base, "state": "not-connected", "nightly": self.settings.nightly_default, "message": None,
                    "user": None, "firm": None, "connectedAt": None, "connectedBy": None,
                    "firstSyncAt": None, "lastSyncAt": None}  # fmt: skip
        return {
            **base,
            "state": row["state"],
            "message": row["message"],
            "user": {"name": row["remote_user"], "email": row["remote_user_email"]} if row["remote_user"] else None,
            "firm": row["firm"],
            "connectedAt": row["connected_at"],
            "connectedBy": row["connected_by"],
            "nightly": bool(row["nightly"]),
            "firstSyncAt": row["first_sync_at"],
            "lastSyncAt": row["last_sync_at"],
        }

    @property
    def connected(self) -> bool:
        return self.status()["state"] == "connected"

    # -- connect ----------------------------------------------------------------------------------
    def begin(self, user_name: str | None, redirect_uri: str, return_to: str | None = None) -> str:
        """The Clio authorize URL the browser goes to; the `state` in it is single use and expires."""
        state = secrets.token_urlsafe(24)
        now = self.clock.now()
        with self.store.transaction() as tx:
            cutoff = iso(now - timedelta(seconds=STATE_SECONDS))
            tx.execute("DELETE FROM integration_oauth_states WHERE created < ?", (cutoff,))
            tx.execute(
                "INSERT INTO integration_oauth_states VALUES (?,?,?,?,?)",
                (state, PROVIDER, user_name, return_to, iso(now)),
            )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "redirect_on_decline": "true",
            }
        )
        return f"{self.settings.base_url}/oauth/authorize?{query}"

    def complete(self, args: dict[str, str], redirect_uri: str) -> tuple[dict[str, Any], str | None]:
        """The callback: check `state`, exchange the code, store the tokens; (status, where to return)."""
        state = args.get("state") or ""
        with self.store.transaction() as tx:
            row = tx.execute(
                "SELECT * FROM integration_oauth_states WHERE state=? AND provider=?", (state, PROVIDER)
            ).fetchone()
            tx.execute("DELETE FROM integration_oauth_states WHERE state=?", (state,))
        if row is None:
            raise ConnectError("this Clio answer does not belong to a connect started here (state); start again")
        try:
            return self._complete(row, args, redirect_uri)
        except ConnectError as exc:  # Deny, or a failed exchange: the person goes back where they started
            exc.return_to = row["return_to"]
            raise

    def _complete(self, row: Any, args: dict[str, str], redirect_uri: str) -> tuple[dict[str, Any], str | None]:
        if parse_instant(row["created"]) < self.clock.now() - timedelta(seconds=STATE_SECONDS):
            raise ConnectError("the connect took longer than 10 minutes; start again")
        if args.get("error"):
            reason = "access was denied in Clio" if args["error"] == "access_denied" else f"Clio said {args['error']}"
            raise ConnectError(f"not connected: {reason}")
        code = args.get("code")
        if not code:
            raise ConnectError("Clio's answer carries no code; start again")
        try:
            response = self.http.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": self.settings.client_id,
                    "client_secret": self.settings.client_secret,
                },
            )
        except httpx.TransportError as exc:
            raise ConnectError(f"Clio did not answer the token exchange ({exc})", 502) from None
        body = _json(response)
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            why = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
            raise ConnectError(f"Clio refused the code: {why}", 502 if response.status_code >= 500 else 400)
        tokens = Tokens(body["access_token"], body.get("refresh_token") or "")
        expires = _expiry(self.clock, body.get("expires_in"))
        client = self._client(tokens)
        try:
            me = client.get("users/who_am_i.json", {"fields": "id,name,email,account{name}"})["data"]
        except (ClioError, KeyError, TypeError) as exc:
            self._deauthorize(tokens)  # a grant nobody will use is handed back
            raise ConnectError(f"connected, but Clio would not say who the user is: {exc}", 502) from None
        replaced = self._tokens()
        if replaced is not None and replaced.access_token != client.tokens.access_token:
            self._deauthorize(replaced)  # connecting again: the old grant does not stay alive at Clio
        now = iso(self.clock.now())
        with self.store.transaction() as tx:
            self._save_tokens(tx, client.tokens, expires)
            tx.execute(
                "INSERT INTO integrations(provider, state, region, remote_user, remote_user_email, firm, connected_at,"
                " connected_by, message, nightly) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(provider) DO UPDATE SET"
                " state=excluded.state, region=excluded.region, remote_user=excluded.remote_user,"
                " remote_user_email=excluded.remote_user_email, firm=excluded.firm,"
                " connected_at=excluded.connected_at, connected_by=excluded.connected_by, message=NULL",
                (
                    PROVIDER, "connected", self.settings.region, me.get("name"), me.get("email"),
                    (me.get("account") or {}).get("name"), now, row["user_id"], None,
                    int(self.settings.nightly_default),
                ),
            )  # fmt: skip
        return self.status(), row["return_to"]

    def disconnect(self) -> dict[str, Any]:
        """Revoke the grant at Clio (`/oauth/deauthorize`) and forget it here, whatever Clio answers."""
        tokens = self._tokens()
        message = self._deauthorize(tokens) if tokens is not None else None
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM integration_secrets WHERE provider=?", (PROVIDER,))
            tx.execute(
                "UPDATE integrations SET state='not-connected', message=?, remote_user=NULL, remote_user_email=NULL,"
                " firm=NULL WHERE provider=?",
                (message, PROVIDER),
            )
        return self.status()

    def _deauthorize(self, tokens: Tokens) -> str | None:
        """`/oauth/deauthorize`; what went wrong, if anything, in words for the page."""
        try:
            response = self.http.post(
                "/oauth/deauthorize",
                headers={"Authorization": f"Bearer {tokens.access_token}"},
                data={"token": tokens.access_token},
            )
        except httpx.TransportError:
            return "Clio did not answer the deauthorize; the grant is forgotten here, revoke it in Clio too"
        if response.status_code >= 400:
            return f"Clio answered {response.status_code} to the deauthorize; the grant is forgotten here"
        return None

    def set_nightly(self, on: bool) -> dict[str, Any]:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO integrations(provider, state, nightly) VALUES (?, 'not-connected', ?)"
                " ON CONFLICT(provider) DO UPDATE SET nightly=excluded.nightly",
                (PROVIDER, int(on)),
            )
        return self.status()

    def nightly(self) -> bool:
        return bool(self.status()["nightly"])

    # -- calling Clio -----------------------------------------------------------------------------
    def client(self) -> ClioClient:
        """A client on the stored grant; refreshed tokens are stored, a refused refresh disconnects."""
        tokens = self._tokens() if self.connected else None
        if tokens is None:
            raise ApiError(409, "Clio is not connected: an administrator connects it in Settings > Integrations")
        return self._client(tokens)

    def mark_disconnected(self, refused: Tokens | None = None, message: str = RECONNECT) -> None:
        """Clio refused a grant: say so, but only if it is still the stored one (a run on an old grant
        must not mark a fresh connection disconnected, nor a disconnected one "refused")."""
        with self.store.transaction() as tx:
            stored = tx.execute(
                "SELECT refresh_token FROM integration_secrets WHERE provider=?", (PROVIDER,)
            ).fetchone()
            if stored is None or (refused is not None and stored["refresh_token"] != refused.refresh_token):
                return
            tx.execute(
                "UPDATE integrations SET state='disconnected', message=? WHERE provider=? AND state='connected'",
                (message, PROVIDER),
            )

    # -- the linked service's TokenProvider (emulator/linked_services.py): widgets reach Clio on this grant
    def headers(self) -> dict[str, str]:
        tokens = self._tokens() if self.connected else None
        if tokens is None:
            from ...linked_services import LinkedServiceError

            raise LinkedServiceError("Clio is not connected: connect Clio in Settings > Integrations")
        return {"Authorization": f"Bearer {tokens.access_token}"}

    def refreshed(self) -> bool:
        """After a 401 through the proxy: refresh once (stored); a refused refresh disconnects."""
        tokens = self._tokens()
        if tokens is None:
            return False
        try:
            self._client(tokens)._refresh()
        except ClioDisconnected:
            self.mark_disconnected(tokens)
            return False
        except ClioError:
            return False
        return True

    def _client(self, tokens: Tokens) -> ClioClient:
        def store_refreshed(new: Tokens) -> None:
            with self.store.transaction() as tx:
                self._save_tokens(tx, new, None)

        return ClioClient(
            self.http,
            tokens,
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            on_refresh=store_refreshed,
            sleep=self.sleep,
        )

    def _tokens(self) -> Tokens | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM integration_secrets WHERE provider=?", (PROVIDER,)).fetchone()
        return Tokens(row["access_token"], row["refresh_token"]) if row else None

    def _save_tokens(self, tx: Any, tokens: Tokens, expires_at: str | None) -> None:
        tx.execute(
            "INSERT INTO integration_secrets VALUES (?,?,?,?) ON CONFLICT(provider) DO UPDATE SET"
            " access_token=excluded.access_token, refresh_token=excluded.refresh_token, expires_at=excluded.expires_at",
            (PROVIDER, tokens.access_token, tokens.refresh_token, expires_at),
        )

    def _sleep(self, seconds: float) -> None:
        """Wait out a 429 or a backoff on the one clock: a virtual clock moves instead of time passing."""
        if self.clock.is_virtual:
            moment = self.clock.now() + timedelta(seconds=seconds)
            self.clock.restore(moment)  # no jobs run from inside a sync; they run at the next tick or advance
            if self.clock.on_change is not None:
                self.clock.on_change(moment)
        else:
            import time

            time.sleep(seconds)

    def close(self) -> None:
        self.http.close()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _expiry(clock: Clock, expires_in: Any) -> str | None:
    if isinstance(expires_in, int) and not isinstance(expires_in, bool) and 0 < expires_in < 10**9:
        return iso(clock.now() + timedelta(seconds=expires_in))
    return None
