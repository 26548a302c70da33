"""Cassettes: what a real linked service answered, recorded once through the proxy and replayed offline.

A linked service with a cassette is reached through `CassetteTransport`, an httpx transport laid over the
service's own (the network, or an in-process fake). Every caller of the service goes through it: the proxy
(`/api/proxy/<service>/_/...`, so `operate serve`, widget pages and plans' `sharedo.http` alike) and the
service's adapter. Modes:

- `replay`: answers only from the cassette; a request it does not hold fails loudly (the proxy's 502),
  naming the nearest recorded request. Nothing reaches the service and no credentials are needed.
- `record`: answers from the cassette when it holds the request, else calls the service and records it.
- `refresh`: calls the service for every request and records each answer again.

A cassette is a folder (`cassettes/<service>/` in the solution), one JSON file per recorded request, named
from the request so a refresh rewrites the same file and a review shows one file per call. Secrets are
redacted before anything is written: the credentials the service was called with (the injected key, bearer
tokens, the service's api_key / client_secret and cached tokens, wherever they appear), the headers
Authorization, Proxy-Authorization, Cookie and Set-Cookie, token fields of a token answer, and the JSON keys
and headers the service's `redact = [...]` names. A file over `max_interaction_kb`, or a folder that would
grow past `max_cassette_kb`, is not written and the call fails saying which limit and how to raise it.
Request headers are not recorded (they carry credentials; requests match without them), nor is the token
request of a `oauth2-client-credentials` service (sent to the service in record modes, never made in replay).
One request (method, path, query, body shape) has one recorded answer: the last one recorded.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MODES = ("replay", "record", "refresh")
REDACTED = "[redacted]"
DEFAULT_MAX_INTERACTION_KB = 512
DEFAULT_MAX_CASSETTE_KB = 8192
# Headers never written as they were, whatever the service's `redact` says.
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "www-authenticate")
# JSON keys never written as they were: what a token endpoint answers and what a login posts.
SECRET_KEYS = ("access_token", "refresh_token", "id_token", "client_secret", "password")
# Response headers not recorded: hop-by-hop, and what the decoded body no longer matches.
UNRECORDED_HEADERS = ("content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date")
BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
SHORTEST_SECRET = 4  # a shorter credential is not searched for in bodies (it would redact ordinary text)


class CassetteError(ValueError):
    """A cassette could not answer or could not be written: the message says which request and why.
    The linked services raise it as their own error (LinkedServiceError), so the proxy answers 502 with it."""


@dataclass(frozen=True)
class CassetteSettings:
    """How a service uses its cassette: `path` as operate.toml gives it (relative to the solution)."""

    path: str
    mode: str = "replay"
    max_interaction_kb: int = DEFAULT_MAX_INTERACTION_KB
    max_cassette_kb: int = DEFAULT_MAX_CASSETTE_KB


def parse_cassette(table: Any, service: str) -> CassetteSettings | None:
    """`replay = "cassettes/<service>"` (replay only) or `cassette = {path=..., mode=..., max_interaction_kb=...,
    max_cassette_kb=...}` of a `[linked_services.<name>]` table (a SettingsTable); None when neither is set."""
    replay, cassette = table.get("replay"), table.get("cassette")
    if replay is not None and cassette is not None:
        table.fail('set replay or cassette, not both (replay = PATH is cassette = {path = PATH, mode = "replay"})')
    if replay is not None:
        if not isinstance(replay, str) or not replay.strip():
            table.fail(f'replay must be a cassette folder such as "cassettes/{service}", not {replay!r}')
        return CassetteSettings(path=replay)
    if cassette is None:
        return None
    if not isinstance(cassette, dict):
        table.fail(f'cassette must be a table such as {{path = "cassettes/{service}", mode = "record"}}')
    unknown = sorted(set(cassette) - {"path", "mode", "max_interaction_kb", "max_cassette_kb"})
    if unknown:
        table.fail(f"cassette: unknown keys {unknown}; known: path, mode, max_interaction_kb, max_cassette_kb")
    path = cassette.get("path", f"cassettes/{service}")
    if not isinstance(path, str) or not path.strip():
        table.fail(f'cassette.path must be a folder such as "cassettes/{service}", not {path!r}')
    mode = cassette.get("mode", "replay")
    if mode not in MODES:
        table.fail(f"cassette.mode must be one of {list(MODES)}, not {mode!r}")
    limits = {}
    for key, default in (
        ("max_interaction_kb", DEFAULT_MAX_INTERACTION_KB),
        ("max_cassette_kb", DEFAULT_MAX_CASSETTE_KB),
    ):
        value = cassette.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            table.fail(f"cassette.{key} must be a whole number of kilobytes from 1, not {value!r}")
        limits[key] = value
    return CassetteSettings(path=path, mode=mode, **limits)


def parse_redact(table: Any) -> tuple[str, ...]:
    """`redact = ["X-Tenant", "accountNumber"]`: header names and JSON keys never written to a cassette."""
    names = table.get("redact", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        table.fail(f'redact must be a list of header names and JSON keys such as ["X-Tenant"], not {names!r}')
    return tuple(names)


# -- what a request is, for matching -------------------------------------------------------------------
def body_shape(content: bytes, content_type: str) -> Any:
    """What a request body looks like without its values: JSON as its keys and value types, a form as its
    field names, anything else as "text" or "binary"; None for no body. Requests match on it."""
    if not content:
        return None
    if "json" in content_type:
        try:
            return _shape(json.loads(content))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        return {"form": sorted({part.split("=", 1)[0] for part in content.decode("latin-1").split("&") if part})}
    try:
        content.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "binary"


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


@dataclass(frozen=True)
class RequestKey:
    """What a recorded request is matched on: method, path (under the service's base path), query, body shape."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    shape: Any

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}{'?' + query if query else ''}"

    def canonical(self) -> str:
        return json.dumps([self.method, self.path, list(map(list, self.query)), self.shape], sort_keys=True)

    def file_name(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.path).strip("-")[:60] or "root"
        digest = hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()[:10]
        return f"{self.method.lower()}-{slug}-{digest}.json"


