"""HTTP in and out for the fake Clio (moto's `responses.py`): read and check the query, call the backend,
answer in Clio's envelopes: `{"data": {...}}`, `{"data": [...], "meta": {"paging": {...}, "records": N}}`,
errors `{"error": {"type", "message"}}` (reference §3.1, §3.8)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, jsonify, redirect, render_template, request

from emulator.kernel.clock import parse_instant

from . import fields
from .models import BILL_STATES, MAX_LIMIT, MAX_OFFSET_RECORDS, ClioBackend, ClioError, OAuthError

# Clio's paging guide answers 422 past the offset cap and for a spent page_token; its OpenAPI document lists
# only 400 for these lists, and the fake conforms to the document (README.md, "Where the fake differs").
ORDERS = ("id(asc)", "id(desc)")  # [inferred] the fake pages in id order only; Clio has more orders (§4.2)
MATTER_STATUSES = ("open", "pending", "closed")
MAX_BILLABLE_LIMIT = 1000  # §3.3: /billable_matters.json allows up to 1000 a page
MAX_USERS_LIMIT = 2000  # Clio's document: the users list's limit "can range between 1 and 2000"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


# How the generic views reach each record's writes on the backend: the record methods differ in what they take
# (the signed-in user who creates, the host an upload URL is built on; a document's update completes its upload
# and takes no If-Match), so each is adapted here, once.
Created = Callable[[ClioBackend, dict[str, Any]], dict[str, Any]]
Updated = Callable[[ClioBackend, int, dict[str, Any], str | None], dict[str, Any]]
CREATE: dict[str, Created] = {
    "contacts": lambda backend, data: backend.create_contact(data),
    "matters": lambda backend, data: backend.create_matter(data, g.token.user_id),
    "activities": lambda backend, data: backend.create_activity(data, g.token.user_id),
    "communications": lambda backend, data: backend.create_communication(data, g.token.user_id),
    "documents": lambda backend, data: backend.create_document(data, g.token.user_id, request.host_url.rstrip("/")),
    "webhooks": lambda backend, data: backend.create_webhook(data, g.token.user_id),
}
UPDATE: dict[str, Updated] = {
    "contacts": ClioBackend.update_contact,
    "matters": ClioBackend.update_matter,
    "activities": ClioBackend.update_activity,
    "bills": ClioBackend.patch_bill,
    "communications": ClioBackend.update_communication,
    "documents": lambda backend, record_id, data, _if_match: backend.complete_upload(record_id, data),
    "webhooks": ClioBackend.update_webhook,
}
DELETE: dict[str, Callable[[ClioBackend, int], None]] = {
    "contacts": ClioBackend.delete_contact,
    "matters": ClioBackend.delete_matter,
    "activities": ClioBackend.delete_activity,
    "bills": ClioBackend.delete_bill,
    "communications": ClioBackend.delete_communication,
    "documents": ClioBackend.trash_document,
    "webhooks": ClioBackend.delete_webhook,
}


class ClioResponses:
    def __init__(self, backend: ClioBackend) -> None:
        self.backend = backend

    # -- OAuth ------------------------------------------------------------------------------------
    def authorize_page(self):
        args = request.args
        try:
            if args.get("response_type") != "code":
                raise OAuthError(400, "unsupported_response_type", "response_type must be code")
            self.backend.check_client(args.get("client_id"), args.get("redirect_uri"))
        except OAuthError as exc:  # never redirect to an unchecked URI
            return render_template("authorize_error.html", error=exc.error, description=exc.description), 400
        return render_template(
            "authorize.html",
            users=sorted(self.backend.users.values(), key=lambda u: u["id"]),
            params={k: args.get(k, "") for k in ("client_id", "redirect_uri", "state", "redirect_on_decline")},
        )

    def authorize_decision(self):
        form = request.form
        try:
            self.backend.check_client(form.get("client_id"), form.get("redirect_uri"))
        except OAuthError as exc:
            return render_template("authorize_error.html", error=exc.error, description=exc.description), 400
        redirect_uri, state = form["redirect_uri"], form.get("state") or None
        if form.get("decision") != "allow":
            if form.get("redirect_on_decline") == "true":
                return redirect(_with_query(redirect_uri, error="access_denied", state=state))
            return render_template("authorize_error.html", error="access_denied", description="You denied access."), 200
        try:
            user_id = int(form.get("user_id", ""))
        except ValueError:
            user_id = -1
        if user_id not in self.backend.users:
            return render_template("authorize_error.html", error="invalid_request", description="Choose a user."), 400
        code = self.backend.issue_code(form["client_id"], redirect_uri, user_id)
        return redirect(_with_query(redirect_uri, code=code, state=state))

    def token(self):
        try:
            return jsonify(self.backend.exchange(request.form.to_dict()))
        except OAuthError as exc:
            return jsonify({"error": exc.error, "error_description": exc.description}), exc.status

    def deauthorize(self):
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else request.form.get("token", "")
        self.backend.deauthorize(token)
        return Response(status=200)

    # -- API: the generic record views (`method:collection` in urls.py) ------------------------------
    def view(self, name: str) -> Callable[..., Any]:
        """The view a route names: `list_matters` is the method of that name, `show_record:matters` the generic
        `show_record` bound to the `matters` collection."""
        method, _, collection = name.partition(":")
        return partial(getattr(self, method), collection) if collection else getattr(self, name)

    def list_records(self, collection: str):
        """A list with no filters of its own (those of every list still apply)."""
        return self._list(collection, lambda r: True)

    def show_record(self, collection: str, record_id: int):
        """GET of one record: 404 when missing, 304 for a matching If-None-Match or If-Modified-Since."""
        return self._one(collection, self.backend.find(collection, record_id))

    def create_record(self, collection: str):
        """POST of a record: 201 with the record, as a show gives it."""
        record = CREATE[collection](self.backend, _data())
        return self._one(collection, record, conditional=False, status=201)

    def update_record(self, collection: str, record_id: int):
        """PATCH of a record, guarded by If-Match: the changed record, as a show gives it."""
        record = UPDATE[collection](self.backend, record_id, _data(), request.headers.get("If-Match"))
        return self._one(collection, record, conditional=False)

    def delete_record(self, collection: str, record_id: int):
        """DELETE of a record (each record's rules say what refuses it): 204, no body."""
        DELETE[collection](self.backend, record_id)
        return Response(status=204)

    # -- API: the views of their own ------------------------------------------------------------------
    def who_am_i(self):
        return self._one("users", self.backend.who_am_i(g.token))

    def list_users(self):
        return self._list("users", lambda r: True, max_limit=MAX_USERS_LIMIT)

    def list_matter_stages(self):
        area = _int_param("practice_area_id")
        return self._list("matter_stages", lambda r: area is None or r["practice_area_id"] == str(area))

    def list_matters(self):
        statuses = _list_param("status", MATTER_STATUSES)
        area, client = _int_param("practice_area_id"), _int_param("client_id")
        query = (request.args.get("query") or "").lower()

        def keep(r: dict[str, Any]) -> bool:
            if statuses is not None and r["status"].lower() not in statuses:
                return False
            if area is not None and (r.get("practice_area") or {}).get("id") != area:
                return False
            if client is not None and r["client"]["id"] != client:
                return False
            if query:
                contact = self.backend.contacts.get(r["client"]["id"]) or {}
                text = " ".join(
                    str(x) for x in (r["display_number"], r["number"], r["description"], contact.get("name"))
                )
                return query in text.lower()
            return True

        return self._list("matters", keep)

    def list_activities(self):
        matter, user = _int_param("matter_id"), _int_param("user_id")
        kind = _one_of("type", ("TimeEntry", "ExpenseEntry", "HardCostEntry", "SoftCostEntry"))
        # The document's six statuses; [inferred] the fake has no drafts or write-offs, so those find nothing.
        status = _one_of("status", ("billed", "draft", "unbilled", "non_billable", "billable", "written_off"))
        query = (request.args.get("query") or "").lower()  # §9: a wildcard search of `note` [inferred: a substring]

        def keep(r: dict[str, Any]) -> bool:
            billed = {"billed" if r["billed"] else "unbilled", "non_billable" if r["non_billable"] else "billable"}
            return (
                (matter is None or (r["matter"] or {}).get("id") == matter)
                and (user is None or (r["user"] or {}).get("id") == user)
                and (kind is None or r["type"] == kind)
                and (status is None or status in billed)
                and (not query or query in (r["note"] or "").lower())
            )

        return self._list("activities", keep)

    def list_billable_matters(self):
        matter, client = _int_param("matter_id"), _int_param("client_id")
        rows = {r["id"]: r for r in self.backend.billable_matters()}
        return self._list(
            "billable_matters",
            lambda r: (matter is None or r["id"] == matter) and (client is None or r["client"]["id"] == client),
            rows=rows,
            max_limit=MAX_BILLABLE_LIMIT,
        )

    def list_bills(self):
        states = _list_param("state", BILL_STATES)
        matter, client = _int_param("matter_id"), _int_param("client_id")
        return self._list(
            "bills",
            lambda r: (
                (states is None or r["state"] in states)
                and (matter is None or any(m["id"] == matter for m in r["matters"]))
                and (client is None or r["client"]["id"] == client)
            ),
        )

    def list_communications(self):
        matter = _int_param("matter_id")
        return self._list(
            "communications", lambda r: (matter is None or (r["matter"] or {}).get("id") == matter) and _has_property(r)
        )

    def list_documents(self):
        matter = _int_param("matter_id")
        uncompleted = _flag_param("show_uncompleted") is True
        deleted = _flag_param("include_deleted") is True
        return self._list(
            "documents",
            lambda r: (
                (matter is None or (r["matter"] or {}).get("id") == matter)
                and (uncompleted or r["latest_document_version"]["fully_uploaded"])
                and (deleted or r["deleted_at"] is None)
                and _has_property(r)
            ),
        )

    def download_document(self, record_id: int):
        self.backend.download(record_id)  # 404 unless there are bytes to give
        version = self.backend.documents[record_id]["latest_document_version"]
        return redirect(f"{request.host_url.rstrip('/')}/_fake/s3/{version['uuid']}", code=303)

    def fake_s3_put(self, version_uuid: str):
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.backend.put_upload(version_uuid, request.get_data(cache=False), headers)
        return Response(status=200)

    def fake_s3_get(self, version_uuid: str):
        upload = self.backend.uploads.get(version_uuid)
        if upload is None or upload["bytes"] is None:
            raise ClioError(404, "nothing was uploaded here", "NoSuchKey")
        data, content_type, filename = self.backend.download(upload["document_id"])
        return Response(
            data, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    def activate_webhook(self, record_id: int):
        """[inferred] The answer: the webhook, as a show gives it (the document does not describe this route)."""
        record = self.backend.activate_webhook(record_id, request.headers.get("X-Hook-Secret"))
        return self._one("webhooks", record, conditional=False)

    # -- the fake's controls ----------------------------------------------------------------------
    def fake_switches(self):
        switches = self.backend.switches
        if request.method == "POST":
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise ClioError(400, "send a JSON object of switches", "BadRequest")
            for name, value in body.items():
                if name not in ("fail_next", "fail_status", "latency_seconds"):
                    raise ClioError(400, f"no switch {name!r}", "BadRequest")
                kind = float if name == "latency_seconds" else int
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value > 1000:
                    raise ClioError(400, f"{name} must be a number from 0 to 1000", "BadRequest")
                setattr(switches, name, kind(value))
        return jsonify(vars(switches))

    def fake_expire_tokens(self):
        self.backend.expire_tokens()
        return Response(status=204)

    def fake_revoke_tokens(self):
        self.backend.revoke_tokens()
        return Response(status=204)

    # -- shared -----------------------------------------------------------------------------------
    def _lookup(self, collection: str, record_id: int) -> dict[str, Any] | None:
        return self.backend.collection(collection).get(record_id)

    def _one(self, collection: str, record: dict[str, Any], conditional: bool = True, status: int = 200):
        wanted = fields.parse(request.args.get("fields"), collection)
        if conditional and (request.headers.get("If-None-Match") == record["etag"] or _not_modified(record)):
            return Response(status=304, headers={"ETag": record["etag"]})
        response = jsonify({"data": fields.project(record, wanted, collection, self._lookup)})
        response.status_code = status
        response.headers["ETag"] = record["etag"]
        response.headers["Last-Modified"] = format_datetime(parse_instant(record["updated_at"]), usegmt=True)
        return response

    def _list(self, collection: str, keep, rows: dict[int, dict[str, Any]] | None = None, max_limit: int = MAX_LIMIT):
        """A list answer (§3.3): the records `keep` takes and the query's filters match, in id order, one page
        of them (by `page_token` or `offset`), each projected to `fields`, with `meta.paging` and `records`."""
        args = request.args
        wanted = fields.parse(args.get("fields"), collection)
        limit = _int_param("limit", default=max_limit)
        if not 1 <= limit <= max_limit:
            raise ClioError(400, f"limit must be from 1 to {max_limit}", "InvalidParameter")
        order = args.get("order", "id(asc)")
        if order not in ORDERS:
            raise ClioError(400, f"order must be one of {', '.join(ORDERS)} on this fake", "InvalidParameter")
        found = self._matching(collection, keep, rows)
        found.sort(key=lambda r: r["id"], reverse=order == "id(desc)")
        start, offset = _page_start(found, collection, order, limit)
        page = found[start : start + limit]
        paging = _paging(collection, order, page, start, limit, len(found), by_offset=offset is not None)
        data = [fields.project(r, wanted, collection, self._lookup) for r in page]
        return jsonify({"data": data, "meta": {"paging": paging, "records": len(found)}})

    def _matching(self, collection: str, keep, rows: dict[int, dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The records of a list the query's `ids[]`, `updated_since` and `created_since` select, and `keep` takes."""
        ids = [_int(v, "ids[]") for v in request.args.getlist("ids[]")]
        updated_since, created_since = _instant_param("updated_since"), _instant_param("created_since")
        source = rows if rows is not None else self.backend.collection(collection)
        return [
            r
            for r in source.values()
            if (not ids or r["id"] in ids)
            and (updated_since is None or parse_instant(r["updated_at"]) > updated_since)
            and (created_since is None or parse_instant(r["created_at"]) > created_since)
            and keep(r)
        ]


def _page_start(rows: list[dict[str, Any]], collection: str, order: str, limit: int) -> tuple[int, int | None]:
    """Where the asked page starts in `rows`, and the `offset` asked for (None when paging by token)."""
    offset = _int_param("offset")
    token = request.args.get("page_token")
    if token is not None and offset is not None:
        raise ClioError(400, "send page_token or offset, not both", "InvalidParameter")
    if token is not None:
        last = _read_token(token, collection, order)
        after = (i for i, r in enumerate(rows) if (r["id"] > last if order == "id(asc)" else r["id"] < last))
        return next(after, len(rows)), None
    if offset is not None:
        if offset < 0 or offset + limit > MAX_OFFSET_RECORDS:
            raise ClioError(
                400, f"offset paging stops at {MAX_OFFSET_RECORDS} records; page with page_token", "ArgumentError"
            )
        return offset, offset
    return 0, None


def _paging(
    collection: str, order: str, page: list[dict[str, Any]], start: int, limit: int, total: int, *, by_offset: bool
) -> dict[str, str]:
    """`meta.paging`: the next page's URL while records are left, the previous one's after the first page."""
    paging: dict[str, str] = {}
    if start + limit < total and page:
        paging["next"] = (
            _page_url(offset=start + limit)
            if by_offset
            else _page_url(page_token=_write_token(collection, order, page[-1]["id"]))
        )
    if start > 0 and page:
        paging["previous"] = _page_url(offset=max(start - limit, 0)) if by_offset else _page_url()
    return paging


def _data() -> dict[str, Any]:
    """The `data` of a JSON body; no body at all is an empty `data` (the document makes no body required), so
    what is missing is named by the 422 of the record's own rules."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ClioError(400, 'the body must be JSON {"data": {...}}', "BadRequest")
    return body["data"]


def _not_modified(record: dict[str, Any]) -> bool:
    """§3.5: `If-Modified-Since` (an RFC 2822 date) at or after the record's `updated_at`; RFC 9110 §13.1.3: a
    value that is not a date is ignored, not refused."""
    since = request.if_modified_since
    return since is not None and parse_instant(record["updated_at"]) <= since


def _has_property(record: dict[str, Any]) -> bool:
    """`external_property_name` / `external_property_value` filters (§7): how a push finds what it sent."""
    name, value = request.args.get("external_property_name"), request.args.get("external_property_value")
    if name is None and value is None:
        return True
    return any(
        (name is None or p["name"] == name) and (value is None or p["value"] == value)
        for p in record.get("external_properties") or []
    )


def _with_query(url: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _page_url(**replace: Any) -> str:
    """The same request with page_token / offset replaced: an absolute URL, as Clio's `meta.paging.next` is."""
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page_token", "offset")]
    params += [(k, str(v)) for k, v in replace.items()]
    return f"{request.base_url}?{urlencode(params)}"


def _write_token(collection: str, order: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{collection}|{order}|{last_id}".encode()).decode().rstrip("=")


def _read_token(token: str, collection: str, order: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, token_order, last = text.split("|")
        if kind == collection and token_order == order:
            return int(last)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise ClioError(400, "page_token is not valid for this request", "ArgumentError")


def _int(value: str, name: str) -> int:
    """A whole number of the query: Clio's ids and counts are int64 (reference §3.1)."""
    try:
        number = int(value)
    except ValueError:
        raise ClioError(400, f"{name} must be a whole number, not {value[:40]!r}", "InvalidParameter") from None
    if not INT64_MIN <= number <= INT64_MAX:
        raise ClioError(400, f"{name} must be a 64-bit whole number, not {value[:40]!r}", "InvalidParameter")
    return number


def _flag_param(name: str) -> bool | None:
    """A boolean of the query: `true` or `false`."""
    value = request.args.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise ClioError(400, f"{name} must be true or false, not {value[:40]!r}", "InvalidParameter")
    return value == "true"


def _int_param(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    return default if value is None else _int(value, name)


def _instant_param(name: str) -> datetime | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise ClioError(400, f"{name} must be an ISO 8601 timestamp, not {value[:40]!r}", "InvalidParameter") from None


def _one_of(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise ClioError(400, f"{name} takes {', '.join(allowed)}, not {value[:40]!r}", "InvalidParameter")
    return value


def _list_param(name: str, allowed: tuple[str, ...]) -> set[str] | None:
    value = request.args.get(name)
    if value is None:
        return None
    items = {v.strip() for v in value.split(",") if v.strip()}
    wrong = sorted(items - set(allowed))
    if wrong or not items:
        raise ClioError(400, f"{name} takes {', '.join(allowed)} (lowercase), not {value[:40]!r}", "InvalidParameter")
    return items
