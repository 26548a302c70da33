"""The one error envelope. Operate's own error body is not documented: this shape is [inferred].

Every 4xx says which field was wrong and why, so a person can fix the request without a debugger.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import Response, jsonify


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.title, self.errors)


def error_body(status: int, title: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"status": status, "title": title, "errors": errors or []}


def invalid(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", [{"field": field, "message": message}])


def not_found(what: str, ident: str, field: str = "id") -> ApiError:
    return ApiError(404, f"{what} {ident!r} was not found", [{"field": field, "message": "not found"}])


class AnsweredError(Protocol):
    """An error that carries its own HTTP answer: ApiError here, the fake Clio's ClioError."""

    status: int
    headers: dict[str, str]

    def body(self) -> dict[str, Any]: ...


def error_response(exc: AnsweredError) -> Response:
    """The JSON answer an error carries (its body, status and headers), for `app.register_error_handler`:
    the emulator and the fake Clio answer their own errors the same way, each with its own body."""
    response = jsonify(exc.body())
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return response
