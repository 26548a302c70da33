"""The outbox: every e-mail the emulator sends (a sync's results to whoever started it, a status update to a
matter's client), kept as rows so a person or a test can read exactly what went out.

Rows are written in the caller's transaction, so a change and the mail about it commit together, or neither
does. With `[mail] smtp_host` in operate.toml a message is also handed to that SMTP server once the
transaction has committed (never on rollback), and its row says how that went. Fail closed: only a server on
this machine, unless `allow_remote = true` says otherwise on purpose.

HTTP lives in `emulator/api/outbox.py`; this module knows nothing of Flask.
"""

from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import sqlite3
import ssl
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, NamedTuple

from .kernel.clock import Clock, iso
from .kernel.errors import not_found
from .kernel.http_server import is_loopback_host
from .kernel.schema import AreaSchema, sql_migrations
from .kernel.settings_table import SettingsTable
from .kernel.store import Store

log = logging.getLogger("operate.outbox")

KINDS = ("email", "client-notification")
DEFAULT_SENDER = "operate-emulator@localhost"
DEFAULT_PORT = 25
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 300.0
MAIL_WHERE = "operate.toml [mail]"
# The keys `[mail]` takes, in the order a refusal of another key lists them.
MAIL_KEYS = (
    "smtp_host",
    "smtp_port",
    "from",
    "starttls",
    "username",
    "password_env",
    "allow_remote",
    "timeout_seconds",
)
# What an address must look like: an RFC 5322 dot-atom local part, `@`, and host-name labels (a bare
# `localhost` is a host too). Quoted local parts and display names are refused: nothing here writes them.
ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    re.ASCII,
)
HOST_NAME = re.compile(r"[A-Za-z0-9.:_-]{1,253}")  # smtp_host: a name or an address; no scheme, no port
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,99}/[A-Za-z0-9][\w.+-]{0,99}$", re.ASCII)
FILE_NAME_MAX = 255
SUBJECT_MAX = 998  # one header line (RFC 5322)
LIST_MAX = 1000


class MailConfigError(ValueError):
    """operate.toml [mail] is not usable; the message says which key and why."""


@dataclass(frozen=True)
class MailSettings:
    """`[mail]` of operate.toml. Without `smtp_host` the outbox only stores what is sent."""

    smtp_host: str | None = None
    smtp_port: int = DEFAULT_PORT
    sender: str = DEFAULT_SENDER  # `from`: the address callers send from unless they name another
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # read from the `password_env` variable
    allow_remote: bool = False
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def delivers(self) -> bool:
        return self.smtp_host is not None


class _MailKey(NamedTuple):
    """One key of `[mail]`: its default, what a usable value is, and how a refusal words it
    (`<name> must be <wanted>`, then `, not <value>` where showing the value helps)."""

    name: str
    default: Any
    usable: Callable[[Any], bool]
    wanted: str
    shows_value: bool = True


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _absent_or_text(value: Any) -> bool:
    return value is None or (isinstance(value, str) and bool(value))


# The keys of `[mail]` in the order they are checked: the first refusal is the one reported.
MAIL_TABLE = (
    _MailKey(
        "smtp_host",
        None,
        lambda v: v is None or (isinstance(v, str) and HOST_NAME.fullmatch(v) is not None),
        "a host name or IP address (no scheme, no port)",
    ),
    _MailKey("smtp_port", DEFAULT_PORT, lambda v: _whole(v) and 1 <= v <= 65535, "a whole number from 1 to 65535"),
    _MailKey(
        "from",
        DEFAULT_SENDER,
        lambda v: isinstance(v, str) and ADDRESS.match(v) is not None,
        f"an e-mail address such as {DEFAULT_SENDER!r}",
    ),
    _MailKey("starttls", False, lambda v: isinstance(v, bool), "true or false"),
    _MailKey("allow_remote", False, lambda v: isinstance(v, bool), "true or false"),
    _MailKey(
        "timeout_seconds",
        DEFAULT_TIMEOUT_SECONDS,
        lambda v: _number(v) and 0 < v <= MAX_TIMEOUT_SECONDS,
        f"a number above 0 and at most {MAX_TIMEOUT_SECONDS:g}",
        shows_value=False,
    ),
    _MailKey("username", None, _absent_or_text, "a non-empty string", shows_value=False),
    _MailKey("password_env", None, _absent_or_text, "a non-empty string", shows_value=False),
)
# What `[mail]` may hold even without smtp_host: every other key is about talking to the server.
WITHOUT_HOST = ("from", "smtp_host")


