"""Which `Host` the emulator answers to, and how in-process callers are told apart (docs/security.md).

A page on any web site, open in the developer's browser, can make its own host name resolve to 127.0.0.1 (DNS
rebinding) and then read the emulator's answers as its own: the emulator's pages hand out tokens and it has
control routes. As the dev servers did after their CVEs (Vite's `server.allowedHosts`, webpack-dev-server's
`allowedHosts`), every request whose `Host` is not this machine's loopback name (localhost, *.localhost,
127.0.0.0/8, [::1]) or a name listed in operate.toml is refused with a 403 that says how to allow it:

    [server]
    allowed_hosts = ["devbox.example.test", ".lan.example"]   # a leading dot: that domain and its subdomains

The emulator's own in-process callers (SmartPlans' `sharedo.http`, the demo PMS's delivery worker) call the app
through httpx's WSGITransport as `http://operate.local`. That name passes only when the request came through no
socket: every WSGI server sets `REMOTE_PORT` for a connection (cheroot, werkzeug), an in-process call has none. A
browser that resolves `operate.local` (mDNS) still reaches the app over a socket and is refused.
"""

from __future__ import annotations

import ipaddress
from typing import Any

IN_PROCESS_HOSTS = ("operate.local",)  # smartplans/in_process_http.py, emulator/integrations/demo_pms.py
ALLOWED_KEY = "allowed_hosts"


class AllowedHostsError(ValueError):
    """operate.toml [server] allowed_hosts is not usable; the message names the key and the value."""


def parse_allowed_hosts(config: dict[str, Any]) -> tuple[str, ...]:
    """`[server] allowed_hosts` of a solution's operate.toml, lower case; () when absent."""
    server = config.get("server", {})
    where = "operate.toml [server]"
    if not isinstance(server, dict):
        raise AllowedHostsError(f"{where}: expected a table")
    unknown = sorted(set(server) - {ALLOWED_KEY})
    if unknown:
        raise AllowedHostsError(f"{where}: unknown key {unknown[0]!r} (known: {ALLOWED_KEY})")
    hosts = server.get(ALLOWED_KEY, [])
    if not isinstance(hosts, list):
        raise AllowedHostsError(f"{where}: {ALLOWED_KEY} must be a list of host names, not {hosts!r}")
    out = []
    for value in hosts:
        name = value.strip().lower().rstrip(".") if isinstance(value, str) else ""
        bare = name.lstrip(".")
        if not bare or any(c in bare for c in "/:@ *") or not bare.isascii():
            raise AllowedHostsError(
                f"{where}: {ALLOWED_KEY} entry {value!r} is not a host name (no scheme, port or path; "
                "'.example.test' allows a domain and its subdomains; an IPv6 address in brackets: '[fd00::1]')"
                if not (isinstance(value, str) and value.startswith("["))
                else f"{where}: {ALLOWED_KEY} entry {value!r}: write an IPv6 address without brackets"
            )
        out.append(name)
    return tuple(out)


def host_name(header: str) -> str:
    """`localhost` of `LOCALHOST:8000.`; `::1` of `[::1]:8000`."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0].rstrip(".") if value.count(":") == 1 else value.rstrip(".")


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: browsers resolve these to loopback
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_allowed(header: str | None, allowed: tuple[str, ...]) -> bool:
    if not header:
        return False
    name = host_name(header)
    if is_loopback_name(name):
        return True
    return any(name == a or (a.startswith(".") and (name == a[1:] or name.endswith(a))) for a in allowed)


def refusal_text(header: str | None) -> str:
    shown = host_name(header or "")[:100] or "(none)"
    return (
        f"Blocked request: this emulator does not answer to the host {shown!r}. It answers to localhost, "
        f"127.0.0.1 and [::1], so that a web page using DNS rebinding cannot reach it. To reach it under this "
        f'name on purpose, add it to the solution\'s operate.toml:\n\n[server]\n{ALLOWED_KEY} = ["{shown}"]\n\n'
        "and restart. See docs/security.md."
    )


def in_process(environ: dict[str, Any]) -> bool:
    """A call from inside this process (httpx's WSGITransport, a test client): no connection, so no REMOTE_PORT."""
    return "REMOTE_PORT" not in environ


def request_allowed(environ: dict[str, Any], header: str | None, allowed: tuple[str, ...]) -> bool:
    if host_allowed(header, allowed):
        return True
    return in_process(environ) and host_name(header or "") in IN_PROCESS_HOSTS
