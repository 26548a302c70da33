"""Clio's own OpenAPI document (from the PyPI package `clio-cli==1.0.5`, which ships it as
`openapi_server/openapi/openapi.yaml`), and a check of one fake Clio answer against it.

Two readings of the document, each on purpose:
- It declares no `nullable` anywhere, yet Clio answers `null` for fields with no value (the
  `close_date` of an open matter): an optional property may be null. Everything else is strict.
- Its 401 schema is the `{"error": {type, message}}` envelope, but Clio's own support article gives
  the 401 body as `{"error": "invalid_token", "error_description": ...}` (reference §2.5), and so
  does the fake: that one body is accepted for 401 (KNOWN_DEVIATIONS says why).
A 410 for an unknown `X-API-VERSION` is stated in the document's own introduction, not per operation:
it is checked against the document's `Error` schema. So is a 404 from a DELETE: 40 of the document's 43
DELETE operations list only 204 and 403, yet a record that is not there cannot be deleted.
`PUT /webhooks/{id}/activate` (the delayed webhook handshake) is described in the Webhooks tag's text but
is no path of the document: EXTRA_OPERATIONS gives it the shape the fake infers (a 200 answer is a
`Webhook_Show`, errors are `Error`), marked as such. Server errors (5xx) are not in the document; the
fake gives them only when a test switches them on.
OAuth routes (`/oauth/...`) are not in the document either.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

PACKAGE = "clio-cli"
SPEC_FILE = "openapi_server/openapi/openapi.yaml"
API = "/api/v4"
_ERROR = {"content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Error"}}}}
EXTRA_OPERATIONS: dict[str, dict[str, Any]] = {
    "/webhooks/{id}/activate.json": {
        "put": {
            "x-inferred": "the Webhooks tag: 'make a PUT request to /api/v4/webhooks/:webhook_id/activate'",
            "responses": {
                "200": {
                    "content": {
                        "application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Webhook_Show"}}
                    }
                },
                **{status: _ERROR for status in ("400", "401", "404", "422", "429")},
            },
        }
    }
}
KNOWN_DEVIATIONS = {
    401: (
        {"error": "invalid_token", "error_description": str},
        "Clio's support article gives this body for an expired, revoked or malformed token (reference §2.5)",
    )
}


def spec_file() -> Path:
    try:
        files = metadata.files(PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise AssertionError(
            f"{PACKAGE} is not installed: the README's test command installs it "
            f"(python -m pip install --no-deps clio-cli==1.0.5); it holds Clio's OpenAPI document"
        ) from None
    found = next((f for f in files if str(f).replace("\\", "/") == SPEC_FILE), None)
    if found is None:
        raise AssertionError(f"{PACKAGE} has no {SPEC_FILE}")
    return Path(str(found.locate()))


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """The document has enum values `=`, which YAML reads as its `value` tag: take them as text."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    with spec_file().open("rb") as handle:
        doc = yaml.load(handle, Loader=_Loader)  # noqa: S506 - a safe loader with one extra tag
    return _optional_may_be_null(doc)


def _optional_may_be_null(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                required = set(node.get("required") or ())
                for name, schema in list(props.items()):
                    walk(schema)
                    if name not in required:
                        props[name] = {"anyOf": [schema, {"type": "null"}]}
            for key, value in node.items():
                if key != "properties":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc.get("components", {}))
    return doc


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource("urn:clio", Resource.from_contents(spec(), default_specification=DRAFT4))


def _paths() -> dict[str, Any]:
    return {**spec()["paths"], **EXTRA_OPERATIONS}


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern[str], str]]:
    routes = []
    for template in _paths():
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", pattern)
        routes.append((re.compile(f"^{pattern}$"), template))
    routes.sort(key=lambda r: r[1].count("{"))  # a literal path wins: /users/who_am_i.json before /users/{id}.json
    return routes


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    if not path.startswith(API + "/"):
        return None
    rest = path[len(API) :]
    rest = rest if rest.endswith(".json") else rest + ".json"
    for pattern, template in _routes():
        if pattern.match(rest):
            op = _paths()[template].get(method.lower())
            return (f"{method} {template}", op) if op else None
    return None


def problems(method: str, path: str, status: int, body: Any) -> list[str]:
    """What in one answer does not conform to Clio's document; empty when it does."""
    found = operation(method, path)
    if found is None:
        return [] if not path.startswith(API + "/") else [f"{method} {path}: not an operation of Clio's document"]
    name, op = found
    if status >= 500 or status == 304:
        return []
    if status in KNOWN_DEVIATIONS and _matches(body, KNOWN_DEVIATIONS[status][0]):
        return []
    response = op.get("responses", {}).get(str(status))
    if response is None and status == 410:  # "If the header is present but invalid, it will return a 410 Gone"
        response = _ERROR
    if response is None and status == 404 and method.upper() == "DELETE":
        response = _ERROR
    if response is None:
        return [f"{name}: status {status} is not documented (documented: {sorted(op.get('responses', {}))})"]
    content = response.get("content") or {}
    schema = next((c.get("schema") for c in content.values() if c.get("schema")), None)
    if schema is None:
        return []
    validator = (
        _validator(schema["$ref"]) if "$ref" in schema else jsonschema.Draft4Validator(schema, registry=_registry())
    )
    return [
        f"{name} {status}: {'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message[:300]}"
        for error in validator.iter_errors(body)
    ]


@lru_cache(maxsize=256)
def _validator(ref: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator({"$ref": "urn:clio" + ref}, registry=_registry())


def _matches(body: Any, shape: dict[str, Any]) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == set(shape)
        and all((isinstance(body[k], v) if isinstance(v, type) else body[k] == v) for k, v in shape.items())
    )


class Conformance:
    """An observer for `create_app(observer=...)`: every JSON answer the fake gives is checked against the
    document; a test asserts `problems == []` at its end (and that `seen` counted the calls it made)."""

    def __init__(self) -> None:
        self.seen = 0
        self.problems: list[str] = []

    def __call__(self, request: Any, response: Any) -> None:
        if response.is_json or response.status_code == 304:
            self.seen += 1
            self.problems += problems(
                request.method, request.path, response.status_code, response.get_json(silent=True)
            )