def parse_mail(config: dict[str, Any], environ: dict[str, str] | None = None) -> MailSettings | None:
    """The `[mail]` table of a solution's config; None when there is none. Raises MailConfigError."""
    if "mail" not in config:
        return None
    table = SettingsTable(config["mail"], MAIL_WHERE, MailConfigError)
    unknown = sorted(set(table.keys()) - set(MAIL_KEYS))  # exact names: TOML keys are case-sensitive
    if unknown:
        table.fail(f"unknown key {unknown[0]!r} (known: {', '.join(MAIL_KEYS)})")
    values = _mail_values(table)
    password = _mail_password(table, values, os.environ if environ is None else environ)
    _refuse_remote(table, values)
    return MailSettings(
        smtp_host=values["smtp_host"],
        smtp_port=values["smtp_port"],
        sender=values["from"],
        starttls=values["starttls"],
        username=values["username"],
        password=password,
        allow_remote=values["allow_remote"],
        timeout_seconds=float(values["timeout_seconds"]),
    )


def _mail_values(table: SettingsTable) -> dict[str, Any]:
    """Every key of MAIL_TABLE, given or defaulted, each checked; a key that needs a server and names none
    is refused first."""
    given = table.keys()
    if table.get("smtp_host") is None:
        needs_host = sorted(n for n in given if n not in WITHOUT_HOST)
        if needs_host:
            table.fail(f"{needs_host[0]} has no effect without smtp_host (the SMTP server)")
    values = {}
    for key in MAIL_TABLE:
        value = values[key.name] = table.get(key.name, key.default)
        if not key.usable(value):
            shown = f", not {value!r}" if key.shows_value else ""
            table.fail(f"{key.name} must be {key.wanted}{shown}")
    return values


def _mail_password(table: SettingsTable, values: dict[str, Any], env: Mapping[str, str]) -> str | None:
    """SMTP AUTH's password, read from the variable `password_env` names; username and it go together."""
    username, password_env = values["username"], values["password_env"]
    if (username is None) != (password_env is None):
        table.fail("username and password_env go together (SMTP AUTH needs both)")
    if password_env is None:
        return None
    password = env.get(password_env)
    if password is None:
        table.fail(f"environment variable {password_env} (password_env) is not set")
    return password


def _refuse_remote(table: SettingsTable, values: dict[str, Any]) -> None:
    """Fail closed: a server off this machine only with `allow_remote = true`."""
    host = values["smtp_host"]
    if host is not None and not values["allow_remote"] and not is_loopback_host(host):
        table.fail(f"smtp_host {host!r} is not on this machine; set allow_remote = true to send mail there on purpose")


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    file_name: str
    content_type: str
    size: int  # bytes of the content in UTF-8


@dataclass(frozen=True)
class Attachment(AttachmentInfo):
    content: str


@dataclass(frozen=True)
class Message:
    id: str
    created: str
    kind: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    work_item_id: str | None
    delivery: str  # "stored" (no SMTP, or not yet handed over) | "sent" | "failed"
    delivery_error: str | None
    delivered: str | None
    attachments: tuple[AttachmentInfo, ...]


class OutboxPage(NamedTuple):
    rows: list[Message]
    total_rows: int


def check_address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ADDRESS.match(value):
        raise ValueError(f"{where}: {value!r} is not an e-mail address (expected name@host)")
    return value


