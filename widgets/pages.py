"""The portal harness's pages: the gallery, one widget on a portal-like page, a work item's portal page.

    /widgets                         every widget (the solution's and the built-in ones) with its scenarios
    /widgets/<id>?workItem=&user=&scenario=&config=&chrome=&title=&icon=
    /portal/<workItemId>?user=&scenario=&page=
    /_harness/...                    the host script, its styles, the pinned libraries, a user's session
    /_harness/signin?next=  /_harness/callback  /_harness/signout   sign-in through the emulator's OIDC flow

Pages need no token (they are the emulator's own, on this machine); what the widgets call is the
real API with a bearer token for the chosen user, so permissions apply as on a tenant. Who that user is:
`?user=` when given (the tests' shortcut), else whoever signed in at /_harness/signin, which runs the code
flow with PKCE against /connect/authorize as the built-in public client `operate-portal`, else the scenario's.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, g, jsonify, redirect, render_template, request

from emulator.context import current_emulator
from emulator.identity import OAuthError
from emulator.kernel.clock import iso
from emulator.kernel.errors import ApiError, error_body
from emulator.oidc import s256
from emulator.solution.pluginfiles import plugins_root
from emulator.workitem_reads import WorkItemReads

from . import accessibility, apicookie, handout, plugins
from .data_scenarios import DataScenarioError, apply, describe, for_widget
from .manifests import WidgetManifests, scan
from .modes import ModeError, Modes, choices
from .page_boot import (
    PORTAL_CLIENT,
    Slot,
    page_context,
    portal_globals,
    portal_slots,
    portals,
    sharedo_globals,
    slot_for,
)
from .portals import Placement, PortalError, strict_json
from .vendor import SCRIPTS, STYLES, URL_PREFIX, vendor_file

STATIC = Path(__file__).parent / "static" / "host"
HOST_FILES = {
    "operate-host.js": "application/javascript",
    "sharedo-globals.js": "application/javascript",  # the Sharedo namespace, $ui.widgets, calls watched
    "operate-bindings.js": "application/javascript",  # nativeDropZone, plugin configuration widgets
    "aspect-host.js": "application/javascript",
    "scenario-key.js": "application/javascript",  # the page's scenario key on its calls through the proxy
    "harness.css": "text/css",
}
MAX_LISTED_WORK_ITEMS = 200
MAX_CONFIG_CHARS = 100_000
MAX_WATCHED = 50_000  # files live reload looks at per IDE folder (docs/widgets.md says so)

bp = Blueprint("widgets", __name__, template_folder="templates")
bp.after_request(apicookie.attach)
bp.register_blueprint(plugins.bp)  # /_harness/plugins/<Plugin>/configuration
bp.register_blueprint(accessibility.bp)  # /_harness/axe/...: axe-core for assert_accessible and the gallery
TOKEN_ROUTES = {"widgets.preview", "widgets.portal_page", "widgets.session"}  # pages and routes carrying a token


@bp.before_request
def _own_pages_only() -> Response | None:
    """A token only for the emulator's own pages, never another origin's (widgets/handout.py)."""
    return handout.refusal() if request.endpoint in TOKEN_ROUTES else None


def _em() -> Any:
    return current_emulator()


def _widget_manifests() -> WidgetManifests:
    return scan(_em().solution.ide_root, plugins_root(_em().solution.root))


def _work_items(em: Any) -> list[dict[str, Any]]:
    return WorkItemReads(em.store).pickable(MAX_LISTED_WORK_ITEMS)


def _session(em: Any, user: str | None) -> dict[str, Any]:
    signed = _signed_in(em)
    if user and signed and signed["user"].lower() == user.lower():
        token = signed["at"]  # the token the sign-in's code bought (or its refresh since)
    else:
        token = em.identity.issue(PORTAL_CLIENT, user) if user else None
    apicookie.remember(token)  # the `_api` cookie carries it to widgets that call fetch themselves
    return {"token": token, "user": user, "expiresIn": int(em.identity.access_ttl.total_seconds())}


# -- signing in to the harness: the code flow with PKCE, as a tenant's portal would ----------------
SIGNIN_COOKIE = "operate.harness"  # the harness's own tokens for the signed-in user (HttpOnly)
PENDING_COOKIE = "operate.harness.pending"  # state, PKCE verifier and where to go back, during sign-in
HARNESS_SCOPES = "openid profile sharedo offline_access"


def _issuer() -> str:
    return request.url_root.rstrip("/")


def _callback_uri() -> str:
    return _issuer() + "/_harness/callback"  # operate-portal's registered redirect_uris: ["/_harness/callback"]


def _signed_in(em: Any) -> dict[str, str] | None:
    """{user, at, rt} of the harness sign-in, its access token renewed by the refresh token when it has run
    out; None when no one signed in (or the tokens were revoked)."""
    if "harness_signin" in g:
        return g.harness_signin
    found = None
    try:
        raw = json.loads(request.cookies.get(SIGNIN_COOKIE) or "null")
    except (ValueError, RecursionError):  # a cookie nobody here wrote (3,000 nested brackets): no one signed in
        raw = None
    if isinstance(raw, dict) and all(isinstance(raw.get(k), str) for k in ("at", "rt")):
        try:
            principal = em.identity.authenticate(f"Bearer {raw['at']}")
            if principal.client_id == PORTAL_CLIENT and principal.user_name:
                found = {"user": principal.user_name, "at": raw["at"], "rt": raw["rt"]}
        except ApiError:  # expired or revoked: try the refresh token
            found = _refreshed(em, raw["rt"])
        if found is None:
            found = _renewed(em, raw["rt"])  # the virtual clock jumped past both tokens: still signed in
    g.harness_signin = found
    return found


def signed_in(em: Any) -> dict[str, str] | None:
    """Who signed in at /_harness/signin, for the emulator's other pages: {user, at, rt} or None. One
    sign-in serves the harness and the web pages alike."""
    return _signed_in(em)


def _refreshed(em: Any, refresh_token: str) -> dict[str, str] | None:
    form = {"grant_type": "refresh_token", "client_id": PORTAL_CLIENT, "refresh_token": refresh_token}
    try:
        body = em.identity.token_request(form, None, _issuer())
    except OAuthError:
        return None
    user = em.identity.authenticate(f"Bearer {body['access_token']}").user_name
    g.harness_cookie = json.dumps({"at": body["access_token"], "rt": body["refresh_token"], "user": user})
    return {"user": user, "at": body["access_token"], "rt": body["refresh_token"]}


def _renewed(em: Any, refresh_token: str) -> dict[str, str] | None:
    """The user the server issued `refresh_token` to (the cookie's `user` is only a note, never trusted)."""
    try:
        body = em.identity.renew_signin(PORTAL_CLIENT, refresh_token)
    except OAuthError:
        return None
    user = em.identity.authenticate(f"Bearer {body['access_token']}").user_name
    g.harness_cookie = json.dumps({"at": body["access_token"], "rt": body["refresh_token"], "user": user})
    return {"user": user, "at": body["access_token"], "rt": body["refresh_token"]}


@bp.after_app_request
def _keep_signin(response: Response) -> Response:
    """A refresh during the request rotated the tokens: the browser keeps the new ones."""
    if g.get("harness_cookie"):
        response.set_cookie(SIGNIN_COOKIE, g.harness_cookie, httponly=True, samesite="Lax", path="/")
    return response


@bp.app_context_processor
def _signin_context() -> dict[str, Any]:
    return {"harness_user": lambda: (_signed_in(_em()) or {}).get("user")}


def _local_path(target: str | None) -> str:
    """Only a path on this server: `next=//evil.example` must not make the harness an open redirector."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return "/widgets"
    return target


@bp.get("/_harness/signin")
def harness_signin():
    state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    query = {
        "client_id": PORTAL_CLIENT,
        "response_type": "code",
        "scope": HARNESS_SCOPES,
        "redirect_uri": _callback_uri(),
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "prompt": "login",  # choosing who to be is the point of this link
    }
    response = redirect("/connect/authorize?" + urlencode(query))
    pending = json.dumps({"state": state, "verifier": verifier, "next": _local_path(request.args.get("next"))})
    response.set_cookie(PENDING_COOKIE, pending, httponly=True, samesite="Lax", path="/_harness")
    return response


@bp.get("/_harness/callback")
def harness_callback():
    em = _em()
    try:
        pending = json.loads(request.cookies.get(PENDING_COOKIE) or "null")
    except ValueError:
        pending = None
    if not isinstance(pending, dict) or not secrets.compare_digest(
        str(pending.get("state", "")), request.args.get("state", "")
    ):
        return _refuse(400, "the sign-in's state does not match the one this browser started; sign in again")
    if request.args.get("error"):
        return _refuse(400, f"sign-in failed: {request.args['error']}: {request.args.get('error_description', '')}")
    form = {
        "grant_type": "authorization_code",
        "client_id": PORTAL_CLIENT,
        "code": request.args.get("code", ""),
        "redirect_uri": _callback_uri(),
        "code_verifier": str(pending.get("verifier", "")),
    }
    try:
        body = em.identity.token_request(form, None, _issuer())  # what POST /connect/token runs
    except OAuthError as exc:
        return _refuse(400, f"the code could not be redeemed: {exc.error}: {exc.description}")
    response = redirect(_local_path(pending.get("next")))
    user = em.identity.authenticate(f"Bearer {body['access_token']}").user_name
    cookie = json.dumps({"at": body["access_token"], "rt": body["refresh_token"], "user": user})
    response.set_cookie(SIGNIN_COOKIE, cookie, httponly=True, samesite="Lax", path="/")
    response.delete_cookie(PENDING_COOKIE, path="/_harness")
    return response


@bp.get("/_harness/signout")
def harness_signout():
    em = _em()
    signed = _signed_in(em)
    if signed:
        for token in (signed["at"], signed["rt"]):
            em.identity.revoke(token, PORTAL_CLIENT)
    g.harness_cookie = None
    query = {"client_id": PORTAL_CLIENT, "post_logout_redirect_uri": _issuer() + "/widgets"}
    response = redirect("/connect/endsession?" + urlencode(query))
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


def _page_user(em: Any) -> str | None:
    """`?user=` when given; else the signed-in user; else None (the scenario chooses)."""
    return request.args.get("user") or (_signed_in(em) or {}).get("user")


def _refuse(status: int, message: str) -> Response:
    html = render_template("problem.html", status=status, message=message, widget_manifests=None)
    return Response(html, status=status, mimetype="text/html")


def _render(title: str, slots: list[Slot], applied: Any, scenarios: dict, extra: dict[str, Any]) -> str | Response:
    em = _em()
    work_item = em.workitems.find(applied.work_item) if applied.work_item else None
    widget_manifests: WidgetManifests = extra.pop("widget_manifests")
    try:  # ?locale=&currency=&viewport= (widgets/modes.py), in the page context before any widget runs
        extra["modes"] = Modes.from_args(request.args)
    except ModeError as exc:
        return _refuse(400, str(exc))
    runnable = [s.manifest for s in slots if s.manifest and not s.problem and s.hidden is None]
    scripts = list(dict.fromkeys(src for m in runnable for src in m.scripts))
    styles = list(dict.fromkeys(href for m in runnable for href in m.styles))
    boot = _boot(em, slots, applied, widget_manifests, work_item, scripts, styles, extra)
    try:
        boot_json = json.dumps(boot, allow_nan=False).replace("<", "\\u003c")  # no "</script>" or "<!--" ends it
    except ValueError:
        return _refuse(400, "a configuration holds NaN or Infinity, which JSON (and the browser) cannot read")
    return render_template(
        "page.html",
        title=title,
        slots=slots,
        boot_json=boot_json,
        vendor_scripts=[URL_PREFIX + s for s in SCRIPTS],
        vendor_styles=[URL_PREFIX + s for s in STYLES],
        widget_styles=styles,
        widget_scripts=scripts,
        widget_templates=list(dict.fromkeys(t for m in runnable for t in [*m.templates, *m.menu_templates])),
        applied=applied,
        work_item=work_item,
        work_items=_work_items(em),
        users=sorted(p["userName"] for p in em.identity.users.values()),
        scenarios=describe(scenarios),
        errors=widget_manifests.errors + extra.pop("page_errors", []) + _no_user_problem(em, applied.user),
        mode_choices=choices(),
        **extra,
    )


def _boot(
    em: Any,
    slots: list[Slot],
    applied: Any,
    widget_manifests: WidgetManifests,
    work_item: Any | None,
    scripts: list[str],
    styles: list[str],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """What the host page boots with (`operate-host.js` reads it); takes the plugin entry out of `extra`."""
    return {
        "preloaded": scripts,  # the page carries these as <script> tags: fetched at once, run in order
        "preloadedStyles": styles,
        "session": _session(em, applied.user),
        "pageContext": page_context(
            em, applied.user, work_item, page=extra.get("page_name", "widget-preview"), modes=extra["modes"]
        ),
        "modes": extra["modes"].to_json(),  # the page's modes (widgets/modes.py), for tests and snapshots
        "slots": [s.to_json() for s in slots if s.hidden is None],
        "panels": {m.id: m.to_json() for m in widget_manifests.manifests.values() if m.kind == "panel"},
        "widgets": {m.id: m.to_json() for m in widget_manifests.widgets()},
        "sharedoGlobals": sharedo_globals(),  # the Sharedo namespace, stand-ins, what is proxied [inferred]
        "scenario": applied.name,
        "scenarioKey": applied.key,  # sent on this page's proxy calls only: its scenario is its own
        "live": _newest_change(em) if request.args.get("live") == "1" else None,
        "mode": extra.get("mode", "widget"),
        "plugin": extra.pop("plugin", None),  # a plugin configuration widget's plugin and configuration
        "workTypeSystemName": work_item.type if work_item else None,
        # How an aspect's `_host.model` maps the work item [inferred]: widgets/portal-globals.json.
        "aspectModel": portal_globals()["aspectModel"] if extra.get("mode") == "aspect" else None,
        # On a virtual clock the page's `Date` follows the emulator's, as plans' `Date` does in V8.
        "virtualNow": iso(em.clock.now()) if em.clock.is_virtual else None,
    }


def _no_user_problem(em: Any, user: str | None) -> list[str]:
    """Why the widgets' calls will be refused when the page has no user: named, never a bare 401."""
    if user:
        return []
    return [
        "No user to sign in as: this solution has no users, so the widgets' API calls carry no token and are refused "
        '(401). Add a person with "isUser": true and a "userName" to the solution\'s ods/people.json '
        "(docs/solution-format.md; `operate import` adds emulator.admin and emulator.user) and restart."
    ]


@bp.get("/widgets")
def gallery():
    widget_manifests = _widget_manifests()
    _, portal_errors = portals(_em())
    entries = []
    for manifest in sorted(widget_manifests.widgets(), key=lambda m: (m.builtin, m.title.lower())):
        scenarios, problem = for_widget(manifest)
        entries.append({"manifest": manifest, "scenarios": describe(scenarios), "problem": problem})
    em = _em()
    return render_template(
        "gallery.html",
        entries=entries,
        errors=widget_manifests.errors + portal_errors + ([] if em.identity.users else _no_user_problem(em, None)),
        work_items=_work_items(em),
        users=sorted(p["userName"] for p in em.identity.users.values()),
        solution=em.solution.name,
        mode_choices=choices(),
        axe_script=accessibility.AXE_SCRIPT,
    )


def _config_arg() -> dict[str, Any]:
    raw = request.args.get("config")
    if not raw:
        return {}
    if len(raw) > MAX_CONFIG_CHARS:
        raise ValueError(f"config is longer than {MAX_CONFIG_CHARS} characters")
    try:
        value = strict_json(raw)
    except ValueError as exc:
        raise ValueError(f"config is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("config must be a JSON object (the placement's ConfigurationJson)")
    return value


@bp.get("/widgets/<widget_id>")
def preview(widget_id: str):
    widget_manifests = _widget_manifests()
    manifest = widget_manifests.get(widget_id)
    if manifest is None:
        known = ", ".join(m.id for m in widget_manifests.widgets()) or "none"
        return _refuse(404, f"no widget {widget_id!r} in the solution's _IDE folder or the built-ins; known: {known}")
    if manifest.kind != "widget":
        return _refuse(400, f"{widget_id!r} is a blade (.panel.json): a widget opens it with $ui.stacks.openPanel")
    mode = request.args.get("mode") or "widget"
    if mode not in ("widget", "aspect"):
        return _refuse(400, f"mode must be 'widget' or 'aspect', not {mode[:40]!r}")
    for switch in ("chrome", "live"):  # a typo (`live=yes`) would otherwise do nothing, silently
        if request.args.get(switch, "0") not in ("0", "1"):
            return _refuse(400, f"{switch} must be 0 or 1, not {request.args[switch][:40]!r}")
    em = _em()
    scenarios, problem = for_widget(manifest)
    try:
        config = _config_arg()
        service = config.get("linkedService", manifest.default_configuration().get("linkedService"))
        applied = apply(
            em,
            scenarios,
            request.args.get("scenario") or None,
            work_item=request.args.get("workItem") or None,
            user=_page_user(em),
            service=service if isinstance(service, str) else None,
        )
    except (ValueError, DataScenarioError) as exc:
        return _refuse(400, str(exc) if not problem else f"{exc} ({problem})")
    placement = Placement(
        id="preview",
        widget=manifest.id,
        zone="middle-top",
        order=0,
        with_chrome=request.args.get("chrome", "1") != "0",
        title=request.args.get("title") or None,
        icon=request.args.get("icon") or None,
        configuration=config,
        row={},
    )
    slot = slot_for(widget_manifests, "p0", placement)
    extra: dict[str, Any] = {}
    if manifest.configures_plugin:
        try:
            extra["plugin"] = plugins.boot_entry(em, manifest.configures_plugin, manifest.id)
        except ValueError as exc:
            return _refuse(400, str(exc))
    return _render(
        manifest.title,
        [slot],
        applied,
        scenarios,
        {
            "widget_manifests": widget_manifests,
            "manifest": manifest,
            "mode": mode,
            "page_errors": [problem] if problem else [],
        }
        | extra,
    )


def _by_reference(em: Any, reference: str) -> Any:
    found = WorkItemReads(em.store).id_by_reference(reference)
    return em.workitems.find(found) if found else None


def _page_exists(em: Any, work_item: Any, page_id: str) -> bool:
    """Whether any portal of the work item's type (or an ancestor's) has that page, before a scenario runs."""
    found, _ = portals(em)
    chain = set(em.solution.worktypes.ancestors(work_item.type)) if work_item.type in em.solution.worktypes else set()
    return any(p.find_page(page_id) for p in found if p.work_type in chain)


@bp.get("/portal/<work_item_id>")
def portal_page(work_item_id: str):
    em = _em()
    widget_manifests = _widget_manifests()
    work_item = em.workitems.find(work_item_id) or _by_reference(em, work_item_id)
    if work_item is None:
        return _refuse(404, f"no work item {work_item_id[:80]!r} (give its id or its reference)")
    page_id = request.args.get("page") or None
    if page_id is not None and not _page_exists(em, work_item, page_id):
        return _refuse(400, f"no portal page {page_id[:80]!r} for {work_item.type} (a page's Id or PageSystemName)")
    try:
        scenarios, _ = for_widget(None)
        applied = apply(
            em,
            scenarios,
            request.args.get("scenario") or None,
            work_item=work_item.id,
            user=_page_user(em),
        )
    except DataScenarioError as exc:
        return _refuse(400, str(exc))
    work_item = em.workitems.get(work_item.id)
    try:
        portal, slots = portal_slots(em, widget_manifests, work_item, applied.user, page_id)
    except PortalError as exc:
        return _refuse(400, str(exc))
    title = f"{work_item.reference or ''} {work_item.title}".strip()
    return _render(
        title,
        slots,
        applied,
        scenarios,
        {
            "widget_manifests": widget_manifests,
            "portal": portal,
            "page_errors": portals(em)[1],
            "page_name": "work-item-portal",
            "mode": "portal",
        },
    )


# -- the host's own files ------------------------------------------------------------------------
def host_url(name: str) -> str:
    """The host file's URL with its modification time, so a browser may keep it until it changes."""
    return f"/_harness/{name}?v={(STATIC / name).stat().st_mtime_ns}"


@bp.app_context_processor
def _host_urls() -> dict[str, Any]:
    return {"host_url": host_url}


@bp.get("/_harness/<name>")
def host_file(name: str):
    if name not in HOST_FILES:
        abort(404)
    versioned = request.args.get("v") == str((STATIC / name).stat().st_mtime_ns)
    cache = "public, max-age=31536000, immutable" if versioned else "no-cache"
    response = Response((STATIC / name).read_bytes(), mimetype=HOST_FILES[name], headers={"Cache-Control": cache})
    response.add_etag()
    return response.make_conditional(request)


@bp.get(URL_PREFIX + "<package>/<path:path>")
def vendor(package: str, path: str):
    found = vendor_file(package, path)
    if found is None:
        abort(404)
    mime = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    if found.suffix == ".js":
        mime = "application/javascript"
    elif found.suffix == ".woff2":
        mime = "font/woff2"
    return Response(found.read_bytes(), mimetype=mime, headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/_harness/session")
def session():
    """A fresh token for the page's user, when the one it booted with has expired on the clock."""
    em = _em()
    user = request.args.get("user") or ""
    if user.lower() not in em.identity.users:
        known = ", ".join(sorted(em.identity.users)) or "none"
        return jsonify(
            error_body(404, f"no user {user[:60]!r}; users: {known}", [{"field": "user", "message": "unknown"}])
        ), 404
    signed = _signed_in(em)
    if signed and signed["user"].lower() == user.lower():  # the access token ran out: the refresh token renews it
        renewed = _refreshed(em, signed["rt"])
        if renewed is None:
            return jsonify(error_body(401, "the sign-in has ended; sign in again at /_harness/signin")), 401
        g.harness_signin = renewed
    return jsonify(_session(em, em.identity.users[user.lower()]["userName"]))


def _newest_change(em: Any) -> float:
    """The newest modification time under the IDE folders (a bounded walk), for live reload."""
    newest = 0.0
    plugins = plugins_root(em.solution.root)
    for root in [*em.ide_roots, *([plugins] if plugins else [])]:  # a plugin's widget files reload the page too
        for count, path in enumerate(root.rglob("*")):
            if count > MAX_WATCHED:
                break
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
    return newest


@bp.get("/_harness/changes")
def changes():
    """So a page can reload itself after an edit: it compares with the stamp it was rendered with."""
    return jsonify({"stamp": _newest_change(_em())})
