"""User avatars (the UserAvatars global feature): `GET /api/v2/public/users/{id}/avatar` → `{mimeType, content}`.

The official mobile app shows `data:${mimeType};base64,${content}` and falls back to the tenant's default image
when the answer is empty [confirmed: sharedo-sample-mobile-app `Profile.vue`, `profileAgent.js`]. Nobody uploads a
picture to the emulator, so every user gets a sensible default: an SVG of their initials on a colour derived from
their id (the same user always looks the same) [inferred: a tenant without an uploaded picture may answer null].
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from .kernel.errors import not_found

# Background colours with white text at AA contrast.
PALETTE = ("#1f5f8b", "#6a3d9a", "#b15928", "#33691e", "#ad1457", "#00695c", "#4e342e", "#283593")


def initials(person: dict[str, Any]) -> str:
    first, last = str(person.get("firstName") or "").strip(), str(person.get("surname") or "").strip()
    letters = (first[:1] + last[:1]) or str(person.get("userName") or "?")[:1]
    return letters.upper()


def avatar_for(person: dict[str, Any]) -> dict[str, str]:
    """The default avatar of an ODS person who is a user."""
    digest = hashlib.sha256(str(person.get("id")).encode()).digest()
    colour = PALETTE[digest[0] % len(PALETTE)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">'
        f'<rect width="128" height="128" fill="{colour}"/>'
        '<text x="64" y="64" dy=".35em" text-anchor="middle" font-family="Arial, sans-serif" font-size="52" '
        f'fill="#ffffff">{escape(initials(person))}</text></svg>'
    )
    return {"mimeType": "image/svg+xml", "content": base64.b64encode(svg.encode()).decode()}


def find_user(users: dict[str, dict[str, Any]], user_id: str) -> dict[str, Any]:
    """The user whose ODS person id is `user_id` (any letter case); 404 otherwise."""
    wanted = user_id.strip().lower()
    for person in users.values():
        if str(person.get("id", "")).lower() == wanted:
            return person
    raise not_found("user", user_id[:60], "userId")
