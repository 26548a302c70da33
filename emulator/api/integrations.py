"""`/api/_emulator/integrations/clio/...`: connect, disconnect, the nightly setting, the mappings, syncs
and their results; and `/integrations/clio/callback`, where Clio sends the browser back after "Allow Access".

Who may do what [inferred names, emulator/catalogue/security.json]: `core.integrations.manage` (an
administrator: connect, disconnect, edit the mappings, turn the nightly sync on or off) and
`core.integrations.sync` (start a sync, read the results).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from ..integrations.clio.connection import ConnectError
from ..integrations.clio.links import RESULTS_PAGE
from ..kernel.binding import Fields
from ..kernel.errors import ApiError
from ..web.frame import note
from .common import answers, body, caller, int_arg, table_blueprint

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..integrations.clio.integration import ClioIntegration

API = "/api/_emulator/integrations/clio"
MANAGE = "core.integrations.manage"
SYNC = "core.integrations.sync"
CALLBACK = "/integrations/clio/callback"
RETURN_TO = r"^/(?:[!-.0-\[\]-~][!-~]*)?$"  # a path here: printable ASCII, never `//host` or `/\\host`


def _status(clio: ClioIntegration) -> dict[str, Any]:
    return {
        **clio.connection.status(),
        "syncRunning": clio.sync.running,
        "mappings": clio.mappings.get(),
        "pendingPushes": clio.pushes.pending(),
    }


def callback_uri() -> str:
    return request.host_url.rstrip("/") + CALLBACK


def blueprint(clio: ClioIntegration | None) -> Blueprint:
    """The Clio routes over `clio`, the integration they serve (None: not configured, and each route says so)."""

    def configured() -> ClioIntegration:
        if clio is None:
            raise ApiError(404, "Clio is not configured: add [integrations.clio] to the solution's operate.toml")
        return clio

    bp = table_blueprint(
        "integrations",
        __name__,
        [
            (f"GET {API}", "status", answers(SYNC, lambda: _status(configured()))),
            (f"POST {API}/disconnect", "disconnect", answers(MANAGE, lambda: configured().connection.disconnect())),
            (f"GET {API}/mappings", "get_mappings", answers(SYNC, lambda: configured().mappings.get())),
            (f"GET {API}/runs/<run_id>/results", "results",
             answers(SYNC, lambda run_id: {"rows": configured().sync.results(run_id)})),
        ],
    )  # fmt: skip

    @bp.post(f"{API}/connect")
    def connect():
        principal = caller(MANAGE)
        given = body(required=False)
        if given is None and request.get_data(cache=True).strip():
            raise ApiError(400, '(body): an object such as {} or {"returnTo": "/settings/integrations"}, not null')
        f = Fields(given)  # not an object: a 400 naming the body
        return_to = f.string("returnTo", max_length=500)
        f.raise_if_errors()
        if return_to is not None and not re.fullmatch(RETURN_TO, return_to):
            raise ApiError(400, "returnTo: a path on this emulator (one / first, on one line)")
        url = configured().connection.begin(principal.user_name, callback_uri(), return_to)
        return jsonify({"authorizeUrl": url, "redirectUri": callback_uri()})

    @bp.get(CALLBACK)
    def connect_callback():
        """Clio's redirect: the `state` proves which connect this is, so no session is needed here."""
        clio = configured()
        try:
            status, return_to = clio.connection.complete(request.args.to_dict(), callback_uri())
        except ConnectError as exc:
            if exc.return_to:  # Deny (or a failed exchange) returns to Settings › Integrations, as Allow does
                why = exc.title if exc.title.startswith("not connected") else f"not connected: {exc.title}"
                return note(redirect(exc.return_to, 303), f"Clio is {why}", "error")
            return render_template("integrations/callback.html", ok=False, message=exc.title), exc.status
        if return_to:
            return redirect(return_to)
        return render_template("integrations/callback.html", ok=True, status=status)

    @bp.put(f"{API}/nightly")
    def nightly():
        caller(MANAGE)
        f = Fields(body())
        enabled = f.boolean("enabled")
        if enabled is None and not f.errors:
            f.error("enabled", "required: true or false")
        f.raise_if_errors()
        return jsonify(configured().connection.set_nightly(bool(enabled)))

    @bp.put(f"{API}/mappings")
    def put_mappings():
        caller(MANAGE)
        return jsonify(configured().mappings.put(body()))

    @bp.post(f"{API}/sync")
    def sync():
        """`{"mode": "all"}` starts All Cases (202, follow `runs/{id}`; `"wait": true` answers when done);
        `{"mode": "matter", "matter": "<integration ID or Clio URL>"}` answers with that matter's result."""
        principal = caller(SYNC)
        f = Fields(body())
        mode = f.string("mode", required=True, allow_empty=False, max_length=20)
        matter = f.raw("matter")
        wait = f.boolean("wait")
        if mode not in (None, "all", "matter"):
            f.error("mode", f'"all" or "matter", not {mode!r}')
        if mode == "matter" and matter is None:
            f.error("matter", "the integration ID (the number after matters/ in the Clio URL) or the URL")
        if mode == "matter" and matter is not None and not isinstance(matter, (str, int)):
            f.error("matter", "a number or a URL")
        f.raise_if_errors()
        clio = configured()
        if mode == "matter":
            return jsonify(clio.sync.sync_matter(matter, principal))
        if wait:
            return jsonify(clio.sync.sync_all(principal, "all"))
        clio.connection.client()  # not connected: say so now, not in a thread nobody reads
        if clio.sync.running:
            raise ApiError(409, "a Clio sync is already running; wait for it to finish")
        started = threading.Event()
        holder: dict[str, Any] = {}

        def begun(run_id: str) -> None:
            holder["run"] = run_id
            started.set()

        def work() -> None:
            try:
                clio.sync.sync_all(principal, "all", on_started=begun)
            except ApiError as exc:
                holder["error"] = exc
            finally:
                started.set()

        threading.Thread(target=work, name="operate-clio-sync", daemon=True).start()
        started.wait(timeout=30)
        if "error" in holder:
            raise holder["error"]
        if "run" not in holder:
            raise ApiError(504, "the sync did not start within 30 s; see Settings > Integrations for its state")
        return jsonify({**clio.sync.run(holder["run"]), "progress": clio.sync.progress_of(holder["run"])}), 202

    @bp.get(f"{API}/runs")
    def runs():
        caller(SYNC)
        size = int_arg("rowsPerPage", 50, maximum=500)
        return jsonify(configured().sync.runs(size, (int_arg("startPage", 1) - 1) * size))

    @bp.get(f"{API}/runs/<run_id>")
    def run(run_id: str):
        """The run and its progress; once it has ended, a signed link to its CSV that works without a token for a
        while (the caller may read the CSV anyway: `operate sync clio` prints it for a browser or curl)."""
        caller(SYNC)
        clio = configured()
        summary = clio.sync.run(run_id)
        link = {} if summary["state"] == "running" else clio.links.link(summary["id"], _csv_url(summary["id"]))
        return jsonify({**summary, "progress": clio.sync.progress_of(run_id), **link})

    @bp.get(f"{API}/runs/<run_id>/results.csv")
    def results_csv(run_id: str):
        caller(SYNC)
        text = configured().sync.csv(run_id)
        return Response(
            text,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="clio-sync-{run_id[:8]}.csv"'},
        )

    @bp.post(f"{API}/push")
    def push():
        """Run the 2-minute (messages) or 20-minute (documents) push now."""
        caller(SYNC)
        f = Fields(body())
        what = f.string("what", required=True, allow_empty=False, max_length=20)
        if what not in (None, "messages", "documents"):
            f.error("what", f'"messages" or "documents", not {what!r}')
        f.raise_if_errors()
        pushes = configured().pushes
        return jsonify(pushes.push_messages() if what == "messages" else pushes.push_documents())

    return bp


def _csv_url(run_id: str) -> str:
    return request.host_url.rstrip("/") + RESULTS_PAGE.format(run_id)
