"""The OpenID Connect half of the identity server: the discovery document, the signing key and the
id_token. Kept apart from identity.py, which holds the grants and tokens, because only sign-in needs it.

An ASP.NET `AddOpenIdConnect` client (the time-entry sample) validates a signed id_token against the
keys at `jwks_uri`, so one is issued: RS256 with a 2048-bit key generated once per data dir (on first
use, not at start) and kept next to the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .kernel.keyfile import load_or_make_key

KEY_FILE = "identity-signing-key.pem"

# What /connect/authorize and /connect/token accept. The endpoint paths are Operate's (reference §2);
# the capability lists are the emulator's own [inferred: a tenant's discovery document is not published].
RESPONSE_TYPES = ("code", "token", "id_token", "id_token token")
RESPONSE_MODES = ("query", "fragment", "form_post")
SCOPES = ("openid", "profile", "email", "sharedo", "offline_access")
PKCE_METHODS = ("plain", "S256")
PKCE_TEXT = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1: verifier and challenge alphabet and length
SCOPE = "sharedo"  # the scope of Operate's own API: what a token must carry to call it


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def half_hash(token: str) -> str:
    """OIDC at_hash / c_hash for RS256: the left half of SHA-256, base64url."""
    digest = hashlib.sha256(token.encode()).digest()
    return b64url(digest[: len(digest) // 2])


class SigningKey:
    """The data dir's RS256 key, read or made on first use (key generation costs ~50 ms; most runs never sign)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / KEY_FILE
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()

    def _private(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = load_or_make_key(
                    self.path,
                    rsa.RSAPrivateKey,
                    "RSA",
                    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
                )
            return self._key

    def jwk(self) -> dict[str, Any]:
        numbers = self._private().public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "n": b64url(n), "e": b64url(e)}
        # RFC 7638 thumbprint as the key id: stable for one key, different for the next.
        canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
        return {**jwk, "kid": b64url(hashlib.sha256(canonical.encode()).digest())}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.jwk()["kid"]}
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self._private().sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{b64url(signature)}"

    def verify(self, jwt: str) -> dict[str, Any]:
        """The claims of a token this key signed; ValueError otherwise (the emulator's own check, for tests)."""
        try:
            head, body, signature = jwt.split(".")
            self._private().public_key().verify(
                b64url_decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            return json.loads(b64url_decode(body))
        except Exception as exc:  # noqa: BLE001 - any failure is "not ours"
            raise ValueError(f"not a valid id_token of this emulator: {type(exc).__name__}") from None


def user_claims(user: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
    """The claims for a user: `sub` always; name and the Operate-specific ones with `profile`; email with `email`.
    `sharedo/firstname` and `sharedo/lastname` are what the Outlook sample reads from userinfo [C: its UserInfo.cs]."""
    claims: dict[str, Any] = {"sub": user.get("id") or user["userName"], "idp": "idsrv"}
    if "profile" in scopes:
        first, last = user.get("firstName"), user.get("surname")
        claims.update(
            {
                "name": " ".join(x for x in (first, last) if x) or user["userName"],
                "given_name": first,
                "family_name": last,
                "preferred_username": user["userName"],
                "sharedo/firstname": first,
                "sharedo/lastname": last,
            }
        )
    if "email" in scopes:
        email = primary_email(user)
        if email:
            claims.update({"email": email, "email_verified": True})
    return {k: v for k, v in claims.items() if v is not None}


def primary_email(user: dict[str, Any]) -> str | None:
    details = ((user.get("aspectData") or {}).get("ContactDetails")) or []
    emails = [d for d in details if isinstance(d, dict) and d.get("contactTypeSystemName") == "email"]
    emails.sort(key=lambda d: not d.get("isPrimary"))
    return emails[0].get("contactValue") if emails else None


def id_token_claims(
    issuer: str,
    client_id: str,
    user: dict[str, Any],
    scopes: list[str],
    *,
    now: datetime,
    lifetime_seconds: int,
    auth_time: int | None,
    nonce: str | None,
    access_token: str | None = None,
) -> dict[str, Any]:
    iat = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": client_id,
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime_seconds,
        "auth_time": auth_time or iat,
        "amr": ["pwd"],
        **user_claims(user, scopes),
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["at_hash"] = half_hash(access_token)
    return claims


def discovery(issuer: str) -> dict[str, Any]:
    """`/.well-known/openid-configuration`: what oidc-client(-ts) and ASP.NET's OpenIdConnect read."""
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/openid-configuration/jwks",
        "authorization_endpoint": f"{issuer}/connect/authorize",
        "token_endpoint": f"{issuer}/connect/token",
        "userinfo_endpoint": f"{issuer}/connect/userinfo",
        "end_session_endpoint": f"{issuer}/connect/endsession",
        "revocation_endpoint": f"{issuer}/connect/revocation",
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
        "scopes_supported": list(SCOPES),
        "claims_supported": [
            "sub",
            "idp",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
            "sharedo/firstname",
            "sharedo/lastname",
        ],
        "grant_types_supported": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "implicit",
            "Impersonate.Fixed",
            "Impersonate.Specified",
        ],
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": list(PKCE_METHODS),
        "request_parameter_supported": False,
    }
