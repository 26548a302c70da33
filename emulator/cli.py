"""`operate`: serve the emulator, import a real solution export, export the state."""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
from pathlib import Path

from pms_adapters.fakes.demo_pms.app import DEFAULT_API_KEY as DEMO_PMS_KEY
from pms_adapters.fakes.demo_pms.app import DEFAULT_PORT as DEMO_PMS_PORT

DEFAULT_PORT = 8765


def _add_state_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".operate"),
        help="where the state (a SQLite file) lives (default: ./.operate). One process per data dir: "
        "serve, run and load refuse a data dir another process holds (naming its PID and URL); "
        "export reads a consistent copy of it instead",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--demo", action="store_true", help="load the demo solution shipped with the package")
    which.add_argument("--solution", type=Path, metavar="DIR", help="load your own solution folder")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("operate-toolkit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="operate",
        description="A local Clio Operate: run SmartPlans, preview widgets and test PMS integrations without a tenant.",
    )
    parser.add_argument("--version", action="version", version=f"operate-toolkit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the emulator on a local port",
        description="Run the emulator. State persists in --data-dir across restarts.",
    )
    _add_state_args(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one and prints it)",
    )
    serve.add_argument("--virtual-clock", action="store_true", help="time moves only through POST /api/_emulator/clock")
    serve.add_argument("--clock-start", metavar="ISO", help="where a virtual clock starts (default: now)")
    serve.add_argument("--fresh", action="store_true", help="discard the saved state and start from the seed")
    serve.add_argument(
        "--no-pms",
        action="store_true",
        help="with --demo: do not start the demo PMS (the demo-pms linked service then points at "
        f"http://127.0.0.1:{DEMO_PMS_PORT}, e.g. `operate pms demo`)",
    )

    pms = sub.add_parser(
        "pms",
        help="the practice-management-system side: a demo PMS, and pushes into Operate",
        description="Play the PMS: serve the demo finance system, or push its data into a running "
        "emulator through Operate's public API, as a real PMS integration would.",
    )
    fake = sub.add_parser(
        "fake",
        help="serve a fake of an external system (clio) on a loopback port",
        description="Serve a fake of an external system the emulator integrates with. `operate fake clio`: "
        "Clio Manage's OAuth and API v4 with a seeded firm (pms_adapters/fakes/clio/README.md).",
    )
    fake.add_argument("system", choices=["clio"], help="which system")
    fake.add_argument("rest", nargs=argparse.REMAINDER, help="its options; `operate fake clio --help` lists them")
    pms_sub = pms.add_subparsers(dest="pms_command", metavar="PMS_COMMAND")
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
    for name, what in (
        ("push-suppliers", "create or update the PMS's suppliers as ODS organisations"),
        ("push-actual-fees", "send each linked matter's actual fees (Operate raises fee alerts)"),
    ):
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
    from pms_adapters.fakes.demo_pms.terminal import add_commands as add_demo_pms_commands

    add_demo_pms_commands(pms_sub)  # act in the demo PMS itself: open-matter, pay-disbursement, ...

    imp = sub.add_parser(
        "import",
        help="turn a real solution-export package into a solution folder",
        description="Read a solution export (.zip, the GUID-named file a tenant "
        "saves, or the folder it unzips to) and write a solution folder you can serve.",
    )
    imp.add_argument("package", type=Path, help="the export package (a zip, or an unzipped export folder)")
    imp.add_argument("target", type=Path, nargs="?", help="folder to write (default: the package's name)")
    imp.add_argument("--overwrite", action="store_true", help="replace a non-empty target folder")

    exp = sub.add_parser(
        "export",
        help="write the emulator's whole state to a JSON snapshot",
        description="Write the state in --data-dir to a snapshot that "
        "POST /api/_emulator/import (or `operate load`) reads back.",
    )
    _add_state_args(exp)
    exp.add_argument("output", type=Path, help="snapshot file to write ('-' for standard output)")

    run = sub.add_parser(
        "run",
        help="run one SmartPlan against the emulator's state and print its log and final ctx",
        description="Run a plan file as if a business event had started it: its sharedo.http calls reach "
        "the state in --data-dir (as the ee-app client), its log lines and final ctx are printed. "
        "Exit status 1 when the execution errors.",
    )
    _add_state_args(run)
    run.add_argument(
        "plan",
        type=Path,
        help="the plan file: a script plan (.js: steps, then `return { main: main }`) or a visual workflow (.json, "
        "export or API shape; actions without a GeneratedScript are generated from their templates in the "
        "solution's _IDE/ or the built-ins)",
    )
    run.add_argument("--event", default="sharedo-phase-changed", help="event type (default: sharedo-phase-changed)")
    run.add_argument("--data", type=Path, metavar="FILE", help="JSON file with the event's Data (or the whole event)")
    run.add_argument("--step", default="main", help="entry step (default: main)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input variable in ctx; repeatable (workItemId defaults to Data.sharedoId)",
    )

    init = sub.add_parser(
        "init",
        help="write a new solution folder to start from",
        description="Write a new solution folder: the demo's work types, people, roles, seed and demo PMS, a "
        "first plan with its trigger and a test, and the plans' type declarations in types/ (so jsconfig.json "
        "works wherever the folder goes). Then: operate serve --solution DIR, operate test DIR.",
    )
    init.add_argument("folder", type=Path, help="the folder to write (new, or empty)")
    init.add_argument("--name", help="the solution's name (default: the folder's name; with --from-demo, the demo's)")
    init.add_argument(
        "--from-demo",
        action="store_true",
        help="copy the demo solution as it is (its work types, people, seed, demo PMS, fake Clio firm and the "
        "finance example plans it includes) instead, to change at will",
    )

    test = sub.add_parser(
        "test",
        help="run a solution's tests (*.scenario.yaml and test_*.py in its tests/ folder)",
        description="Run the event-to-workflow tests of a solution folder with the operate pytest plugin. "
        "Exit status is non-zero when a test fails; --junit-xml writes a report any CI can read.",
    )
    test.add_argument("folder", type=Path, nargs="?", default=Path("."), help="the solution folder (default: .)")
    test.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit XML report")
    test.add_argument("-k", metavar="EXPRESSION", help="only tests whose names match (as pytest -k)")
    test.add_argument("-q", "--quiet", action="store_true", help="less output")

    load = sub.add_parser(
        "load",
        help="replace the emulator's state with a JSON snapshot",
        description="Replace the whole state in --data-dir with a snapshot from `operate export` (or "
        "GET /api/_emulator/export). A snapshot it cannot fully use is refused, naming the table, row and "
        "column, and nothing is changed.",
    )
    _add_state_args(load)
    load.add_argument("snapshot", type=Path, help="a file written by `operate export`")

    sync = sub.add_parser(
        "sync",
        help="sync with an integrated system (clio): all matters, or one",
        description="Sync with Clio Manage as 'Sync with Clio' does in Settings > Integrations. Through the "
        "running server's API when `operate serve` holds --data-dir (or --url names a server); otherwise in "
        "this process on --data-dir (with --demo or --solution). --all shows a progress line and a summary; "
        "the CSV of results is e-mailed to --as (when the outbox is configured), and through a server the command "
        "prints a link to it that opens in a browser or curl for 30 minutes. Exit status 1 when the run fails or "
        "the matter is skipped.",
    )
    sync.add_argument("system", choices=["clio"], help="which integration")
    _add_state_args(sync)
    what = sync.add_mutually_exclusive_group(required=True)
    what.add_argument("--all", action="store_true", help="All Cases: every matter in the window (10 years first)")
    what.add_argument("--matter", metavar="ID|URL", help="Individual Case: the integration ID or the Clio matter URL")
    sync.add_argument("--url", help="the running emulator's URL (default: the one holding --data-dir, if any)")
    sync.add_argument("--as", dest="user", help="the Operate user who triggers it (gets the CSV; default: the client)")
    sync.add_argument("--client-id", default="demo-client", help="OAuth client for --url (default: demo-client)")
    sync.add_argument("--client-secret", default="demo-secret", help="its secret (default: demo-secret)")
    sync.add_argument("--timeout", type=float, default=3600.0, help="seconds to follow a run (default: 3600)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return {
            "serve": cmd_serve,
            "import": cmd_import,
            "export": cmd_export,
            "load": cmd_load,
            "run": cmd_run,
            "pms": cmd_pms,
            "fake": cmd_fake,
            "test": cmd_test,
            "init": cmd_init,
            "sync": cmd_sync,
        }[args.command](args)
    except KeyboardInterrupt:
        return 130