class Outbox:
    """What the emulator e-mails, stored; handed to SMTP after the commit when `[mail]` names a server."""

    def __init__(self, store: Store, clock: Clock, mail: MailSettings | None) -> None:
        self.store = store
        self.clock = clock
        self.mail = mail

    @property
    def default_sender(self) -> str:
        """`[mail] from`, or operate-emulator@localhost."""
        return self.mail.sender if self.mail else DEFAULT_SENDER

    # -- writing ---------------------------------------------------------------------------------
    def send(
        self,
        tx: sqlite3.Connection,
        *,
        kind: str,
        sender: str,
        recipients: list[str],
        subject: str,
        body: str,
        work_item_id: str | None = None,
        attachments: Sequence[tuple[str, str, str]] = (),
    ) -> str:
        """Store one message in `tx` and return its id; it goes to SMTP only if and after `tx` commits.

        `attachments` are (file name, content type, text content). Bad input is a ValueError naming it,
        raised before anything is written."""
        _check_message(kind, sender, recipients, subject, body, work_item_id)
        if not isinstance(attachments, (list, tuple)):
            raise ValueError("attachments: expected a list of (file name, content type, text content)")
        files = [_check_attachment(i, a) for i, a in enumerate(attachments)]
        message_id = str(uuid.uuid4())
        tx.execute(
            "INSERT INTO outbox(id, created, kind, sender, recipients, subject, body, work_item_id, delivery) "
            "VALUES (?,?,?,?,?,?,?,?, 'stored')",
            (
                message_id,
                iso(self.clock.now()),
                kind,
                sender,
                json.dumps(list(recipients)),
                subject,
                body,
                work_item_id,
            ),
        )
        tx.executemany(
            "INSERT INTO outbox_attachments(id, message_id, file_name, content_type, content) VALUES (?,?,?,?,?)",
            [(str(uuid.uuid4()), message_id, name, ctype, content) for name, ctype, content in files],
        )
        if self.mail is not None and self.mail.delivers:
            self.store.after_this_commit(lambda: self._deliver(message_id))
        return message_id

    def _deliver(self, message_id: str) -> None:
        """Hand one committed message to SMTP and record how it went. Never raises: the caller's work is
        committed already, and a mail server that is down is the row's news, not the request's."""
        try:
            message = self._full(message_id)
            if message is None:  # a reset or an import between the commit and here took it away
                return
            state, error = "sent", None
            try:
                refused = self._smtp_send(message)
                if refused:  # some recipients took it, these did not
                    error = "refused by the server: " + "; ".join(
                        f"{address} ({code} {reply.decode('utf-8', 'replace')})"
                        for address, (code, reply) in refused.items()
                    )
            except Exception as exc:
                state, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("outbox %s: delivery failed: %s", message_id, error)
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE outbox SET delivery=?, delivery_error=?, delivered=? WHERE id=?",
                    (state, error, iso(self.clock.now()) if state == "sent" else None, message_id),
                )
        except Exception:
            log.exception("outbox %s: could not deliver or record the delivery", message_id)

    def _smtp_send(self, message: _Full) -> dict[str, tuple[int, bytes]]:
        mail = self.mail
        assert mail is not None and mail.smtp_host is not None
        mime = self.mime(message)
        # local_hostname: EHLO as localhost rather than look this machine's name up (DNS, maybe off-machine).
        with smtplib.SMTP(
            mail.smtp_host, mail.smtp_port, timeout=mail.timeout_seconds, local_hostname="localhost"
        ) as s:
            if mail.starttls:
                s.starttls(context=ssl.create_default_context())
            if mail.username is not None:
                s.login(mail.username, mail.password or "")
            return s.send_message(mime, from_addr=message.sender, to_addrs=list(message.recipients))

    def mime(self, message: _Full) -> EmailMessage:
        """The message as it goes over SMTP: the body as text/plain, each attachment a real MIME part.

        Seven-bit clean whatever the server offers: the body quoted-printable, attachments base64 (their
        bytes, line endings included, arrive exactly as stored)."""
        mime = EmailMessage()
        mime["From"] = message.sender
        mime["To"] = ", ".join(message.recipients)
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(self.clock.now())
        mime["Message-ID"] = f"<{message.id}@operate-emulator>"
        mime.set_content(message.body, cte="quoted-printable")
        for part in message.files:
            maintype, _, subtype = part.content_type.partition("/")
            charset = {"charset": "utf-8"} if maintype == "text" else None
            mime.add_attachment(
                part.content.encode("utf-8"),
                maintype=maintype,
                subtype=subtype,
                filename=part.file_name,
                params=charset,
            )
        return mime

    # -- reading ---------------------------------------------------------------------------------
    def list(
        self,
        limit: int = 50,
        offset: int = 0,
        kind: str | None = None,
        work_item_id: str | None = None,
        to_any_of: list[str] | None = None,
        or_kinds: Sequence[str] = (),
    ) -> OutboxPage:
        """Newest first; `total_rows` counts every message the filters match. `to_any_of`: only messages to one
        of these addresses (lower case), or of one of `or_kinds` (emulator/outbox_access.py says who reads what);
        None: every message."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_MAX:
            raise ValueError(f"limit: must be a whole number from 1 to {LIST_MAX}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError("offset: must be a whole number, 0 or more")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind: must be one of {list(KINDS)}, not {kind!r}")
        where, args = [], []
        if kind is not None:
            where.append("kind=?")
            args.append(kind)
        if work_item_id is not None:
            where.append("work_item_id=?")
            args.append(work_item_id)
        if to_any_of is not None:
            marks, kinds = ",".join("?" * len(to_any_of)), ",".join("?" * len(or_kinds))
            where.append(
                f"(kind IN ({kinds}) OR EXISTS (SELECT 1 FROM json_each(recipients) WHERE lower(value) IN ({marks})))"
            )
            args.extend([*or_kinds, *to_any_of])
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.store.read() as conn:
            total = conn.execute(f"SELECT COUNT(*) FROM outbox {clause}", args).fetchone()[0]
            rows = conn.execute(
                f"SELECT * FROM outbox {clause} ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return OutboxPage([_message(conn, r) for r in rows], total)

    def get(self, message_id: str) -> Message:
        message = self._load(message_id)
        if message is None:
            raise not_found("outbox message", message_id, "message_id")
        return message

    def attachment(self, message_id: str, attachment_id: str) -> Attachment:
        self.get(message_id)
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT id, file_name, content_type, content, length(CAST(content AS BLOB)) AS size "
                "FROM outbox_attachments WHERE message_id=? AND id=?",
                (message_id, attachment_id),
            ).fetchone()
        if row is None:
            raise not_found("attachment", attachment_id, "attachment_id")
        return Attachment(row["id"], row["file_name"], row["content_type"], row["size"], row["content"])

    def _load(self, message_id: str) -> Message | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE id=?", (message_id,)).fetchone()
            return None if row is None else _message(conn, row)

    def _full(self, message_id: str) -> _Full | None:
        with self.store.read() as conn:
            message = self._load(message_id)
            if message is None:
                return None
            files = tuple(
                Attachment(r["id"], r["file_name"], r["content_type"], r["size"], r["content"])
                for r in conn.execute(
                    "SELECT id, file_name, content_type, content, length(CAST(content AS BLOB)) AS size "
                    "FROM outbox_attachments WHERE message_id=? ORDER BY rowid",
                    (message_id,),
                )
            )
        return _Full(**{k: getattr(message, k) for k in Message.__dataclass_fields__}, files=files)


@dataclass(frozen=True)
class _Full(Message):
    """A message with its attachments' content: what delivery needs."""

    files: tuple[Attachment, ...] = ()


