"""Read request bodies as Operate's .NET binding does: keys case-insensitive, types checked, every
problem reported with the path of the field it is about."""

from __future__ import annotations

import json
import uuid
from typing import Any

from .clock import parse_instant
from .errors import ApiError

MAX_BODY_BYTES = 5 * 1024 * 1024


def parse_json_body(raw: bytes, *, required: bool = True) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES} (5 MB)")
    if not raw.strip():
        if required:
            raise ApiError(
                400, "request body is empty; expected a JSON object", [{"field": "(body)", "message": "required"}]
            )
        return None
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        raise ApiError(
            400, "request body is nested too deeply", [{"field": "(body)", "message": "nested too deeply"}]
        ) from None
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, f"request body is not UTF-8 (byte {exc.start})", [{"field": "(body)", "message": "not UTF-8"}]
        ) from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            [{"field": "(body)", "message": exc.msg}],
        ) from None
    where = _not_unicode(value)
    if where is not None:  # a lone surrogate escape such as "\ud800": no store or encoder can take it
        raise ApiError(
            400,
            f"request body is not valid Unicode at {where}: a lone surrogate escape (\\ud800-\\udfff)",
            [{"field": where, "message": "lone surrogate; not valid Unicode"}],
        )
    return value


def _not_unicode(value: Any) -> str | None:
    """The path of the first string (or key) holding a lone surrogate; walked without recursion."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            if not current.isascii():
                try:
                    current.encode("utf-8")
                except UnicodeEncodeError:
                    return path or "(body)"
        elif isinstance(current, dict):
            for key, item in current.items():
                where = f"{path}.{key}" if path else key
                stack.append((where, key))
                stack.append((where, item))
        elif isinstance(current, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(current))
    return None


class Fields:
    """A case-insensitive view of one JSON object that collects errors instead of raising at once."""

    def __init__(self, data: Any, path: str = "", errors: list[dict[str, str]] | None = None) -> None:
        self.path = path
        self.errors: list[dict[str, str]] = [] if errors is None else errors
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.error("", f"expected an object, got {_kind(data)}")
            data = {}
        self._data = {str(k).lower(): (k, v) for k, v in data.items()}

    def _where(self, key: str) -> str:
        if not key:
            return self.path or "(body)"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> None:
        self.errors.append({"field": self._where(key), "message": message})

    def has(self, key: str) -> bool:
        return key.lower() in self._data

    def raw(self, key: str, default: Any = None) -> Any:
        return self._data.get(key.lower(), (key, default))[1]

    def names(self) -> list[str]:
        return [k for k, _ in self._data.values()]

    def string(
        self, key: str, *, required: bool = False, max_length: int = 4000, allow_empty: bool = True
    ) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.error(key, "required")
            return None
        if not isinstance(value, str):
            self.error(key, f"expected a string, got {_kind(value)}")
            return None
        if not allow_empty and not value.strip():
            self.error(key, "must not be empty")
            return None
        if len(value) > max_length:
            self.error(key, f"longer than {max_length} characters")
            return None
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, f"expected true or false, got {_kind(value)}")
            return default
        return value

    def integer(
        self, key: str, *, default: int | None = None, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"expected a whole number, got {_kind(value)}")
            return default
        if minimum is not None and value < minimum:
            self.error(key, f"must be at least {minimum}")
            return default
        if maximum is not None and value > maximum:
            self.error(key, f"must be at most {maximum}")
            return default
        return value

    def guid(self, key: str, *, required: bool = False) -> str | None:
        value = self.string(key, required=required)
        if value is None:
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            self.error(key, f"expected a GUID, got {value[:60]!r}")
            return None

    def instant(self, key: str, *, required: bool = False) -> str | None:
        value = self.string(key, required=required)
        if value is None:
            return None
        try:
            parse_instant(value)
        except ValueError as exc:
            self.error(key, str(exc))
            return None
        return value

    def obj(self, key: str, *, required: bool = False) -> Fields | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.error(key, "required")
            return None
        if not isinstance(value, dict):
            self.error(key, f"expected an object, got {_kind(value)}")
            return None
        return Fields(value, self._where(key), self.errors)

    def items(self, key: str, *, max_items: int = 1000) -> list[tuple[str, Any]]:
        """A JSON array as (path, element) pairs, so element errors name their index."""
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, f"expected an array, got {_kind(value)}")
            return []
        if len(value) > max_items:
            self.error(key, f"more than {max_items} items")
            return []
        return [(f"{self._where(key)}[{i}]", v) for i, v in enumerate(value)]

    def strings(self, key: str, *, max_items: int = 1000) -> list[str]:
        out = []
        for where, value in self.items(key, max_items=max_items):
            if isinstance(value, str):
                out.append(value)
            else:
                self.errors.append({"field": where, "message": f"expected a string, got {_kind(value)}"})
        return out

    def raise_if_errors(self, title: str = "The request is not valid") -> None:
        if self.errors:
            first = self.errors[0]
            raise ApiError(400, f"{title}: {first['field']}: {first['message']}", self.errors)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
