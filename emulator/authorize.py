"""`/connect/authorize`'s rules, once its client and redirect_uri are trusted (identity.py checks those
first, as their errors may not go back to the client): each rule a small check, in the order a client hears
about them; and the PKCE verifier a code's redemption must bring."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from . import oidc
from .oidc import PKCE_TEXT, SCOPE

if TYPE_CHECKING:
    from .identity import AuthorizeRequest


def normal_response_type(raw: str) -> str:
    """`token id_token` and `id_token token` are one response type (OAuth 2.0 Multiple Response Types)."""
    parts = raw.split()
    order = ("code", "id_token", "token")
    if parts and len(set(parts)) == len(parts) and all(p in order for p in parts):
        return " ".join(sorted(parts, key=order.index))
    return raw


IMPLICIT_RESPONSE_TYPES = ("token", "id_token", "id_token token")

# Each authorize check below is given the request as built, the response_type as sent and the response_mode as
# sent (or its default), and returns the (error, description) the client hears at its redirect_uri, or None.


def _response_type_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    if not raw_type:
        return "invalid_request", "response_type is required ('code' or 'token')"
    if request.response_type not in oidc.RESPONSE_TYPES:
        supported = ", ".join(repr(t) for t in oidc.RESPONSE_TYPES)
        return "unsupported_response_type", f"response_type {raw_type[:40]!r} is not supported ({supported})"
    return None


def _response_mode_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    if mode not in oidc.RESPONSE_MODES:
        return "invalid_request", f"response_mode {mode[:40]!r} is not one of {', '.join(oidc.RESPONSE_MODES)}"
    if request.response_type in IMPLICIT_RESPONSE_TYPES and mode == "query":
        return "invalid_request", "response_mode 'query' cannot carry tokens; use 'fragment' or 'form_post'"
    return None


def _flow_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    needed = "authorization_code" if request.response_type == "code" else "implicit"
    if needed not in request.client.grants:
        cid = request.client.client_id
        return "unauthorized_client", f"client {cid!r} may not use the {needed} flow (its grants lack it)"
    return None


def _scope_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    scopes = request.scopes
    unknown = [s for s in scopes if s not in oidc.SCOPES]
    if not scopes:
        return "invalid_scope", "scope is required (for example 'sharedo offline_access')"
    if unknown:
        return "invalid_scope", f"unknown scope {unknown[0][:40]!r}; known: {' '.join(oidc.SCOPES)}"
    if SCOPE not in scopes and "openid" not in scopes:
        return "invalid_scope", f"scope must include {SCOPE!r} (API access) or 'openid' (sign-in)"
    return None


def _id_token_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    if "id_token" not in request.response_type.split():
        return None
    if "openid" not in request.scopes:
        return "invalid_scope", "response_type id_token needs the 'openid' scope"
    if not request.nonce:
        return "invalid_request", "nonce is required when an id_token comes back from authorize"
    return None


def _offline_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    if "offline_access" in request.scopes and request.response_type in IMPLICIT_RESPONSE_TYPES:
        return "invalid_scope", "offline_access needs the code flow: the implicit flow issues no refresh token"
    return None


def _pkce_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    if request.code_challenge is None:
        if request.client.public and request.response_type == "code":
            cid = request.client.client_id
            return "invalid_request", f"client {cid!r} has no secret, so it must send a PKCE code_challenge"
        return None
    if request.response_type != "code":
        return "invalid_request", "code_challenge belongs to response_type=code"
    if request.code_challenge_method not in oidc.PKCE_METHODS:
        return "invalid_request", "code_challenge_method must be 'S256' or 'plain'"
    if not PKCE_TEXT.match(request.code_challenge):
        return "invalid_request", "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~"
    return None


def _prompt_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    if "none" in request.prompt and len(request.prompt) > 1:
        return "invalid_request", "prompt 'none' cannot be combined with other values"
    return None


# In the order they are checked: the first problem found is the one the client hears about.
AUTHORIZE_CHECKS = (
    _response_type_problem,
    _response_mode_problem,
    _flow_problem,
    _scope_problem,
    _id_token_problem,
    _offline_problem,
    _pkce_problem,
    _prompt_problem,
)


def first_problem(request: AuthorizeRequest, raw_type: str, mode: str) -> tuple[str, str] | None:
    """The (error, description) of the first rule `request` breaks, or None when it keeps them all."""
    for check in AUTHORIZE_CHECKS:
        problem = check(request, raw_type, mode)
        if problem is not None:
            return problem
    return None


def verifier_problem(challenge: str | None, method: str | None, verifier: str | None) -> str | None:
    """Why `code_verifier` does not prove the code is the caller's (RFC 7636 §4.6), or None when it does.
    A code asked for without a challenge takes no verifier."""
    if challenge is None:
        return "code_verifier was sent but the authorize request had no code_challenge" if verifier else None
    if not verifier:
        return "code_verifier is required: the authorize request sent a code_challenge"
    if not PKCE_TEXT.match(verifier):
        return "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~"
    derived = oidc.s256(verifier) if method == "S256" else verifier
    if not secrets.compare_digest(derived, challenge):
        return f"code_verifier does not match the code_challenge ({method})"
    return None
