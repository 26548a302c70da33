"""Settings > Integrations: the linked services, and the Clio connection with "Integrate with Clio",
disconnect, the nightly setting, the mapping tables and "Sync with Clio" (All Cases / Individual Case).

Every button is a form that becomes a call to the real API (`/api/_emulator/integrations/clio/...`) as
the signed-in user, so only an administrator (`core.integrations.manage`) connects, maps or turns the
nightly sync on; who may sync (`core.integrations.sync`) syncs. The Individual Case result comes back in
the pop-up after a redirect (`?run=<id>`: a reload shows it again and syncs nothing); All Cases starts and
the CSV is e-mailed to whoever started it (and listed in the Outbox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Response, redirect, request

from ..kernel.errors import ApiError
from .acting import action, call_api, done
from .frame import PageGroup, download, needs_sign_in, note, refuse, render_page

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from ..integrations.clio.integration import ClioIntegration
    from ..linked_services import LinkedServices

API = "/api/_emulator/integrations/clio"
PAGE = "/settings/integrations"
SYNC = "core.integrations.sync"  # what reading a run's results needs, as in the API
RUNS_LISTED = 10


def _lines(text: str, key: str) -> tuple[dict[str, str], str | None]:
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, target = line.partition("=")
        if not sep or not name.strip() or not target.strip():
            return {}, f"{key} line {number}: write 'Clio name = Operate name', not {line[:80]!r}"
        table[name.strip()] = target.strip()
    return table, None


def pages(clio: ClioIntegration | None, linked_services: LinkedServices) -> PageGroup:
    """Settings › Integrations over `clio` (None: not configured) and `linked_services` (listed beside it)."""
    bp = PageGroup("integrations")

    @bp.page(PAGE, nav="Settings › Integrations", order=90)
    def integrations():
        return _page(result=_matter_result(request.args.get("run")))

    def _matter_result(run_id: str | None) -> dict[str, Any] | None:
        """`?run=<id>`: the Individual Case run the POST redirected here with, shown in the pop-up (a reload shows it
        again and syncs nothing). Only for a signed-in user who may read runs; any other id shows no pop-up."""
        if not run_id or clio is None or needs_sign_in(SYNC) is not None:
            return None
        try:
            run = clio.sync.run(run_id[:80])
        except ApiError:
            return None
        if run["kind"] != "matter":
            return None
        results = clio.sync.results(run["id"])
        return {**run, "result": results[0] if results else None}

    def _page(result: dict[str, Any] | None = None, problem: str | None = None, status: int = 200) -> Response:
        context: dict[str, Any] = {"services": sorted(linked_services.services.values(), key=lambda s: s.name)}
        if clio is not None:
            context.update(
                clio=clio.connection.status(),
                mappings=clio.mappings.get(),
                running=clio.sync.running,
                runs=clio.sync.runs(RUNS_LISTED)["rows"],
                pushes=clio.pushes.pending(),
                fake=clio.fake is not None,
            )
        return render_page("integrations.html", "Settings › Integrations", status, result=result, problem=problem,
                           **context)  # fmt: skip

    @bp.post(f"{PAGE}/clio/connect")
    @action
    def connect():
        answer = call_api("POST", f"{API}/connect", {"returnTo": PAGE})
        if not answer.ok:
            return done(answer, "", PAGE)
        return redirect(answer.body["authorizeUrl"], code=303)  # to Clio's sign-in and "Allow Access"

    @bp.post(f"{PAGE}/clio/disconnect")
    @action
    def disconnect():
        return done(call_api("POST", f"{API}/disconnect"), "Clio is disconnected", PAGE)

    @bp.post(f"{PAGE}/clio/nightly")
    @action
    def nightly():
        on = request.form.get("enabled") == "true"
        answer = call_api("PUT", f"{API}/nightly", {"enabled": on})
        return done(answer, f"the nightly sync (21:15 UTC) is {'on' if on else 'off'}", PAGE)

    @bp.post(f"{PAGE}/clio/mappings")
    @action
    def mappings():
        tables: dict[str, dict[str, str]] = {}
        for key in ("practiceAreas", "stages"):
            if key not in request.form:
                continue
            table, problem = _lines(request.form[key], key)
            if problem:
                return note(redirect(PAGE, 303), f"400: {problem}", "error")
            tables[key] = table
        if not tables:
            return refuse(400, "send practiceAreas and/or stages, one 'Clio name = Operate name' a line")
        return done(call_api("PUT", f"{API}/mappings", tables), "the mappings are saved", PAGE)

    @bp.post(f"{PAGE}/clio/sync")
    @action
    def sync():
        mode = request.form.get("mode")
        if mode == "matter":
            answer = call_api("POST", f"{API}/sync", {"mode": "matter", "matter": request.form.get("matter", "")})
            if not answer.ok:
                return _page(problem=answer.problem(), status=answer.status)
            # Redirect after POST: the pop-up shows the run on a GET, so a reload does not sync again.
            return redirect(f"{PAGE}?{urlencode({'run': answer.body['id']})}", code=303)
        if mode == "all":
            answer = call_api("POST", f"{API}/sync", {"mode": "all"})
            return done(answer, "the sync of all cases has started; the CSV of results will be e-mailed to you", PAGE)
        return refuse(400, 'mode is "all" (All Cases) or "matter" (Individual Case)')

    def _run_or_refusal(run_id: str) -> Any:
        """The run a signed-in user who may sync asks for, or the refusal page."""
        refused = needs_sign_in(SYNC)
        if refused is not None:
            return refused
        if clio is None:
            return refuse(404, "Clio is not configured ([integrations.clio] in operate.toml)")
        try:
            return clio.sync.run(run_id)
        except Exception:  # noqa: BLE001 - an unknown id is the one expected failure
            return refuse(404, f"no Clio sync run {run_id[:80]!r}")

    @bp.page(f"{PAGE}/clio/runs/<run_id>")
    def run(run_id: str):
        found = _run_or_refusal(run_id)
        if isinstance(found, Response):
            return found
        return render_page("integration_run.html", "Clio sync run", run=found, results=clio.sync.results(run_id))

    @bp.page(f"{PAGE}/clio/runs/<run_id>.csv")
    def run_csv(run_id: str):
        """For a signed-in user who may sync, or by the signed link `operate sync clio` prints (links.py)."""
        if "signature" in request.args or "expires" in request.args:
            return _signed_csv(run_id)
        found = _run_or_refusal(run_id)
        if isinstance(found, Response):
            return found
        return download(clio.sync.csv(run_id), f"clio-sync-{run_id[:8]}.csv", "text/csv")

    def _signed_csv(run_id: str) -> Response:
        if clio is None:
            return refuse(404, "Clio is not configured ([integrations.clio] in operate.toml)")
        try:
            clio.links.check(run_id, request.args.get("expires"), request.args.get("signature"))
            clio.sync.run(run_id)
        except ApiError as exc:
            return refuse(exc.status, exc.title)
        return download(clio.sync.csv(run_id), f"clio-sync-{run_id[:8]}.csv", "text/csv")

    return bp
