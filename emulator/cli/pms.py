"""`operate pms`: play the practice-management system — serve the demo PMS, act in it as its users do, or
push its data into a running emulator through Operate's public API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import httpx

from pms_adapters.demo.adapter import DemoPmsAdapter
from pms_adapters.fakes.demo_pms import terminal as demo_pms_terminal
from pms_adapters.fakes.demo_pms.app import DEFAULT_API_KEY as DEMO_PMS_KEY
from pms_adapters.fakes.demo_pms.app import DEFAULT_PORT as DEMO_PMS_PORT
from pms_adapters.push import PushError, operate_client, push_actual_fees, push_suppliers

from ..kernel.datadir import holder
from .common import DEFAULT_PORT

PUSHES = {
    "push-suppliers": ("create or update the PMS's suppliers as ODS organisations", push_suppliers),
    "push-actual-fees": ("send each linked matter's actual fees (Operate raises fee alerts)", push_actual_fees),
}


HELP = "the practice-management-system side: a demo PMS, and pushes into Operate"
DESCRIPTION = (
    "Play the PMS: serve the demo finance system, or push its data into a running "
    "emulator through Operate's public API, as a real PMS integration would."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pms_sub = parser.add_subparsers(dest="pms_command", metavar="PMS_COMMAND")
    pms_demo = pms_sub.add_parser(
        "demo",
        help="serve the demo PMS on a loopback port",
        description="Serve the demo finance system (matters, WIP, invoices, aged debt, suppliers) on its own, "
        "for a plan or widget pointed at it with a linked service. `operate serve --demo` starts one itself.",
    )
    pms_demo.add_argument(
        "--port", type=int, default=DEMO_PMS_PORT, help=f"port (default {DEMO_PMS_PORT}; 0 picks a free one)"
    )
    pms_demo.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    pms_demo.add_argument("--api-key", default=DEMO_PMS_KEY, help="the X-API-Key callers must send")
    for name, (what, _) in PUSHES.items():
        _add_push(pms_sub, name, what)
    demo_pms_terminal.add_commands(pms_sub)  # act in the demo PMS itself: open-matter, pay-disbursement, ...


def _add_push(pms_sub: Any, name: str, what: str) -> None:
    push = pms_sub.add_parser(
        name,
        help=what,
        description=f"{what[0].upper()}{what[1:]}, through a running "
        "emulator's public API, reading them from the demo PMS.",
    )
    push.add_argument(
        "--url",
        help="the running emulator (default: the one `operate serve` runs on --data-dir, else "
        f"http://127.0.0.1:{DEFAULT_PORT})",
    )
    push.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".operate"),
        help="find the emulator and its demo PMS served on this data dir (default: ./.operate)",
    )
    push.add_argument("--client-id", default="demo-client", help="OAuth client to push as (default demo-client)")
    push.add_argument("--client-secret", default="demo-secret", help="its secret (default demo-secret)")
    push.add_argument(
        "--pms-url", help=f"the demo PMS (default: the one `operate serve --demo` started, else :{DEMO_PMS_PORT})"
    )
    push.add_argument("--pms-key", default=DEMO_PMS_KEY, help="the demo PMS's X-API-Key")


def run(args: argparse.Namespace) -> int:
    if args.pms_command == "demo":
        from pms_adapters.fakes.demo_pms.server import main as serve_demo_pms  # the server's own parser, when it serves

        return serve_demo_pms(["--port", str(args.port), "--host", args.host, "--api-key", args.api_key])
    if args.pms_command in demo_pms_terminal.COMMANDS:
        running = holder(args.data_dir) or {}
        return demo_pms_terminal.run(args, args.pms_url or running.get("pms") or f"http://127.0.0.1:{DEMO_PMS_PORT}")
    if args.pms_command in PUSHES:
        return _push(args)
    print(
        "operate pms: choose a command: demo, push-suppliers, push-actual-fees, "
        f"{', '.join(demo_pms_terminal.COMMANDS)} (see operate pms --help)",
        file=sys.stderr,
    )
    return 2


def _push(args: argparse.Namespace) -> int:
    """Read the demo PMS over its API and push what it holds into Operate, as a real PMS integration would."""
    running = holder(args.data_dir) or {}  # what `operate serve` on that data dir wrote about itself
    args.url = args.url or running.get("url") or f"http://127.0.0.1:{DEFAULT_PORT}"
    args.pms_url = args.pms_url or running.get("pms") or f"http://127.0.0.1:{DEMO_PMS_PORT}"

    try:
        operate = operate_client(args.url, args.client_id, args.client_secret)
    except PushError as exc:
        print(f"operate pms: {exc}", file=sys.stderr)
        return 2
    pms_client = httpx.Client(base_url=args.pms_url, headers={"X-API-Key": args.pms_key}, timeout=30, trust_env=False)
    try:
        _, push = PUSHES[args.pms_command]
        report = push(DemoPmsAdapter(pms_client), operate)
    except PushError as exc:
        print(f"operate pms: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the PMS itself failed: say so plainly
        print(f"operate pms: the PMS at {args.pms_url} failed: {exc}", file=sys.stderr)
        return 2
    finally:
        operate.close()
        pms_client.close()
    print(
        f"created {len(report.created)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"failed {len(report.failed)}" + (f"; alerts: {'; '.join(report.alerts)}" if report.alerts else "")
    )
    return 1 if report.failed else 0
