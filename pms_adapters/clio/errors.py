"""`ClioError`, the one error of a Clio answer other than success, for both sides of the wire: the Clio
client (`client.py`) raises it when Clio answered badly or not at all, and the fake Clio
(`pms_adapters/fakes/clio/`) raises it to give such an answer. A module of its own so that every part of
the fake (records, `fields`, webhooks) can raise it without importing the backend or the client."""

from __future__ import annotations

from typing import Any


class ClioError(Exception):
    """A call Clio did not answer usefully: its status (0 for no answer), what it said and Clio's
    `error.type` (`kind`: `NotFound`, `UploadNotFoundError`, ...). `headers` go with the fake's answer
    (`Retry-After`, ...); `body()` is the error envelope the fake answers with (reference §3.8)."""

    def __init__(
        self, status: int, message: str, kind: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"Clio answered {status}: {message}" if status else message)
        self.status, self.message, self.kind = status, message, kind
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "message": self.message}}
