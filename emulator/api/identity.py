"""The identity server's public surface: `/connect/token`, `/connect/revocation`, `/api/security/userInfo`, and
sign-in as on a tenant: discovery, `/connect/authorize` (code with or without PKCE, implicit), the sign-in page,
`/connect/userinfo` and `/connect/endsession`."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from .. import oidc
from ..identity import AuthorizePageError, AuthorizeRedirectError, AuthorizeRequest, OAuthError
from .common import caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..identity import Identity

SESSION_COOKIE = "idsrv.session"  # the identity server's sign-in session (a reference into the tokens table)
CSRF_COOKIE = "idsrv.signin.csrf"  # double-submit token for the sign-in form
SIGNIN_PATH = "/account/login"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def _issuer() -> str:
    """The identity server's URL as this request reached it: what `iss` says and discovery lists."""
    return request.url_root.rstrip("/")


def _oauth_error(exc: OAuthError) -> Response:
    response = jsonify({"error": exc.error, "error_description": exc.description})
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="operate"'
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    html = render_template(f"identity/{template}", **context)
    return Response(html, status=status, mimetype="text/html", headers=PAGE_HEADERS)


def blueprint(identity: Identity) -> Blueprint:
    """The identity server's routes over `identity`: its clients, users, tokens and sign-in sessions."""
    bp = Blueprint("identity", __name__, template_folder="../templates")

    @bp.after_app_request
    def cors(response: Response) -> Response:
        """A browser app on a registered redirect_uri's origin may call the identity server and the API (the SPA
        samples fetch /connect/token and /api/... cross-origin); a tenant allows a client's origins the same way."""
        origin = request.headers.get("Origin")
        if origin and origin in identity.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.vary.add("Origin")
            if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
                response.headers["Access-Control-Allow-Headers"] = (
                    request.headers.get("Access-Control-Request-Headers") or "Authorization, Content-Type, Accept"
                )
                response.headers["Access-Control-Max-Age"] = "600"
        return response

    @bp.post("/connect/token")
    def token():
        try:
            body = identity.token_request(request.form, request.headers.get("Authorization"), _issuer())
        except OAuthError as exc:
            return _oauth_error(exc)
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.post("/connect/revocation")
    def revocation():
        """RFC 7009: always 200, whether or not the token existed or was the caller's to revoke."""
        try:
            client = identity.client_from(request.form.to_dict(), request.headers.get("Authorization"))
        except OAuthError as exc:
            return _oauth_error(exc)
        if request.form.get("token"):
            identity.revoke(request.form["token"], client.client_id)
        return "", 200

    @bp.get("/api/security/userInfo")
    def user_info():
        return jsonify(identity.user_info(caller()))

    # -- OpenID Connect ------------------------------------------------------------------------------
    @bp.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(oidc.discovery(_issuer()))

    @bp.get("/.well-known/openid-configuration/jwks")
    def jwks():
        return jsonify({"keys": [identity.signing_key.jwk()]})

    @bp.route("/connect/authorize", methods=["GET", "POST"])
    def authorize():
        args = (request.form if request.method == "POST" else request.args).to_dict()
        req = _checked(identity, args)
        if isinstance(req, Response):
            return req
        session = identity.signed_in(request.cookies.get(SESSION_COOKIE))
        if session is not None and "login" not in req.prompt and "select_account" not in req.prompt:
            return _complete(identity, req, *session)
        if "none" in req.prompt:
            return _respond(req, {"error": "login_required", "error_description": "no one is signed in (prompt=none)"})
        return _signin_page(identity, urlencode(args), req)

    @bp.post(SIGNIN_PATH)
    def sign_in():
        """The sign-in form's post: a chosen user (no password on the emulator, or the user name as one)."""
        form = request.form
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if not cookie or not secrets.compare_digest(cookie.encode(), (form.get("csrf") or "").encode()):
            return _page(
                "error.html",
                400,
                error="invalid_request",
                description="the sign-in form expired or came from another site (its CSRF token does not match); "
                "start again from the application",
            )
        query = form.get("request") or ""
        req = _checked(identity, dict(parse_qsl(query, keep_blank_values=True)))
        if isinstance(req, Response):
            return req
        if form.get("cancel"):
            return _respond(req, {"error": "access_denied", "error_description": "the user cancelled sign-in"})
        name = (form.get("user") or form.get("username") or "").strip()
        user = identity.users.get(name.lower())
        if user is None:
            problem = f"no user {name[:80]!r} in this solution" if name else "pick a user to sign in as"
            return _signin_page(identity, query, req, 400, problem)
        password = form.get("password") or ""
        if password and password != user["userName"] and password.lower() != user["userName"].lower():
            return _signin_page(
                identity, query, req, 400, "the password is the user name, or nothing (this is a local emulator)"
            )
        session = identity.start_signin(user["userName"])
        response = _complete(identity, req, *identity.signed_in(session))  # type: ignore[misc]
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax", path="/")
        response.delete_cookie(CSRF_COOKIE, path=SIGNIN_PATH)
        return response

    @bp.route("/connect/userinfo", methods=["GET", "POST"])
    def userinfo():
        authorization = request.headers.get("Authorization")
        principal = identity.authenticate(authorization)
        scopes = identity.token_scopes(authorization)
        if "openid" not in scopes:
            response = jsonify(
                {"error": "insufficient_scope", "error_description": "the token lacks the 'openid' scope"}
            )
            response.status_code = 403
            response.headers["WWW-Authenticate"] = 'Bearer realm="operate", error="insufficient_scope", scope="openid"'
            return response
        response = jsonify(identity.userinfo_claims(scopes, principal))
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.route("/connect/endsession", methods=["GET", "POST"])
    def end_session():
        """RP-initiated logout: ends the sign-in session; post_logout_redirect_uri must be registered for the client
        that `id_token_hint` (or `client_id`) names, or the user stays on the emulator's page."""
        args = (request.form if request.method == "POST" else request.args).to_dict()
        client_id = args.get("client_id") or None
        hint = args.get("id_token_hint")
        if hint:
            try:
                audience = identity.signing_key.verify(hint).get("aud")
            except ValueError as exc:
                return _page("error.html", 400, error="invalid_request", description=f"id_token_hint: {exc}")
            if client_id and audience != client_id:
                return _page(
                    "error.html", 400, error="invalid_request", description="id_token_hint is another client's"
                )
            client_id = audience if isinstance(audience, str) else None
        target = args.get("post_logout_redirect_uri")
        client = identity.clients.get(client_id or "")
        if target:
            if client is None:
                return _page(
                    "error.html",
                    400,
                    error="invalid_request",
                    description="post_logout_redirect_uri needs id_token_hint or a known client_id to say whose it is",
                )
            if not client.may_redirect_to(target, _issuer(), logout=True):
                listed = ", ".join(client.post_logout_redirect_uris) or "none"
                return _page(
                    "error.html",
                    400,
                    error="invalid_request",
                    description=f"post_logout_redirect_uri {target[:200]!r} is not registered for client "
                    f"{client.client_id!r} (its post_logout_redirect_uris: {listed})",
                )
        identity.end_signin(request.cookies.get(SESSION_COOKIE))
        if target:
            state = args.get("state")
            response = redirect(
                target
                + (("&" if "?" in target else "?") + urlencode({"state": state}, quote_via=quote) if state else "")
            )
        else:
            response = _page("signed_out.html")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return bp