def _settings(args, **extra):
    from .settings import Settings

    return Settings(data_dir=args.data_dir, demo=args.demo, solution=args.solution, **extra)


def _open(args, **extra):
    from .core import Emulator
    from .kernel.datadir import DataDirInUse
    from .solution.loading import SolutionError

    try:
        return Emulator(_settings(args, command=f"operate {args.command}", **extra))
    except SolutionError as exc:
        print(f"operate: cannot load the solution: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except DataDirInUse as exc:
        print(f"operate {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as exc:  # a file where the folder should be, a folder that cannot be made or read
        print(f"operate {args.command}: --data-dir {args.data_dir}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except sqlite3.DatabaseError as exc:
        print(
            f"operate {args.command}: --data-dir {args.data_dir}: operate.db is not a state file this tool can "
            f"read ({exc}); move it away, or pass another --data-dir",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    except RuntimeError as exc:  # a state file written by a newer version
        print(f"operate {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args) -> int:
    from .app import create_app
    from .kernel.clock import parse_instant
    from .kernel.http_server import WsgiServer

    start = None
    if args.clock_start:
        try:
            start = parse_instant(args.clock_start)
        except ValueError as exc:
            print(f"operate: --clock-start: {exc}", file=sys.stderr)
            return 2
    if not args.demo and args.solution is None:
        print("operate: nothing to serve; pass --demo or --solution DIR (see operate serve --help)", file=sys.stderr)
        return 2
    em = _open(
        args,
        clock="virtual" if args.virtual_clock else "system",
        clock_start=start,
        inline_dispatch=False,
        fresh=args.fresh,
    )
    app = create_app(emulator=em)
    try:
        server = WsgiServer(app, args.host, args.port)
    except OSError as exc:
        reason = exc.strerror or "the address is in use or not available"
        print(
            f"operate: cannot listen on {args.host}:{args.port}: {reason}; pass --port 0 to pick a free port",
            file=sys.stderr,
        )
        em.close()
        return 2
    pms_server = None
    if args.demo and not args.no_pms and "demo-pms" in em.linked_services.services:
        pms_server = _start_demo_pms(em)
    clio_server = _start_fake_clio(em)
    em.smartplans.on_ended.append(_print_ended)
    em.start_background()
    stop = threading.Event()

    def _stop(*_):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)  # before the banner: a SIGTERM once it is read stops cleanly
    url = f"http://{args.host}:{server.server_port}"
    em.lock.describe(url=url, **({"pms": f"http://127.0.0.1:{pms_server.server_port}"} if pms_server else {}))
    users = sorted(em.identity.users)
    print(f"Operate emulator ready on {url}  (solution: {em.solution.name}, data: {args.data_dir})")
    print("  OAuth client: demo-client / demo-secret  (POST /connect/token, grant_type=client_credentials)")
    if users:
        print(f"  users to impersonate: {', '.join(users)}")
    if pms_server is not None:
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
    from .kernel.http_server import is_loopback_host

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


def _print_ended(ended: dict) -> None:
    """One line per execution that ends, so a person watching `serve` sees a plan fail without polling."""
    on = f" on {ended['workItem']}" if ended["workItem"] else ""
    line = f"execution {ended['plan']}{on}: {ended['state']}"
    if ended["error"]:
        line += f": {ended['error'].splitlines()[0]}"
    print(f"{line}  (GET /api/executionengine/plans/executing/{ended['id']})", flush=True)


def _start_fake_clio(em):
    """`fake = "clio"`: the browser must reach the fake's sign-in page, so serve it on loopback too."""
    if em.clio is None or em.clio.fake is None:
        return None
    return em.clio.serve_fake()


def _start_demo_pms(em):
    """Serve the demo's in-process PMS on a free loopback port too, so people can call it directly."""
    import dataclasses

    from pms_adapters.fakes.demo_pms.app import create_app as create_pms

    from .kernel.http_server import WsgiServer

    service = em.linked_services.services["demo-pms"]
    backend = em.linked_services.fakes.get("demo-pms") or em.linked_services.mount_demo("demo-pms", em.clock)
    pms_server = WsgiServer(create_pms(backend, api_key=service.api_key or DEMO_PMS_KEY), "127.0.0.1", 0)
    threading.Thread(target=pms_server.serve_forever, name="demo-pms", daemon=True).start()
    em.linked_services.add(dataclasses.replace(service, base_url=f"http://127.0.0.1:{pms_server.server_port}"))
    return pms_server


def cmd_sync(args) -> int:
    import httpx

    from .integrations.clio import terminal
    from .kernel.datadir import holder
    from .kernel.errors import ApiError

    mode, matter = ("matter", args.matter) if args.matter else ("all", None)
    note = holder(args.data_dir) if args.url is None else None
    url = args.url or (note or {}).get("url")
    if url and args.url is None and not _answers(url):
        url = None  # a note left by a process that has gone
    if url:
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
        return terminal.over_http(
            url.rstrip("/"), answer.json()["access_token"], mode, matter, args.timeout, sys.stdout
        )
    if args.url is None and not args.demo and args.solution is None:
        print(terminal.no_server(args.data_dir, note), file=sys.stderr)
        return 2
    em = _open(args)
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
        try:
            return terminal.in_process(em.clio, principal, mode, matter, sys.stdout)
        except ApiError as exc:
            print(f"operate sync: {exc.title}", file=sys.stderr)
            return 2
    finally:
        em.close()


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url.rstrip('/')}/api/_emulator/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def cmd_fake(args) -> int:
    from pms_adapters.fakes.clio.server import main as serve_fake_clio

    return serve_fake_clio(args.rest)


def cmd_pms(args) -> int:
    if args.pms_command == "demo":
        from pms_adapters.fakes.demo_pms.server import main as serve_demo_pms

        return serve_demo_pms(["--port", str(args.port), "--host", args.host, "--api-key", args.api_key])
    from pms_adapters.fakes.demo_pms import terminal as demo_pms_terminal

    if args.pms_command in demo_pms_terminal.COMMANDS:
        from .kernel.datadir import holder

        running = holder(args.data_dir) or {}
        return demo_pms_terminal.run(args, args.pms_url or running.get("pms") or f"http://127.0.0.1:{DEMO_PMS_PORT}")
    if args.pms_command in ("push-suppliers", "push-actual-fees"):
        import httpx

        from pms_adapters.demo.adapter import DemoPmsAdapter
        from pms_adapters.push import PushError, operate_client, push_actual_fees, push_suppliers

        from .kernel.datadir import holder

        running = holder(args.data_dir) or {}  # what `operate serve` on that data dir wrote about itself
        args.url = args.url or running.get("url") or f"http://127.0.0.1:{DEFAULT_PORT}"
        args.pms_url = args.pms_url or running.get("pms") or f"http://127.0.0.1:{DEMO_PMS_PORT}"

        try:
            operate = operate_client(args.url, args.client_id, args.client_secret)
        except PushError as exc:
            print(f"operate pms: {exc}", file=sys.stderr)
            return 2
        pms_client = httpx.Client(
            base_url=args.pms_url, headers={"X-API-Key": args.pms_key}, timeout=30, trust_env=False
        )
        try:
            push = push_suppliers if args.pms_command == "push-suppliers" else push_actual_fees
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
    print(
        "operate pms: choose a command: demo, push-suppliers, push-actual-fees, "
        f"{', '.join(demo_pms_terminal.COMMANDS)} (see operate pms --help)",
        file=sys.stderr,
    )
    return 2


def cmd_import(args) -> int:
    from .solution.importer import PackageError, import_package

    target = args.target or Path(args.package.stem)
    try:
        report = import_package(args.package, target, overwrite=args.overwrite)
    except PackageError as exc:
        print(f"operate import: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"Serve it with: operate serve --solution {target}")
    return 0


def cmd_export(args) -> int:
    import tempfile

    from .kernel.datadir import DataDirInUse, DataDirLock

    if not (args.data_dir / "operate.db").is_file():
        print(
            f"operate export: {args.data_dir} holds no state (no operate.db there); nothing to export", file=sys.stderr
        )
        return 2
    probe = DataDirLock(args.data_dir)
    try:
        probe.acquire("operate export")
        probe.release()
        text = _export_text(args)
    except DataDirInUse as exc:  # a live server's: export a consistent copy, without dispatching anything
        print(f"operate export: {exc.holder.get('command', 'another process')} holds {args.data_dir}; "
              "exporting a consistent copy of its state", file=sys.stderr)  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="operate-export-") as tmp:
            _copy_documents(args.data_dir / "documents", Path(tmp) / "documents")
            _copy_state(args.data_dir / "operate.db", Path(tmp) / "operate.db")
            _copy_documents(args.data_dir / "documents", Path(tmp) / "documents")  # and any uploaded meanwhile
            args.data_dir = Path(tmp)
            text = _export_text(args)
    if str(args.output) == "-":
        sys.stdout.write(text + "\n")
    else:
        args.output.write_text(text + "\n", "utf-8")
        print(f"wrote {args.output}")
    return 0


def _export_text(args) -> str:
    em = _open(args)
    try:
        return json.dumps(em.export(), indent=1)
    finally:
        em.close()


def _copy_state(source: Path, target: Path) -> None:
    """SQLite's online backup from a read-only connection: one consistent moment of a database in use."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)  # a URI needs an absolute path
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy_documents(source: Path, target: Path) -> None:
    """A live server's document files, before and after the database copy: they are immutable and named by
    their SHA-256, so a link (or a copy) of each is exact; the copy's emulator drops those no row names."""
    import os
    import shutil

    if not source.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name.startswith(".") or (target / path.name).exists():
            continue  # a half-written upload, or linked already
        try:
            os.link(path, target / path.name)
        except OSError:  # another file system: copy it
            try:
                shutil.copyfile(path, target / path.name)
            except FileNotFoundError:
                continue  # deleted meanwhile


def cmd_run(args) -> int:
    from smartplans.plans import PlanError

    from .app import create_app

    event: dict = {}
    if args.data is not None:
        try:
            event = json.loads(args.data.read_text("utf-8-sig"))
        except (OSError, ValueError) as exc:
            print(f"operate run: cannot read {args.data}: {exc}", file=sys.stderr)
            return 2
        if not isinstance(event, dict):
            print(f"operate run: {args.data}: expected a JSON object (the event's Data)", file=sys.stderr)
            return 2
    data = event.get("Data", event)
    inputs: dict = {"workItemId": data.get("sharedoId")} if data.get("sharedoId") else {}
    for pair in args.set:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            print(f"operate run: --set takes NAME=VALUE, not {pair!r}", file=sys.stderr)
            return 2
        inputs[name] = value
    em = _open(args)
    try:
        create_app(emulator=em)
        try:
            plan = _plan_file(args.plan, em.solution.ide_root)
            em.smartplans.add_plan(plan)
        except PlanError as exc:
            print(f"operate run: {exc}", file=sys.stderr)
            return 2
        ev = {"eventType": args.event, "Data": data}
        execution_id = em.smartplans.start(plan.system_name, args.step, ev, inputs)
        execution = em.smartplans.execution(execution_id)
        for step in execution["steps"]:
            for line in em.smartplans.step_log(execution_id, step["id"]):
                print(f"{line['logTime']} [{step['systemName']}] {line['logLevel']}: {line['logMessage']}")
        print(f"state: {execution['state']}")
        print("ctx: " + json.dumps(execution["ctx"], indent=2, ensure_ascii=False))
        return 1 if execution["state"] == "ERRORED" else 0
    finally:
        em.close()


def _plan_file(path: Path, ide_root: Path | None):
    """A script plan (`.js`), or a visual workflow (`.json`, export or API shape) whose actions' code is
    generated from their templates: the solution's IDE actions and the built-ins."""
    from smartplans.plans import PlanError, script_plan, visual_plan
    from smartplans.workflow_actions import action_types

    from .kernel.jsonfile import JsonFileError, load
    from .solution.loading import workflow_name

    if path.suffix.lower() != ".json":
        return script_plan(path.stem, path, where=path.as_posix())  # errors name the file as it was given
    try:
        doc = load(path)
    except JsonFileError as exc:
        raise PlanError(str(exc)) from None
    return visual_plan(workflow_name(doc, path), doc, types=action_types(ide_root), where=str(path))


def cmd_test(args) -> int:
    from .extras import MissingExtra, need

    try:
        pytest = need("pytest", "operate test")  # not installed with the package: the `test` extra brings it
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 2

    folder = args.folder.resolve()
    if not folder.is_dir():
        print(f"operate test: {args.folder} is not a folder", file=sys.stderr)
        return 2
    tests = folder / "tests" if (folder / "tests").is_dir() else folder
    if not any(tests.rglob("test_*.py")) and not any(tests.rglob("*.scenario.yaml")):
        print(
            f"operate test: no tests in {args.folder}: put test_*.py files (the `operate` fixture) or "
            f"*.scenario.yaml files in {folder / 'tests'}; `operate init DIR` writes a solution with one",
            file=sys.stderr,
        )
        return 5
    argv = [str(tests), "-p", "no:cacheprovider", "--rootdir", str(folder)]
    if (folder / "operate.toml").is_file():
        argv += ["--operate-solution", str(folder)]
    if args.junit_xml:
        argv += ["--junit-xml", str(args.junit_xml)]
    if args.k:
        argv += ["-k", args.k]
    if args.quiet:
        argv.append("-q")
    return int(pytest.main(argv))


def cmd_init(args) -> int:
    from .solution.scaffold import ScaffoldError, copy_demo, init_solution

    try:
        written = (copy_demo if args.from_demo else init_solution)(args.folder, args.name)
    except (ScaffoldError, OSError) as exc:
        print(f"operate init: {exc}", file=sys.stderr)
        return 2
    if args.from_demo:
        print(f"copied the demo solution into {args.folder} ({len(written)} files)")
        print(f"Next: operate serve --solution {args.folder}")
        return 0
    for path in written:
        print(f"wrote {path}")
    print(f"Next: operate test {args.folder}    operate serve --solution {args.folder}")
    return 0


def cmd_load(args) -> int:
    from .kernel.store import SnapshotError

    try:
        snapshot = json.loads(args.snapshot.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        print(f"operate load: cannot read {args.snapshot}: {exc}", file=sys.stderr)
        return 2
    em = _open(args)
    try:
        em.import_snapshot(snapshot)
    except SnapshotError as exc:
        print(f"operate load: {args.snapshot}: {exc}", file=sys.stderr)
        return 2
    finally:
        em.close()
    print(f"loaded {args.snapshot} into {args.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