def _message(conn: sqlite3.Connection, row: sqlite3.Row) -> Message:
    attachments = tuple(
        AttachmentInfo(r["id"], r["file_name"], r["content_type"], r["size"])
        for r in conn.execute(
            "SELECT id, file_name, content_type, length(CAST(content AS BLOB)) AS size "
            "FROM outbox_attachments WHERE message_id=? ORDER BY rowid",
            (row["id"],),
        )
    )
    return Message(
        id=row["id"],
        created=row["created"],
        kind=row["kind"],
        sender=row["sender"],
        recipients=tuple(json.loads(row["recipients"])),
        subject=row["subject"],
        body=row["body"],
        work_item_id=row["work_item_id"],
        delivery=row["delivery"],
        delivery_error=row["delivery_error"],
        delivered=row["delivered"],
        attachments=attachments,
    )


def _check_message(kind: Any, sender: Any, recipients: Any, subject: Any, body: Any, work_item_id: Any) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {list(KINDS)}, not {kind!r}")
    check_address(sender, "sender")
    if isinstance(recipients, str) or not isinstance(recipients, (list, tuple)) or not recipients:
        raise ValueError("recipients: expected a non-empty list of e-mail addresses")
    for i, address in enumerate(recipients):
        check_address(address, f"recipients[{i}]")
    if not isinstance(subject, str) or "\r" in subject or "\n" in subject or len(subject) > SUBJECT_MAX:
        raise ValueError(f"subject: expected one line of text (at most {SUBJECT_MAX} characters)")
    if not isinstance(body, str):
        raise ValueError("body: expected text")
    if work_item_id is not None and (not isinstance(work_item_id, str) or not work_item_id):
        raise ValueError("work_item_id: expected a work item id or None")


def _check_attachment(i: int, attachment: Any) -> tuple[str, str, str]:
    where = f"attachments[{i}]"
    if not isinstance(attachment, (tuple, list)) or len(attachment) != 3:
        raise ValueError(f"{where}: expected (file name, content type, text content)")
    name, ctype, content = attachment
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > FILE_NAME_MAX
        or any(c in name for c in '/\\"')
        or any(ord(c) < 32 for c in name)
    ):
        raise ValueError(
            f'{where}: file name {name!r} must be 1 to {FILE_NAME_MAX} characters, without / \\ " or controls'
        )
    if not isinstance(ctype, str) or not MEDIA_TYPE.match(ctype):
        raise ValueError(f"{where}: content type {ctype!r} must be type/subtype, such as text/csv")
    if not isinstance(content, str):
        raise ValueError(f"{where}: content must be text (str)")
    return name, ctype.lower(), content


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="outbox",
    modules=("emulator.outbox",),
    tables=("outbox", "outbox_attachments"),
    migrations=sql_migrations(__name__),
)