def key_of(request: httpx.Request, base_path: str, redacted: Callable[[str, str], str]) -> RequestKey:
    path = request.url.path
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :] or "/"
    query = tuple(sorted((k, redacted(k, v)) for k, v in request.url.params.multi_items()))
    shape = body_shape(request.content, request.headers.get("content-type", ""))
    return RequestKey(request.method.upper(), path, query, shape)


def key_from_record(record: dict[str, Any]) -> RequestKey:
    asked = record["request"]
    return RequestKey(
        asked["method"], asked["path"], tuple(tuple(pair) for pair in asked.get("query", [])), asked.get("bodyShape")
    )


# -- redaction -----------------------------------------------------------------------------------------
class Redactor:
    """Takes secrets out of a record before it is written: named headers and keys, and each secret value
    (the credentials of the call, the service's own) wherever it appears, bearer tokens included."""

    def __init__(self, names: Iterable[str], secrets: Iterable[str]) -> None:
        self.names = {n.strip().lower().replace("_", "-") for n in names}
        self.keys = {n.strip().lower() for n in (*names, *SECRET_KEYS)}
        self.secrets = sorted({s for s in secrets if s and len(s) >= SHORTEST_SECRET}, key=len, reverse=True)

    def header_is_secret(self, name: str) -> bool:
        spelled = name.strip().lower().replace("_", "-")
        return spelled in SECRET_HEADERS or spelled in self.names

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        kept: dict[str, str] = {}
        for name, value in headers:
            if name.lower() in UNRECORDED_HEADERS:
                continue
            kept[name] = REDACTED if self.header_is_secret(name) else self.text(value)
        return kept

    def query_value(self, name: str, value: str) -> str:
        return REDACTED if name.strip().lower() in self.keys or self.header_is_secret(name) else self.text(value)

    def json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if k.strip().lower() in self.keys else self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return BEARER.sub(lambda m: m.group(1) + REDACTED, value)


