"""A client of Clio Manage's API v4, as a sync needs it: the tokens refreshed once on a 401, a 429
waited out for its `Retry-After`, a 5xx retried with backoff and then given up with a clear error,
lists followed page by page (`order=id(asc)`, cursor paging), contacts looked up in batches.

The HTTP seam is an `httpx.Client` (the fake through `httpx.WSGITransport` in tests, Clio over the
network otherwise); waiting goes through `sleep`, so a test's virtual clock moves instead of time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import ClioError

API = "/api/v4"
API_VERSION = "4.0.13"  # pinned, so field meanings do not drift (reference §3.6)
PAGE_SIZE = 200
CONTACT_BATCH = PAGE_SIZE  # ids[] per contacts look-up: one request for a whole page of matters' clients
MAX_RETRIES = 4  # 5xx and transport errors, per call
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE")  # what may be sent again when its answer was lost
MAX_RATE_WAITS = 10  # 429s waited out, per call
MAX_WAIT_SECONDS = 120
MAX_PAGES = 10_000  # a bound on any list walk (2,000,000 records at 200 a page)
MATTER_FIELDS = (
    "id,etag,number,display_number,description,status,open_date,close_date,created_at,updated_at,"
    "matter_stage_updated_at,client{id,name,first_name,last_name,primary_email_address},"
    "practice_area{id,name},matter_stage{id,name},responsible_attorney{id,name,email}"
)
CONTACT_FIELDS = "id,name,first_name,last_name,primary_email_address,phone_numbers{number,name,primary}"


class ClioDisconnected(ClioError):
    """The grant is gone (revoked, or the refresh token refused): the firm has to connect again."""


@dataclass
class Tokens:
    access_token: str
    refresh_token: str


class ClioClient:
    def __init__(
        self,
        http: httpx.Client,
        tokens: Tokens,
        *,
        client_id: str,
        client_secret: str,
        on_refresh: Callable[[Tokens], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http, self.tokens = http, tokens
        self.client_id, self.client_secret = client_id, client_secret
        self.on_refresh = on_refresh  # told of new tokens, to store them
        self.sleep = sleep
        self.requests = 0  # every HTTP request made, retries and refreshes included

    # -- calls ------------------------------------------------------------------------------------
    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        return _body(self._call("GET", path, params=params))

    def post(self, path: str, data: dict[str, Any], params: Any = None) -> dict[str, Any]:
        return _body(self._call("POST", path, params=params, json={"data": data}))

    def patch(self, path: str, data: dict[str, Any], params: Any = None) -> dict[str, Any]:
        return _body(self._call("PATCH", path, params=params, json={"data": data}))

    def delete(self, path: str) -> None:
        self._call("DELETE", path)

    def pages(
        self, path: str, params: dict[str, Any], on_total: Callable[[int], None] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, in id order, following `meta.paging.next` (absolute URLs).

        `on_total` hears `meta.records` (how many the whole list holds) from the first page."""
        url: str | None = path
        query: Any = {"order": "id(asc)", "limit": PAGE_SIZE, **params}
        for number in range(MAX_PAGES):
            if url is None:
                return
            body = _body(self._call("GET", url, params=query))
            records = (body.get("meta") or {}).get("records")
            if number == 0 and on_total is not None and isinstance(records, int):
                on_total(records)
            yield body.get("data") or []
            url, query = _same_host(self.http, (body.get("meta") or {}).get("paging", {}).get("next")), None
        raise ClioError(0, f"{path}: more than {MAX_PAGES} pages; stopped")

    def who_am_i(self) -> dict[str, Any]:
        return self.get("users/who_am_i.json", {"fields": "id,name,email"})["data"]

    def matters(self, on_total: Callable[[int], None] | None = None, **filters: Any) -> Iterator[list[dict[str, Any]]]:
        return self.pages("matters.json", {"fields": MATTER_FIELDS, **filters}, on_total)

    def matter(self, matter_id: int) -> dict[str, Any]:
        return self.get(f"matters/{matter_id}.json", {"fields": MATTER_FIELDS})["data"]

    def contacts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """The contacts with these ids (their phone numbers need this second call: §3.2's one nested level)."""
        out: dict[int, dict[str, Any]] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), CONTACT_BATCH):
            batch = unique[start : start + CONTACT_BATCH]
            params = [("fields", CONTACT_FIELDS), ("limit", str(PAGE_SIZE))] + [("ids[]", str(i)) for i in batch]
            for row in self.get("contacts.json", params)["data"]:
                out[row["id"]] = row
        return out

    # -- the one request loop ---------------------------------------------------------------------
    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        target = url if url.startswith(("http://", "https://")) else f"{API}/{url.lstrip('/')}"
        refreshed = False
        retries = rate_waits = 0
        while True:
            headers = {"Authorization": f"Bearer {self.tokens.access_token}", "X-API-VERSION": API_VERSION}
            self.requests += 1
            try:
                response = self.http.request(method, target, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                # A lost answer to a POST or PATCH may have been acted on: only the caller can tell (it looks first).
                if retries >= MAX_RETRIES or method not in IDEMPOTENT:
                    raise ClioError(
                        0, f"{method} {url}: no answer from Clio after {retries + 1} tries ({exc})"
                    ) from None
                self.sleep(self._backoff(retries))
                retries += 1
                continue
            status = response.status_code
            if status == 401 and not refreshed:
                self._refresh()
                refreshed = True
                continue
            if status == 401:
                raise ClioDisconnected(401, "the access was revoked; connect Clio again in Settings > Integrations")
            if status == 429 and rate_waits < MAX_RATE_WAITS:
                self.sleep(min(_retry_after(response), MAX_WAIT_SECONDS))
                rate_waits += 1
                continue
            if status >= 500 and retries < MAX_RETRIES:
                self.sleep(self._backoff(retries))
                retries += 1
                continue
            if status >= 400:
                raise ClioError(status, f"{method} {url}: {_message(response)}", error_type(response))
            return response

    @staticmethod
    def _backoff(retry: int) -> float:
        return float(min(2**retry, 30))  # 1, 2, 4, 8 s

    def _refresh(self) -> None:
        self.requests += 1
        try:
            response = self.http.post(
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.tokens.refresh_token,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
        except httpx.TransportError as exc:
            raise ClioError(0, f"refreshing the Clio token: no answer ({exc})") from None
        if response.status_code in (400, 401):
            raise ClioDisconnected(response.status_code, "Clio refused the refresh token; connect Clio again")
        if response.status_code != 200:
            raise ClioError(response.status_code, f"refreshing the Clio token: {_message(response)}")
        body = response.json()
        # §2.3: a refresh may or may not carry a new refresh token; keep the old one if not.
        self.tokens = Tokens(body["access_token"], body.get("refresh_token") or self.tokens.refresh_token)
        if self.on_refresh is not None:
            self.on_refresh(self.tokens)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0


def _body(response: httpx.Response) -> Any:
    """The JSON object of an answer (else a ClioError), which is then closed: nothing of it outlives reading it."""
    try:
        body = response.json()
    except ValueError:
        raise ClioError(response.status_code, f"{response.request.url.path}: the answer is not JSON") from None
    finally:
        response.close()
    if not isinstance(body, dict):
        raise ClioError(response.status_code, f"{response.request.url.path}: the answer is not a JSON object")
    return body


def _same_host(http: httpx.Client, url: Any) -> str | None:
    """`meta.paging.next` is followed only on Clio's own host: the bearer token goes nowhere else."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise ClioError(0, f"meta.paging.next is not a URL: {str(url)[:80]!r}")
    target, base = httpx.URL(url), http.base_url
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        raise ClioError(0, f"meta.paging.next points away from Clio ({target.scheme}://{target.host}); not followed")
    return url


def error_type(response: httpx.Response) -> str | None:
    """Clio's `error.type` (`UploadNotFoundError`, `RequestExpired`, ...), when the answer has one."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return str(error.get("type")) if isinstance(error, dict) and error.get("type") else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(body.get("error_description") or error or body)[:200]