def _respond(req: AuthorizeRequest, params: dict[str, str | None]) -> Response:
    """Send an authorize response (or error) to the checked redirect_uri in the request's response mode."""
    if req.state is not None:
        params["state"] = req.state
    clean = {k: v for k, v in params.items() if v is not None}
    if req.response_mode == "form_post":
        return _page("form_post.html", action=req.redirect_uri, params=clean)
    encoded = urlencode(clean, quote_via=quote)  # %20, not '+': the samples decode with decodeURIComponent
    if req.response_mode == "fragment":
        target = f"{req.redirect_uri}#{encoded}"
    else:
        target = f"{req.redirect_uri}{'&' if '?' in req.redirect_uri else '?'}{encoded}"
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _complete(identity: Identity, req: AuthorizeRequest, user_name: str, auth_time: int) -> Response:
    if req.response_type == "code":
        return _respond(req, {"code": identity.issue_code(req, user_name, auth_time)})
    return _respond(req, dict(identity.implicit_response(req, user_name, _issuer(), auth_time)))


def _signin_page(
    identity: Identity, query: str, req: AuthorizeRequest, status: int = 200, problem: str | None = None
) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    users = sorted(identity.users.values(), key=lambda u: u["userName"].lower())
    response = _page(
        "signin.html",
        status,
        users=users,
        client_id=req.client.client_id,
        redirect_uri=req.redirect_uri,
        scopes=req.scopes,
        query=query,
        csrf=csrf,
        login_hint=req.login_hint or "",
        problem=problem,
        action=SIGNIN_PATH,
    )
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="Strict", path=SIGNIN_PATH)
    return response


def _checked(identity: Identity, args: dict[str, str]) -> AuthorizeRequest | Response:
    try:
        return identity.authorize_request(args, _issuer())
    except AuthorizePageError as exc:
        return _page("error.html", 400, error=exc.error, description=exc.description)
    except AuthorizeRedirectError as exc:
        return _respond(exc.request, {"error": exc.error, "error_description": exc.description})
