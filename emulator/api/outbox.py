"""`/api/_emulator/outbox`: what the emulator has e-mailed, as a person or a test checks it (the message, who it
went to, whether the SMTP server took it, the attachments as files). A message is for its recipients and for
holders of emulator.control (emulator/outbox_access.py): others neither list nor read it."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request

from ..kernel.errors import invalid
from ..outbox import KINDS, Message
from ..outbox_access import addresses_of, check_readable, kinds_for
from .common import caller, int_arg, private_file

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..outbox import Outbox


PREFIX = "/api/_emulator/outbox"


def blueprint(outbox: Outbox) -> Blueprint:
    """The outbox routes over `outbox`, what the emulator has e-mailed."""
    bp = Blueprint("outbox", __name__, url_prefix=PREFIX)

    @bp.get("")
    def listing():
        principal = caller()
        kind = request.args.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise invalid("kind", f"must be one of {list(KINDS)}, not {kind[:40]!r}")
        page = outbox.list(
            limit=int_arg("limit", 50, maximum=1000),
            offset=int_arg("offset", 0, minimum=0),
            kind=kind,
            work_item_id=request.args.get("workItemId") or None,
            to_any_of=addresses_of(principal),
            or_kinds=kinds_for(principal),
        )
        return jsonify({"totalRows": page.total_rows, "rows": [message_json(m) for m in page.rows]})

    @bp.get("/<message_id>")
    def one(message_id: str):
        message = outbox.get(message_id)
        check_readable(caller(), message)
        return jsonify(message_json(message))

    @bp.get("/<message_id>/attachments/<attachment_id>")
    def attachment(message_id: str, attachment_id: str):
        check_readable(caller(), outbox.get(message_id))
        found = outbox.attachment(message_id, attachment_id)
        # The stored text is UTF-8 on the way out; a text type says so (Flask adds the charset to text/* only).
        return private_file(
            BytesIO(found.content.encode("utf-8")), found.content_type, found.file_name, attachment=True
        )

    return bp


def message_json(message: Message) -> dict[str, Any]:
    base = f"{PREFIX}/{message.id}/attachments"
    return {
        "id": message.id,
        "created": message.created,
        "kind": message.kind,
        "from": message.sender,
        "to": list(message.recipients),
        "subject": message.subject,
        "body": message.body,
        "workItemId": message.work_item_id,
        "delivery": message.delivery,
        "deliveryError": message.delivery_error,
        "delivered": message.delivered,
        "attachments": [
            {
                "id": a.id,
                "fileName": a.file_name,
                "contentType": a.content_type,
                "size": a.size,
                "url": f"{base}/{a.id}",
            }
            for a in message.attachments
        ],
    }
