"""The outbox: every e-mail and client notification the emulator sent (or would send), with attachments
(the Clio sync's CSV) to download."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..outbox_access import addresses_of, kinds_for, may_read
from .frame import PageGroup, download, needs_sign_in, page_number, refuse, render_page
from .session import current_principal

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from ..outbox import Outbox

PAGE_SIZE = 50


def pages(outbox: Outbox) -> PageGroup:
    """The outbox pages over `outbox`, what the emulator has e-mailed."""
    bp = PageGroup("outbox")

    @bp.page("/outbox", nav="Outbox", order=70, endpoint="outbox")
    def listing():
        refused = needs_sign_in()
        if refused is not None:
            return refused
        page = page_number()
        if page is None:
            return refuse(400, "page must be a whole number from 1")
        reader = current_principal()  # a message is for its recipients (emulator/outbox_access.py)
        listed = outbox.list(
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, to_any_of=addresses_of(reader), or_kinds=kinds_for(reader)
        )
        return render_page("outbox.html", "Outbox", listed=listed, page=page, size=PAGE_SIZE)

    @bp.page("/outbox/<message_id>/attachments/<attachment_id>")
    def attachment(message_id: str, attachment_id: str):
        refused = needs_sign_in()
        if refused is not None:
            return refused
        try:
            message = outbox.get(message_id)
            found = outbox.attachment(message_id, attachment_id)
        except Exception:  # noqa: BLE001 - not found is the one expected failure
            return refuse(404, "no such message or attachment in the outbox")
        if not may_read(current_principal(), message):
            return refuse(
                403, "this message is for its recipients and for holders of emulator.control (docs/security.md)"
            )
        return download(found.content, found.file_name, found.content_type)

    return bp
