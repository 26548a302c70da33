"""Related documents and the DMS as the official clients call them (`.../relatedDocuments`, `dms/{path}`,
`repositories`, `document/{id}/url`) and the signed download link that last one hands out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ..documents import Document, Upload
from ..kernel.binding import MAX_BODY_BYTES
from ..kernel.errors import ApiError, invalid
from .common import READ_WORK, answers, bool_arg, caller, private_file, table_blueprint

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..documents import Documents

V1 = "/api/v1/public/workItem"


def blueprint(documents: Documents) -> Blueprint:
    """The documents routes over `documents`, the area they serve."""
    bp = table_blueprint(
        "documents",
        __name__,
        [
            (f"GET {V1}/<item_id>/relatedDocuments", "related", answers(READ_WORK, documents.related)),
            ((f"GET {V1}/<item_id>/dms", f"GET {V1}/<item_id>/dms/<path:path>"), "dms",
             answers(READ_WORK, lambda item_id, path="": documents.folder(item_id, path))),
        ],
    )  # fmt: skip

    @bp.get(f"{V1}/<item_id>/relatedDocuments/<path:path>")
    def content(item_id: str, path: str):
        """The bytes of one document, by its path in the repository (`documentId` in the list) or its id."""
        caller(READ_WORK)
        return _send(documents, documents.by_path(item_id, path), attachment=False)

    @bp.post(f"{V1}/<item_id>/relatedDocuments")
    def upload(item_id: str):
        """Multipart: every part with a filename is a file (whatever the part is named), `folder` the target."""
        principal = caller()
        uploads, folder = _read_multipart()
        return jsonify(documents.upload(item_id, uploads, folder, principal)), 201

    @bp.delete(f"{V1}/<item_id>/relatedDocuments")
    def delete(item_id: str):
        """`?documentId=<id>` (repeated for several), as the mobile sample sends it; the body is not read."""
        documents.delete(item_id, request.args.getlist("documentId"), caller())
        return "", 204

    @bp.get(f"{V1}/<item_id>/repositories")
    def repositories(item_id: str):
        caller(READ_WORK)
        return jsonify(documents.repositories(item_id, bool_arg("includeAncestors")))

    @bp.get("/api/v1/public/document/<doc_id>/url")
    def url(doc_id: str):
        caller(READ_WORK)
        return jsonify(documents.link(doc_id, request.host_url))

    @bp.get("/_documents/<doc_id>")
    def download(doc_id: str):
        """Where `document/{id}/url` points: no token (a browser navigates here), the signature instead."""
        doc = documents.redeem(doc_id, request.args.get("expires"), request.args.get("signature"))
        return _send(documents, doc, attachment=True)

    return bp


def _send(documents: Documents, doc: Document, *, attachment: bool) -> Response:
    response = private_file(documents.file(doc), doc.content_type, doc.file_name, attachment=attachment)
    response.headers["Content-Type"] = doc.content_type  # exactly as uploaded (Flask would add a charset)
    response.headers.pop("Last-Modified", None)
    return response


def _read_multipart() -> tuple[list[Upload], str | None]:
    """The file parts and the `folder` field; a clear 400 (or 413) for anything else."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is {request.content_length} bytes; the limit is {MAX_BODY_BYTES} (5 MB)")
    if request.mimetype != "multipart/form-data":
        got = request.mimetype or "no Content-Type"
        raise invalid("(body)", f"expected multipart/form-data (file parts and a `folder` field), got {got}")
    if not request.mimetype_params.get("boundary"):
        raise invalid("(body)", "the multipart/form-data Content-Type has no boundary")
    try:
        files, form = request.files, request.form
    except RequestEntityTooLarge:
        raise ApiError(413, f"request body is larger than the {MAX_BODY_BYTES} byte (5 MB) limit") from None
    except BadRequest as exc:
        raise invalid("(body)", f"not a readable multipart body: {exc.description}") from None
    uploads = [
        Upload(part, storage.filename or "", storage.mimetype or None, storage.read())
        for part, storage in files.items(multi=True)
    ]
    folders = form.getlist("folder")
    if len(folders) > 1:
        raise invalid("folder", f"give one folder, not {len(folders)}")
    others = sorted(set(form) - {"folder"})
    if others:
        raise invalid(
            f"(body).{others[0][:80]}", "not a file part (it has no filename) and not `folder`; files need a filename"
        )
    return uploads, (folders[0] if folders else None)
