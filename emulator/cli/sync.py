"""`operate sync clio`: sync with Clio Manage, through the running server when one holds --data-dir (or
--url names one), otherwise in this process."""

from __future__ import annotations

import argparse
import sys

import httpx

from ..integrations.clio import terminal
from ..kernel.datadir import holder
from ..kernel.errors import ApiError
from .common import add_state_args, open_emulator

HELP = "sync with an integrated system (clio): all matters, or one"
DESCRIPTION = (
    "Sync with Clio Manage as 'Sync with Clio' does in Settings > Integrations. Through the "
    "running server's API when `operate serve` holds --data-dir (or --url names a server); otherwise in "
    "this process on --data-dir (with --demo or --solution). --all shows a progress line and a summary; "
    "the CSV of results is e-mailed to --as (when the outbox is configured), and through a server the command "
    "prints a link to it that opens in a browser or curl for 30 minutes. Exit status 1 when the run fails or "
    "the matter is skipped."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("system", choices=["clio"], help="which integration")
    add_state_args(parser)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--all", action="store_true", help="All Cases: every matter in the window (10 years first)")
    what.add_argument("--matter", metavar="ID|URL", help="Individual Case: the integration ID or the Clio matter URL")
    parser.add_argument("--url", help="the running emulator's URL (default: the one holding --data-dir, if any)")
    parser.add_argument(
        "--as", dest="user", help="the Operate user who triggers it (gets the CSV; default: the client)"
    )
    parser.add_argument("--client-id", default="demo-client", help="OAuth client for --url (default: demo-client)")
    parser.add_argument("--client-secret", default="demo-secret", help="its secret (default: demo-secret)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to follow a run (default: 3600)")


def run(args: argparse.Namespace) -> int:
    note = holder(args.data_dir) if args.url is None else None
    url = args.url or (note or {}).get("url")
    if url and args.url is None and not _answers(url):
        url = None  # a note left by a process that has gone
    if url:
        return _over_http(args, url)
    if args.url is None and not args.demo and args.solution is None:
        print(terminal.no_server(args.data_dir, note), file=sys.stderr)
        return 2
    return _in_process(args)


def _mode(args: argparse.Namespace) -> tuple[str, str | None]:
    return ("matter", args.matter) if args.matter else ("all", None)


def _over_http(args: argparse.Namespace, url: str) -> int:
    """Through the server's API, as the OAuth client (impersonating --as when given)."""
    form = {"grant_type": "client_credentials", "scope": "sharedo"}
    if args.user:
        form = {"grant_type": "Impersonate.Specified", "scope": "sharedo", "impersonate_user": args.user}
    try:
        answer = httpx.post(
            f"{url.rstrip('/')}/connect/token", data=form, auth=(args.client_id, args.client_secret), timeout=30
        )
    except httpx.TransportError as exc:
        print(f"operate sync: no emulator answers at {url} ({exc})", file=sys.stderr)
        return 2
    if answer.status_code != 200:
        print(f"operate sync: {url} refused the token request: {answer.text[:200]}", file=sys.stderr)
        return 2
    mode, matter = _mode(args)
    return terminal.over_http(url.rstrip("/"), answer.json()["access_token"], mode, matter, args.timeout, sys.stdout)


def _in_process(args: argparse.Namespace) -> int:
    """In this process, on the emulator opened on --data-dir; refused when its Clio is the in-process fake."""
    em = open_emulator(args)
    try:
        if em.clio is None:
            print(
                "operate sync: the solution configures no Clio ([integrations.clio] in operate.toml)", file=sys.stderr
            )
            return 2
        if em.clio.fake is not None:  # its firm (and the grant it gave) lives only as long as its process
            print(
                'operate sync: this solution\'s Clio is the in-process fake (fake = "clio"), which lives inside '
                f"`operate serve`, and no server is running on the data dir {args.data_dir}: start the server on "
                f"this --data-dir (`operate serve {'--demo' if args.demo else '--solution ' + str(args.solution)} "
                f"--data-dir {args.data_dir}` in another terminal) and run this command again (it goes through the "
                "server), or point [integrations.clio] base_url at `operate fake clio`",
                file=sys.stderr,
            )
            return 2
        client = "demo-client" if "demo-client" in em.identity.clients else next(iter(em.identity.clients))
        try:
            principal = em.identity.principal(client, args.user)
        except ApiError as exc:
            print(f"operate sync: --as {args.user}: {exc.title}", file=sys.stderr)
            return 2
        mode, matter = _mode(args)
        try:
            return terminal.in_process(em.clio, principal, mode, matter, sys.stdout)
        except ApiError as exc:
            print(f"operate sync: {exc.title}", file=sys.stderr)
            return 2
    finally:
        em.close()


def _answers(url: str) -> bool:
    """Whether an emulator answers at `url` (the note a server left may outlive it)."""
    try:
        return httpx.get(f"{url.rstrip('/')}/api/_emulator/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False
