"""`operate serve`: the emulator on a local port, with the demo PMS and the fake Clio beside it when the
solution has them, and a banner saying where everything is."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pms_adapters.fakes.demo_pms.app import DEFAULT_API_KEY as DEMO_PMS_KEY
from pms_adapters.fakes.demo_pms.app import DEFAULT_PORT as DEMO_PMS_PORT
from pms_adapters.fakes.demo_pms.app import create_app as create_pms

from ..kernel.clock import parse_instant
from ..kernel.http_server import WsgiServer, is_loopback_host, listen_or_explain
from .common import DEFAULT_PORT, add_state_args, open_emulator

if TYPE_CHECKING:
    from ..core import Emulator


HELP = "run the emulator on a local port"
DESCRIPTION = "Run the emulator. State persists in --data-dir across restarts."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_args(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one and prints it)",
    )
    parser.add_argument(
        "--virtual-clock", action="store_true", help="time moves only through POST /api/_emulator/clock"
    )
    parser.add_argument("--clock-start", metavar="ISO", help="where a virtual clock starts (default: now)")
    parser.add_argument("--fresh", action="store_true", help="discard the saved state and start from the seed")
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="instrument the plans and mark on each plan's page which lines and branches its runs took",
    )
    parser.add_argument(
        "--no-pms",
        action="store_true",
        help="with --demo: do not start the demo PMS (the demo-pms linked service then points at "
        f"http://127.0.0.1:{DEMO_PMS_PORT}, e.g. `operate pms demo`)",
    )


class _Refused(Exception):
    """The command cannot start; the message is the one line to print (exit status 2)."""


def run(args: argparse.Namespace, prepare: Callable[[Emulator], None] | None = None) -> int:
    """Serve until stopped; `prepare(em)` adjusts the emulator first (`operate record`), a ValueError from it
    being the one line to print."""
    try:
        start = _clock_start(args)
    except _Refused as exc:
        print(exc, file=sys.stderr)
        return 2
    # The app (every area, its blueprints) is imported only when something is served: `operate --help` stays quick.
    from ..app import create_app

    em = open_emulator(
        args,
        clock="virtual" if args.virtual_clock else "system",
        clock_start=start,
        inline_dispatch=False,
        fresh=args.fresh,
        coverage=args.coverage,
    )
    if prepare is not None:
        try:
            prepare(em)
        except ValueError as exc:
            print(f"operate: {exc}", file=sys.stderr)
            em.close()
            return 2
    app = create_app(emulator=em)
    server = listen_or_explain("operate", args.host, args.port, lambda: WsgiServer(app, args.host, args.port))
    if server is None:
        em.close()
        return 2
    pms_server = None
    if args.demo and not args.no_pms and "demo-pms" in em.linked_services.services:
        pms_server = _start_demo_pms(em)
    clio_server = _start_fake_clio(em)
    em.smartplans.on_ended.append(_print_ended)
    em.start_background()

    def _stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)  # before the banner: a SIGTERM once it is read stops cleanly
    url = f"http://{args.host}:{server.server_port}"
    em.lock.describe(url=url, **({"pms": f"http://127.0.0.1:{pms_server.server_port}"} if pms_server else {}))
    _print_banner(args, em, url, pms_server, clio_server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        for extra in (pms_server, clio_server):
            if extra is not None:
                extra.shutdown()
                extra.server_close()
        em.close()
    return 0


def _clock_start(args: argparse.Namespace) -> datetime | None:
    """Where a virtual clock starts, after checking there is something to serve."""
    start = None
    if args.clock_start:
        try:
            start = parse_instant(args.clock_start)
        except ValueError as exc:
            raise _Refused(f"operate: --clock-start: {exc}") from None
    if not args.demo and args.solution is None:
        raise _Refused("operate: nothing to serve; pass --demo or --solution DIR (see operate serve --help)")
    return start


def _print_banner(
    args: argparse.Namespace, em: Emulator, url: str, pms_server: WsgiServer | None, clio_server: Any
) -> None:
    """What a person needs to start: the URL, who to be, where the PMS and Clio are, what did not load."""
    users = sorted(em.identity.users)
    print(f"Operate emulator ready on {url}  (solution: {em.solution.name}, data: {args.data_dir})")
    print("  OAuth client: demo-client / demo-secret  (POST /connect/token, grant_type=client_credentials)")
    if users:
        print(f"  users to impersonate: {', '.join(users)}")
    if pms_server is not None:
        _print_demo_pms(args, em, pms_server)
    sign_in = (
        "sign in as any user above"
        if users
        else "no user to sign in as: the solution has none (an ODS person with isUser and userName in ods/people.json)"
    )
    print(f"  web pages: {url}/  (work items, events, executions, plans, clock, PMS, outbox, settings; {sign_in})")
    print(f"  widgets: {url}/widgets (the gallery; a work item's page: {url}/portal/<id>)")
    if clio_server is not None:
        print(
            f"  fake Clio: http://127.0.0.1:{clio_server.server_port} (connect it at {url}/settings/integrations "
            "signed in as priya.shah, an administrator; then Sync with Clio, or `operate sync clio --all`)"
        )
    if not is_loopback_host(args.host):
        print(
            f"  warning: listening on {args.host}: the widget pages hand out tokens for any user without a password, "
            "to anyone who can reach this port; requests by a name or address other than localhost, 127.0.0.1 "
            "or [::1] are refused unless operate.toml lists it in [server] allowed_hosts (docs/security.md)",
            file=sys.stderr,
        )
    problems = em.smartplans.problems
    if problems:  # one broken workflow marks only itself: the rest runs; say what does not
        print(f"  load problems ({len(problems)}; also on {url}/ and {url}/plans):")
        for problem in problems:
            print(f"    {problem}")
    print(f"  clock: {em.clock.mode}; health: {url}/api/_emulator/health; stop with Ctrl+C", flush=True)


def _print_demo_pms(args: argparse.Namespace, em: Emulator, pms_server: WsgiServer) -> None:
    print(
        f"  demo PMS: http://127.0.0.1:{pms_server.server_port} (API_KEY or X-API-Key: {DEMO_PMS_KEY}), "
        "reached by plans as /api/proxy/demo-pms/_/..."
    )
    print(f"  push from it: operate pms push-actual-fees --data-dir {args.data_dir}  (or push-suppliers)")
    if em.pms_deliveries.workers:
        print(
            f"  act in it: operate pms open-matter --data-dir {args.data_dir} ... (or pay-disbursement, "
            "record-receipt, add-supplier); its worker tells Operate every minute (operate pms deliveries)"
        )


def _print_ended(ended: dict) -> None:
    """One line per execution that ends, so a person watching `serve` sees a plan fail without polling."""
    on = f" on {ended['workItem']}" if ended["workItem"] else ""
    line = f"execution {ended['plan']}{on}: {ended['state']}"
    if ended["error"]:
        line += f": {ended['error'].splitlines()[0]}"
    print(f"{line}  (GET /api/executionengine/plans/executing/{ended['id']})", flush=True)


def _start_fake_clio(em: Emulator) -> Any:
    """`fake = "clio"`: the browser must reach the fake's sign-in page, so serve it on loopback too."""
    if em.clio is None or em.clio.fake is None:
        return None
    return em.clio.serve_fake()


def _start_demo_pms(em: Emulator) -> WsgiServer:
    """Serve the demo's in-process PMS on a free loopback port too, so people can call it directly."""
    service = em.linked_services.services["demo-pms"]
    backend = em.linked_services.fakes.get("demo-pms") or em.linked_services.mount_demo("demo-pms", em.clock)
    pms_server = WsgiServer(create_pms(backend, api_key=service.api_key or DEMO_PMS_KEY), "127.0.0.1", 0)
    threading.Thread(target=pms_server.serve_forever, name="demo-pms", daemon=True).start()
    em.linked_services.add(dataclasses.replace(service, base_url=f"http://127.0.0.1:{pms_server.server_port}"))
    return pms_server