def secrets_of(request: httpx.Request, redactor_names: Iterable[str], header: str | None) -> list[str]:
    """The credential values a request carries: the injected key header, Authorization (and its bearer
    token alone), cookies, and any header the service's `redact` names."""
    names = {*SECRET_HEADERS, *(n.lower().replace("_", "-") for n in redactor_names)}
    if header:
        names.add(header.lower().replace("_", "-"))
    found: list[str] = []
    for name, value in request.headers.items():
        if name.lower().replace("_", "-") in names:
            found.append(value)
            found.extend(part for part in value.split() if len(part) >= SHORTEST_SECRET)
            found.extend(c.split("=", 1)[1] for c in value.split(";") if "=" in c)
    return found


# -- the cassette on disk ------------------------------------------------------------------------------
_FOLDER_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _lock_for(folder: Path) -> threading.Lock:
    with _LOCKS_LOCK:
        return _FOLDER_LOCKS.setdefault(folder, threading.Lock())


class Cassette:
    """One folder of recorded requests and their answers."""

    def __init__(self, folder: Path, shown: str, settings: CassetteSettings) -> None:
        self.folder, self.shown, self.settings = folder, shown, settings
        self.lock = _lock_for(folder)

    def read(self, path: Path) -> dict[str, Any]:
        """One recorded request and its answer; CassetteError naming the file when it is not one."""
        try:
            record = json.loads(path.read_text("utf-8"))
            key_from_record(record)
            answer = record["response"]
            if not isinstance(answer["status"], int) or not isinstance(answer.get("headers", {}), dict):
                raise ValueError("response.status must be a number and response.headers an object")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CassetteError(
                f"cassette {self.shown}: {path.name} is not a recorded request ({type(exc).__name__}: {exc}); "
                "record it again or delete it"
            ) from None
        return record

    def records(self) -> list[tuple[Path, dict[str, Any]]]:
        if not self.folder.is_dir():
            return []
        return [(path, self.read(path)) for path in sorted(self.folder.glob("*.json"))]

    def find(self, key: RequestKey) -> dict[str, Any] | None:
        path = self.folder / key.file_name()
        if path.is_file():
            record = self.read(path)
            if key_from_record(record) == key:
                return record
        for _, record in self.records():  # a file renamed by hand still answers
            if key_from_record(record) == key:
                return record
        return None

    def nearest(self, key: RequestKey) -> str:
        """The recorded request most like `key` (same method first, then the closest path and query)."""
        keys = [key_from_record(record) for _, record in self.records()]
        if not keys:
            return f"the cassette {self.shown} holds no recorded requests"
        wanted = key.describe().split(" ", 1)[1]

        def likeness(other: RequestKey) -> tuple[bool, float, bool]:
            ratio = difflib.SequenceMatcher(None, wanted, other.describe().split(" ", 1)[1]).ratio()
            return (other.method == key.method, ratio, other.shape == key.shape)

        best = max(keys, key=likeness)
        shape = "" if best.shape == key.shape else f" (its body's shape: {json.dumps(best.shape)})"
        return f"nearest recorded: {best.describe()}{shape}"

    def write(self, key: RequestKey, record: dict[str, Any]) -> Path:
        text = json.dumps(record, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
        size = len(text.encode("utf-8"))
        where = f"cassette {self.shown}: the answer to {key.describe()}"
        if size > self.settings.max_interaction_kb * 1024:
            raise CassetteError(
                f"{where} is {size / 1024:.1f} KB, over max_interaction_kb = {self.settings.max_interaction_kb}: "
                "not recorded (raise cassette.max_interaction_kb, or leave this call out of the recording)"
            )
        path = self.folder / key.file_name()
        with self.lock:
            others = (
                sum(p.stat().st_size for p in self.folder.glob("*.json") if p != path) if self.folder.is_dir() else 0
            )
            if others + size > self.settings.max_cassette_kb * 1024:
                raise CassetteError(
                    f"{where} ({size / 1024:.1f} KB) would take the cassette to {(others + size) / 1024:.1f} KB, "
                    f"over max_cassette_kb = {self.settings.max_cassette_kb}: not recorded "
                    "(raise cassette.max_cassette_kb, or start a cassette of its own)"
                )
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".json.partial")
            partial.write_text(text, "utf-8")
            partial.replace(path)
        return path


