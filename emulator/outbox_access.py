"""Who may read what the outbox holds (docs/security.md, "The outbox and the event stream").

A message is mail: it is for its recipients. A message, its body and its attachments are readable by a user whose
e-mail address (an `email` contact detail of their ODS person) is among its recipients, by whoever holds
`emulator.control` (the person running the emulator, who can export every row anyway), and by holders of the
permission its content needs where that content is the firm's shared data (READ_BY_KIND): a client's status
update says what the matter's page says, so whoever may read work items may read it. Everyone else sees neither
the message nor that it exists in a listing; asking for it by id is a 403 naming the rule. So an attachment is
no way round the permission its content needs: the Clio sync's results CSV goes to the person who started the
sync, and no one else but an administrator reads it.
"""

from __future__ import annotations

from .identity import Principal
from .kernel.errors import ApiError
from .ods import contact_details
from .outbox import KINDS, Message

ADMIN = "emulator.control"
# Beyond its recipients, who may read a message of each kind: the permission its content needs, or None (mail to
# a person: its recipients and administrators only).
READ_BY_KIND: dict[str, str | None] = {"email": None, "client-notification": "core.sharedo.read"}
assert set(READ_BY_KIND) == set(KINDS), "every outbox kind says who reads it"


def addresses_of(principal: Principal | None) -> list[str] | None:
    """The caller's e-mail addresses, lower case; None for one who may read every message (the emulator
    itself, or a holder of emulator.control)."""
    if principal is None or principal.has(ADMIN):
        return None
    user = principal.user or {}
    return sorted(
        {
            str(d["contactValue"]).strip().lower()
            for d in contact_details(user)
            if d.get("contactTypeSystemName") == "email" and d.get("contactValue")
        }
    )


def kinds_for(principal: Principal | None) -> list[str]:
    """The kinds the caller reads whoever they went to (by the permission their content needs)."""
    return [k for k, p in READ_BY_KIND.items() if p is not None and principal is not None and principal.has(p)]


def may_read(principal: Principal | None, message: Message) -> bool:
    mine = addresses_of(principal)
    if mine is None or message.kind in kinds_for(principal):
        return True
    return any(r.lower() in mine for r in message.recipients)


def check_readable(principal: Principal | None, message: Message) -> None:
    """403 unless the caller may read `message` (see the module's rule)."""
    if not may_read(principal, message):
        who = (principal.user_name or principal.client_id) if principal else "the caller"
        needs = READ_BY_KIND.get(message.kind)
        raise ApiError(
            403,
            f"{who} may not read outbox message {message.id}: a message is for its recipients and for holders "
            f"of {ADMIN!r}" + (f" or {needs!r}" if needs else ""),
        )
