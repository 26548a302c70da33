"""A private key kept in the data dir as a PEM file: read when there, made and written (owner-only) when not.

The identity server's RS256 signing key (emulator/oidc.py) and the web push VAPID key
(emulator/notifications.py) live the same way: one per data dir, made on first use (not at start: key
generation costs time most runs never need), and a file of the wrong kind is refused by name rather than used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Key = TypeVar("Key")


def load_or_make_key(path: Path, kind: type[Key], kind_name: str, make: Callable[[], Key]) -> Key:
    """The key in `path` when it is there (a ValueError naming the file when it is not a `kind_name` key),
    else a new one from `make`, written to `path` first (through a temporary file, mode 0600)."""
    from cryptography.hazmat.primitives import serialization

    if path.is_file():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, kind):
            raise ValueError(f"{path}: not an {kind_name} key; delete it and a new one is made")
        return loaded
    key = make()
    pem = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.replace(tmp, path)
    return key
