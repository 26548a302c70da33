"""A connection to the fake Clio for tests, as the Clio sync's stored OAuth tokens would be: a
`TokenProvider` (emulator/linked_services.py) whose first tokens come from the fake's library-mode
`issue_token` (a completed connect, without the browser) and which renews them with the refresh grant
at the fake's `/oauth/token`, over the linked service's own client."""

from __future__ import annotations

from typing import Any

from emulator.linked_services import LinkedServiceError

SERVICE = "clio"
CLIO_TOML = f"""
[linked_services.{SERVICE}]
base_url = "http://127.0.0.1:8767"
auth = "clio"
adapter = "clio"
fake = "clio"
"""


class FakeClioConnection:
    def __init__(self, emulator: Any, service: str = SERVICE, user_id: int | None = None) -> None:
        self.services = emulator.linked_services
        self.service = service
        self.backend = self.services.fakes[service]
        tokens = self.backend.issue_token(user_id or min(self.backend.users))
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.connected = True
        self.refreshes = 0  # refresh grants asked for
        self.handed_out: list[str] = []  # the access token of every headers() call

    def headers(self) -> dict[str, str]:
        if not self.connected:
            raise LinkedServiceError("Clio was disconnected: connect Clio in Settings > Integrations")
        self.handed_out.append(self.access_token)
        return {"Authorization": f"Bearer {self.access_token}"}

    def refreshed(self) -> bool:
        self.refreshes += 1
        app = self.backend.app
        answer = self.services.client(self.service).post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        )
        if answer.status_code != 200:
            return False
        body = answer.json()
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token") or self.refresh_token
        return True
