"""Read request bodies as Operate's .NET binding does: keys case-insensitive, types checked, every
problem reported with the path of the field it is about."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from .clock import parse_instant
from .errors import ApiError

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64  # as .NET's JSON readers (System.Text.Json, Json.NET) default to
MAX_DIGITS = 4300  # Python's own limit on converting digits to an int (sys.get_int_max_str_digits)
INT64 = (-(2**63), 2**63 - 1)  # what SQLite stores as an integer


class _NumberError(ValueError):
    pass


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise _NumberError(f"a whole number of {digits} digits (the limit is {MAX_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NumberError(f"the number {text[:40]} is too large for a double")
    return value


def _parse_constant(name: str) -> float:
    raise _NumberError(f"{name} is not JSON")


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
        value = json.loads(
            raw.decode("utf-8-sig"), parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except _NumberError as exc:
        raise ApiError(
            400, f"request body holds {exc}", [{"field": "(body)", "message": "number out of range"}]
        ) from None
    except RecursionError:
        raise ApiError(
            400,
            f"request body is nested too deeply (more than {MAX_DEPTH} levels)",
            [{"field": "(body)", "message": "nested too deeply"}],
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
    problem = value_problem(value)
    if problem is not None:
        where, message, detail = problem
        raise ApiError(400, f"request body {message} at {where}{detail}", [{"field": where, "message": message}])
    return value


def canonical_guid(value: object) -> str | None:
    """A GUID as the store keeps it (lower case, hyphenated) from any form a caller gives (upper case, braces, no
    hyphens), or None when it is no GUID: ids are looked up, and compared, in this one form."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def value_problem(value: Any) -> tuple[str, str, str] | None:
    """(path, what, detail) of the first thing no store or encoder can take: a string (or key) holding a lone
    surrogate, or nesting past MAX_DEPTH. Walked without recursion."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, current, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path, "is nested too deeply", f" (more than {MAX_DEPTH} levels)"
        if isinstance(current, str):
            if not current.isascii():
                try:
                    current.encode("utf-8")
                except UnicodeEncodeError:
                    return path or "(body)", "is not valid Unicode", ": a lone surrogate escape (\\ud800-\\udfff)"
        elif isinstance(current, dict):
            for key, item in current.items():
                where = f"{path}.{key}" if path else key
                stack.append((where, key, depth + 1))
                stack.append((where, item, depth + 1))
        elif isinstance(current, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(current))
    return None


class Fields:
    """A case-insensitive view of one JSON object that collects errors instead of raising at once.

    `fold_case=False` reads keys exactly as written: a TOML table's `Base_URL` is not its `base_url`
    (`kernel/settings.py` reads operate.toml through it)."""

    def __init__(
        self, data: Any, path: str = "", errors: list[dict[str, str]] | None = None, *, fold_case: bool = True
    ) -> None:
        self.path = path
        self.errors: list[dict[str, str]] = [] if errors is None else errors
        self._fold = fold_case
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.error("", f"expected an object, got {_kind(data)}")
            data = {}
        self._data = {self._key(str(k)): (k, v) for k, v in data.items()}

    def _key(self, key: str) -> str:
        return key.lower() if self._fold else key

    def _where(self, key: str) -> str:
        if not key:
            return self.path or "(body)"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> None:
        self.errors.append({"field": self._where(key), "message": message})

    def has(self, key: str) -> bool:
        return self._key(key) in self._data

    def raw(self, key: str, default: Any = None) -> Any:
        return self._data.get(self._key(key), (key, default))[1]

    def names(self) -> list[str]:
        return [k for k, _ in self._data.values()]

    def _typed(self, key: str, kind: type, expected: str, *, required: bool = False) -> Any:
        """The value at `key` when it is a `kind`; else None, with the error recorded (`required` and missing,
        or another type): the check every reader of one JSON type starts with."""
        value = self.raw(key)
        if value is None:
            if required:
                self.error(key, "required")
            return None
        if not isinstance(value, kind):
            self.error(key, f"expected {expected}, got {_kind(value)}")
            return None
        return value

    def _parsed(self, key: str, parse: Callable[[str], str], *, required: bool) -> str | None:
        """A string field read by `parse`, whose ValueError is the field's error (a GUID, an instant)."""
        value = self.string(key, required=required)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.error(key, str(exc))
            return None

    def string(
        self, key: str, *, required: bool = False, max_length: int = 4000, allow_empty: bool = True
    ) -> str | None:
        value = self._typed(key, str, "a string", required=required)
        if value is None:
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
        minimum = INT64[0] if minimum is None else minimum
        maximum = INT64[1] if maximum is None else maximum
        if minimum is not None and value < minimum:
            self.error(key, f"must be at least {minimum}")
            return default
        if maximum is not None and value > maximum:
            self.error(key, f"must be at most {maximum}")
            return default
        return value

    def guid(self, key: str, *, required: bool = False) -> str | None:
        return self._parsed(key, _guid, required=required)

    def instant(self, key: str, *, required: bool = False) -> str | None:
        return self._parsed(key, _instant, required=required)

    def obj(self, key: str, *, required: bool = False) -> Fields | None:
        value = self._typed(key, dict, "an object", required=required)
        if value is None:
            return None
        return Fields(value, self._where(key), self.errors, fold_case=self._fold)

    def items(self, key: str, *, max_items: int = 1000) -> list[tuple[str, Any]]:
        """A JSON array as (path, element) pairs, so element errors name their index."""
        value = self._typed(key, list, "an array")
        if value is None:
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


def _guid(value: str) -> str:
    """A GUID in the form the store keeps (canonical_guid), or the field's error."""
    guid = canonical_guid(value)
    if guid is None:
        raise ValueError(f"expected a GUID, got {value[:60]!r}")
    return guid


def _instant(value: str) -> str:
    """The text as given, once it reads as an instant (parse_instant's error otherwise)."""
    parse_instant(value)
    return value


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
