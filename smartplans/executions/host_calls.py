"""Where a plan's `sharedo.http` calls go: the engine is given this at construction, the app later.

The app is built after the engine (it serves the engine's executions), so the engine cannot be handed its
target when it is built. Instead of an attribute set on the engine from outside, the composition root
builds one `HostCalls`, gives it to `SmartPlans`, and attaches the target once the app exists, through the
one `attach` method (emulator/core.py `Emulator.attach`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HostCall = Callable[[dict[str, Any]], dict[str, Any]]


class HostCalls:
    """A plan's host calls as one callable: the attached target (sharedo.http into the app as ee-app)."""

    def __init__(self) -> None:
        self._target: HostCall | None = None

    def attach(self, target: HostCall) -> None:
        """Send host calls to `target` from now on (the in-process app, smartplans/in_process_http.py)."""
        self._target = target

    @property
    def attached(self) -> bool:
        return self._target is not None

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._target is None:  # the domain does not build the app: the composition root attaches one
            raise RuntimeError(
                "sharedo.http has nothing to call: this Emulator has no app; build one with "
                "emulator.app.create_app(emulator=em) (or create_app(settings)) before plans make host calls"
            )
        return self._target(request)
