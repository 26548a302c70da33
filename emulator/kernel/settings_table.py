"""operate.toml tables read by rules, one row a key, through `binding.Fields` with TOML's exact-case keys.

A request body collects every problem for one 400; a settings file stops at the first one, so a person
fixes it line by line: every problem is raised at once, as the parser's own error type, its message naming
the file, the table and the key (`operate.toml [integrations.clio]: stages must ...`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from .binding import Fields

# A test a value must pass, and what to say when it does not: a str.format template that may name
# {where} (the file and table), {name} (the key) and {value} (what the table holds).
Check = tuple[Callable[[Any], bool], str]


def same(value: Any) -> Any:
    """A value kept as the table holds it."""
    return value


@dataclass(frozen=True)
class Setting:
    """One key of a table: the checks its value passes in order, and what the value becomes when it does."""

    name: str
    checks: tuple[Check, ...]
    convert: Callable[[Any], Any] = same


def is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


FLAG: tuple[Check, ...] = ((is_flag, "{where}: {name} must be true or false, not {value!r}"),)
TEXT: tuple[Check, ...] = ((is_text, "{where}: {name} must be a non-empty string"),)


def whole(low: int, high: int) -> tuple[Check, ...]:
    """A whole number from `low` to `high`."""
    return (
        (is_whole, "{where}: {name} must be a whole number, not {value!r}"),
        (lambda value: low <= value <= high, f"{{where}}: {{name}} must be from {low} to {high}, not {{value}}"),
    )


class SettingsTable:
    """One table of operate.toml (`where` names it, e.g. `operate.toml [integrations.clio]`), its problems
    raised as `error`."""

    def __init__(self, data: Any, where: str, error: type[ValueError]) -> None:
        if not isinstance(data, dict):
            raise error(f"{where}: expected a table")
        self.where = where
        self.error = error
        self.fields = Fields(data, where, fold_case=False)

    def get(self, key: str, default: Any = None) -> Any:
        """The key's value as the table holds it, or `default` when the table has no such key."""
        return self.fields.raw(key, default)

    def secret(self, key: str) -> Any:
        """`key`, or the environment variable `<key>_env` names (a secret kept out of operate.toml)."""
        name = self.get(f"{key}_env")
        if not name:
            return self.get(key)
        value = os.environ.get(name)
        if value is None:
            self.fail(f"environment variable {name} is not set")
        return value

    def keys(self) -> list[str]:
        return self.fields.names()

    def fail(self, message: str) -> NoReturn:
        """Stop at this problem: `message` follows the table's name."""
        raise self.error(f"{self.where}: {message}")

    def check(self, key: str, checks: Iterable[Check], value: Any) -> None:
        for test, problem in checks:
            if not test(value):
                raise self.error(problem.format(where=self.where, name=key, value=value))

    def read(self, settings: Iterable[Setting]) -> dict[str, Any]:
        """The given keys the table sets (absent or null: the caller's default), checked in the rows' order
        and converted; the first value that fails a check stops the read."""
        values: dict[str, Any] = {}
        for setting in settings:
            value = self.fields.raw(setting.name)
            if value is None:
                continue
            self.check(setting.name, setting.checks, value)
            values[setting.name] = setting.convert(value)
        return values
