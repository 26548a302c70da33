"""The outbox: every e-mail and client notification the emulator sent (or would send), with attachments
(the Clio sync's CSV) to download."""

from __future__ import annotations

from .frame import PageGroup, download, emulator, needs_sign_in, page_number, refuse, render_page

bp = PageGroup("outbox")
PAGE_SIZE = 50


@bp.page("/outbox", nav="Outbox", order=70)
def outbox():
    refused = needs_sign_in()
    if refused is not None:
        return refused
    page = page_number()
    if page is None:
        return refuse(400, "page must be a whole number from 1")
    listed = emulator().outbox.list(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_page("outbox.html", "Outbox", listed=listed, page=page, size=PAGE_SIZE)


@bp.page("/outbox/<message_id>/attachments/<attachment_id>")
def attachment(message_id: str, attachment_id: str):
    refused = needs_sign_in()
    if refused is not None:
        return refused
    try:
        found = emulator().outbox.attachment(message_id, attachment_id)
    except Exception:  # noqa: BLE001 - not found is the one expected failure
        return refuse(404, "no such message or attachment in the outbox")
    return download(found.content, found.file_name, found.content_type)
