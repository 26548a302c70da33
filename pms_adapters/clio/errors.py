"""The fake Clio's error answer, in a module of its own so that every part (records, `fields`, webhooks) can
raise it without importing the backend."""

from __future__ import annotations

from typing import Any


class ClioError(Exception):
    """An answer other than success: status and the Clio error envelope `{"error": {type, message}}` (§3.8)."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "message": self.message}}
