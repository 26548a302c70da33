"""Test doubles a test puts in front of a plan's host calls or whole steps (as Cloudflare's Workflows
test helpers do): the plan itself still runs in V8; only what it reaches for is replaced."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

from .in_process_http import dotnet_status


@dataclass
class HostCallMock:
    method: str  # "GET", ... or "*"
    url: str  # a glob: "/api/proxy/demo-pms/_/api/matters*"
    status: int = 200
    body: Any = None
    never_answers: bool = False
    times: int | None = None  # None: until cleared
    calls: list[dict[str, Any]] = field(default_factory=list)

    def matches(self, request: dict[str, Any]) -> bool:
        method_ok = self.method == "*" or self.method.upper() == str(request.get("method", "")).upper()
        return method_ok and fnmatch.fnmatchcase(str(request.get("url", "")), self.url)

    def answer(self) -> dict[str, Any]:
        if self.never_answers:
            return {
                "success": False,
                "status": "GatewayTimeout",
                "statusCode": 504,
                "body": {"title": f"{self.url} did not answer (a test said it never answers)"},
            }
        return {
            "success": 200 <= self.status < 300,
            "status": dotnet_status(self.status),
            "statusCode": self.status,
            "body": self.body,
        }


@dataclass
class StepMock:
    plan: str
    step: str
    ctx: dict[str, Any] = field(default_factory=dict)  # merged into ctx when the step "completes"
    error: str | None = None  # the step fails with this message instead
    runs: int = 0


class Mocks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.host_calls: list[HostCallMock] = []
        self.steps: dict[tuple[str, str], StepMock] = {}

    def host_call(self, request: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            for mock in self.host_calls:
                if mock.matches(request) and (mock.times is None or len(mock.calls) < mock.times):
                    mock.calls.append(request)
                    return mock.answer()
        return None

    def step(self, plan: str, step: str) -> StepMock | None:
        with self._lock:
            mock = self.steps.get((plan, step))
            if mock is not None:
                mock.runs += 1
            return mock

    def clear(self) -> None:
        with self._lock:
            self.host_calls.clear()
            self.steps.clear()