def recorded_body(response: httpx.Response, redactor: Redactor) -> dict[str, Any]:
    content = response.content
    if "json" in response.headers.get("content-type", ""):
        try:
            return {"json": redactor.json(json.loads(content))}
        except ValueError:
            pass
    try:
        return {"text": redactor.text(content.decode("utf-8"))}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(content).decode("ascii")}


def replayed(record: dict[str, Any], request: httpx.Request) -> httpx.Response:
    answer = record["response"]
    if "json" in answer:
        content = json.dumps(answer["json"]).encode("utf-8")
    elif "text" in answer:
        content = answer["text"].encode("utf-8")
    else:
        content = base64.b64decode(answer.get("base64", ""))
    headers = [(k, v) for k, v in answer.get("headers", {}).items() if k.lower() not in UNRECORDED_HEADERS]
    return httpx.Response(answer["status"], headers=headers, content=content, request=request)


class CassetteTransport(httpx.BaseTransport):
    """A service's transport with its cassette in front (see the module docstring for the modes)."""

    def __init__(
        self,
        service: str,
        cassette: Cassette,
        inner: httpx.BaseTransport | None,
        *,
        base_path: str,
        redact: Iterable[str],
        key_header: str | None,
        secrets: Callable[[], Iterable[str]],
        error: type[Exception],
        token_url: str | None = None,
    ) -> None:
        self.service, self.cassette = service, cassette
        self.inner = inner or httpx.HTTPTransport(trust_env=False)
        self.base_path = base_path.rstrip("/")
        self.redact, self.key_header, self.secrets, self.error = tuple(redact), key_header, secrets, error
        self.token_url = httpx.URL(token_url).copy_with(query=None) if token_url else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        mode = self.cassette.settings.mode
        if mode != "replay" and self.token_url is not None and request.url.copy_with(query=None) == self.token_url:
            # The service's token request: never recorded (a replayed service sends no credentials), never
            # answered from the cassette (a redacted token would be sent on as the real one).
            return self.inner.handle_request(request)
        redactor = Redactor(self.redact, [*self.secrets(), *secrets_of(request, self.redact, self.key_header)])
        key = key_of(request, self.base_path, redactor.query_value)
        try:
            if mode != "refresh":
                found = self.cassette.find(key)
                if found is not None:
                    return replayed(found, request)
                if mode == "replay":
                    raise CassetteError(
                        f"linked service {self.service!r} replays the cassette {self.cassette.shown}, which has no "
                        f"recorded answer for {key.describe()}; {self.cassette.nearest(key)} "
                        f'(record it: cassette mode = "record", or `operate record {self.service}`)'
                    )
            response = self.inner.handle_request(request)
            response.read()
            record = {
                "request": {
                    "method": key.method,
                    "path": key.path,
                    "query": [list(pair) for pair in key.query],
                    "bodyShape": key.shape,
                },
                "response": {
                    "status": response.status_code,
                    "headers": redactor.headers(response.headers.multi_items()),
                    **recorded_body(response, redactor),
                },
            }
            self.cassette.write(key, record)
            return _plain(response, request)
        except CassetteError as exc:
            raise self.error(str(exc)) from None

    def close(self) -> None:
        self.inner.close()


def _plain(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """The service's answer as the caller gets it (decoded: the recorded body is the decoded one too)."""
    headers = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(response.status_code, headers=headers, content=response.content, request=request)
