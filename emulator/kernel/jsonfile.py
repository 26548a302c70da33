"""Read the JSON that real Operate material contains: BOMs, `//` and `/* */` comments, trailing commas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonFileError(ValueError):
    """A file that is not JSON even after the tolerated quirks; says which file and where."""


def strip_comments(text: str) -> str:
    """Remove `//` and `/* */` comments outside strings, and commas before a closing bracket."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            # Keep newlines so error line numbers still match the file.
            chunk = text[i : n if end < 0 else end + 2]
            out.append("\n" * chunk.count("\n"))
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return _drop_trailing_commas("".join(out))


def _drop_trailing_commas(text: str) -> str:
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c == ",":
            j = i + 1
            while j < len(text) and text[j] in " \t\r\n":
                j += 1
            if j < len(text) and text[j] in "]}":
                i += 1
                continue
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def loads(text: str | bytes, source: str = "<string>") -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonFileError(
                f"{source}: not UTF-8 text (byte 0x{text[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
            ) from None
    text = text.lstrip("\ufeff")
    try:
        return json.loads(strip_comments(text))
    except json.JSONDecodeError as exc:
        raise JsonFileError(f"{source}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:  # arrays or objects nested hundreds deep: no real file is, and Python cannot read it
        raise JsonFileError(f"{source}: nested too deeply to read (hundreds of levels of arrays or objects)") from None


def load(path: str | Path) -> Any:
    path = Path(path)
    return loads(path.read_bytes(), str(path))


def lower_keys(value: Any) -> Any:
    """Case-insensitive binding: input keys are matched in lower case, as .NET model binding does."""
    if isinstance(value, dict):
        return {str(k).lower(): v for k, v in value.items()}
    return value


def get_ci(mapping: dict, key: str, default: Any = None) -> Any:
    """Look a key up case-insensitively; the exact spelling wins when both exist."""
    if key in mapping:
        return mapping[key]
    low = key.lower()
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return default
