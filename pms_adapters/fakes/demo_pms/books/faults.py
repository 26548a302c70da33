"""The fake's injected faults: shared ones, and a widget page's own by its scenario key; which call
meets which, and how often."""

from __future__ import annotations

from typing import Any

from .records import (
    MAX_FAULT_DELAY,
    MAX_FAULTS,
    DemoPmsError,
    Fault,
    route_pattern,
)


class FaultBook:
    """DemoPmsBackend's faults: a part of the backend, working on its state under its lock."""

    def add_fault(
        self,
        route: str,
        method: str = "*",
        *,
        delay: float | None = None,
        status: int | None = None,
        malformed: bool = False,
        times: int | None = None,
    ) -> Fault:
        """Make matching requests slow (delay s, at most 30), fail (a 5xx status), or answer malformed JSON."""
        method, pattern = self.check_fault(route, method, delay=delay, status=status, malformed=malformed, times=times)
        with self._lock:
            if len(self._faults) >= MAX_FAULTS:
                raise DemoPmsError(409, f"at most {MAX_FAULTS} faults at once; clear some first", "route")
            self._fault_seq += 1
            fault = Fault(f"fault-{self._fault_seq}", route, method, delay, status, malformed, times, pattern)
            self._faults.append(fault)
            return fault

    def check_fault(
        self,
        route: Any,
        method: Any = "*",
        *,
        delay: Any = None,
        status: Any = None,
        malformed: Any = False,
        times: Any = None,
    ) -> tuple[str, Any]:
        """Refuse a fault `add_fault` could not take, changing nothing: (method, route pattern) when fine.
        The checks run in this order, so a body wrong in several ways is told of the same first fault."""
        _check_kinds(delay, status, times, malformed, method)
        _check_route(route)
        method = _checked_method(method)
        _check_effect(delay, status, malformed, times)
        return method, route_pattern(route)

    def faults(self, key: str | None = None) -> list[Fault]:
        """The faults a call sees: with a scenario key the fake holds, that page's; else the shared ones."""
        with self._lock:
            return list(self._faults_for(key))

    def _faults_for(self, key: str | None) -> list[Fault]:
        keyed = self._scenario_faults.get(key) if key is not None else None
        return self._faults if keyed is None else keyed

    def set_scenario_faults(self, key: str, faults: list[dict[str, Any]]) -> list[Fault]:
        """What calls carrying `key` see instead of the shared faults (a widget page's scenario; [] for none).
        Each fault is `add_fault`'s keywords; all are checked before any is kept. Other keys, plans and calls
        with no key are untouched."""
        if len(faults) > MAX_FAULTS:
            raise DemoPmsError(409, f"at most {MAX_FAULTS} faults at once", "route")
        checked = [(f, self.check_fault(**f)) for f in faults]
        with self._lock:
            made = []
            for f, (method, pattern) in checked:
                self._fault_seq += 1
                made.append(
                    Fault(
                        f"fault-{self._fault_seq}",
                        f["route"],
                        method,
                        f.get("delay"),
                        f.get("status"),
                        f.get("malformed", False),
                        f.get("times"),
                        pattern,
                    )
                )
            self._scenario_faults.put(key, made)
            return list(made)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove_fault(self, fault_id: str) -> None:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.fault_id != fault_id]
            if len(self._faults) == before:
                raise DemoPmsError(404, f"no fault {fault_id!r}")

    def take_fault(self, method: str, path: str, key: str | None = None) -> Fault | None:
        """The first fault matching this request, used up once (the HTTP layer calls this); `key` is the
        request's scenario key, if it carried one."""
        with self._lock:
            faults = self._faults_for(key)
            for fault in faults:
                if (fault.method in ("*", method)) and fault.pattern.fullmatch(path):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            faults.remove(fault)
                    return fault
        return None

    # --- bounds --------------------------------------------------------------------------------


def _check_kinds(delay: Any, status: Any, times: Any, malformed: Any, method: Any) -> None:
    """Each part of a fault is of the kind it must be (a bool is no number here)."""
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float))):
        raise DemoPmsError(400, "delaySeconds must be a number of seconds", "delaySeconds")
    for name, value in (("status", status), ("times", times)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise DemoPmsError(400, f"{name} must be a whole number", name)
    if not isinstance(malformed, bool):
        raise DemoPmsError(400, "malformed must be true or false", "malformed")
    if method is not None and not isinstance(method, str):
        raise DemoPmsError(400, "method must be a string", "method")


def _check_route(route: Any) -> None:
    if not isinstance(route, str) or not route:
        raise DemoPmsError(400, "route is required, like /api/matters/*/wip", "route")
    if len(route) > 500:
        raise DemoPmsError(400, "route is longer than 500 characters", "route")


def _checked_method(method: str | None) -> str:
    """The method a fault matches, upper case; "*" (or none given) matches every method."""
    method = (method or "*").upper()
    if method != "*" and method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        raise DemoPmsError(400, f"method must be GET, POST, PUT, PATCH, DELETE or *, not {method!r}", "method")
    return method


def _check_effect(delay: float | None, status: int | None, malformed: bool, times: int | None) -> None:
    """A fault does something (slow, fail or garble), within bounds, a bounded number of times."""
    if delay is not None and not (0 <= delay <= MAX_FAULT_DELAY):
        raise DemoPmsError(400, f"delaySeconds must be between 0 and {MAX_FAULT_DELAY:g}", "delaySeconds")
    if status is not None and not (500 <= status <= 599):
        raise DemoPmsError(400, "status must be a 5xx HTTP status, like 503", "status")
    if delay is None and status is None and not malformed:
        raise DemoPmsError(400, "say what the fault does: delaySeconds, status or malformed", "delaySeconds")
    if times is not None and not (1 <= times <= 1_000_000):
        raise DemoPmsError(400, "times must be between 1 and 1000000, or left out for 'until cleared'", "times")
