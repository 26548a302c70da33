"""Signed, expiring links to ONE sync run's results CSV, so the URL `operate sync clio --all` prints opens in a
browser or with curl as printed, with no bearer token in it or beside it.

The link is the Settings › Integrations download (`/settings/integrations/clio/runs/{id}.csv`), which otherwise
wants a signed-in user who may sync; `/api/` keeps wanting a bearer token. Only a caller who may read the run
anyway (`core.integrations.sync`) is handed one (`GET runs/{id}`); the link opens that run's CSV and nothing
else, until it expires on the emulator's clock [inferred: Operate has no such command; the shape follows the
documents' `document/{id}/url`]. The key lives in the process, so links die with it; no token is minted,
stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from ...kernel.clock import Clock
from ...kernel.errors import ApiError

RESULTS_PAGE = "/settings/integrations/clio/runs/{}.csv"  # the page's download (web/integrations.py), not /api/
LINK_SECONDS = 1800  # [inferred] how long a printed results link works: time to open it, not to keep it


class ResultLinks:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._secret = secrets.token_bytes(32)

    def _signature(self, run_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"clio-results\n{run_id}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def link(self, run_id: str, url: str) -> dict[str, Any]:
        """`url` (the CSV's own address) with `expires` and `signature`; and for how many minutes it works."""
        expires = int(self.clock.now().timestamp()) + LINK_SECONDS
        query = urlencode({"expires": expires, "signature": self._signature(run_id, expires)})
        return {"resultsCsvUrl": f"{url}?{query}", "resultsCsvUrlMinutes": LINK_SECONDS // 60}

    def check(self, run_id: str, expires: str | None, signature: str | None) -> None:
        """403 unless the link was signed here for this run and has not expired."""
        if not expires or not re.fullmatch(r"[0-9]{1,12}", expires):
            raise ApiError(400, "expires: the link's expiry as `operate sync clio` or GET runs/{id} printed it")
        given = (signature or "").encode("utf-8", "replace")
        if not hmac.compare_digest(self._signature(run_id, int(expires)).encode(), given):
            raise ApiError(
                403,
                "this results link is not signed for this run (or the server restarted since): ask "
                "GET /api/_emulator/integrations/clio/runs/{id} for a new one, or send a bearer token",
            )
        if int(expires) < self.clock.now().timestamp():
            raise ApiError(
                403, "this results link has expired: ask GET /api/_emulator/integrations/clio/runs/{id} for a new one"
            )
