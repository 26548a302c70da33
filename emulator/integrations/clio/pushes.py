"""What goes from Operate to the Clio matter: client messages (every 2 minutes) and documents (every 20).

Never twice, also across a crash. Each item's progress is a row of `clio_pushes`, written BEFORE each step
that changes Clio and after it succeeds, so a restart knows where it stopped:

- a message: `sending` → POST `/communications` (with the Operate comment id as an external property) →
  `done`. Found at `sending` after a crash, the push first looks the communication up by that property
  (`external_property_name/value`) and only sends when Clio does not have it.
- a document: `creating` → POST `/documents` (external property = the Operate document id) → `uploading`
  (Clio's id known) → PUT the bytes to `put_url` with every `put_headers` → `completing` → PATCH
  `fully_uploaded` → `done`. Resumed at `creating`, it looks the document up (`show_uncompleted=true`) first;
  at `uploading` or `completing` it re-reads the version and carries on from there.

Messages are the comments on an imported matter [inferred: the emulator's client messages]: From is the
comment's author (the Clio user with the same e-mail, else the connected user), To is the matter's client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from pms_adapters.clio.client import ClioClient, ClioDisconnected, ClioError, error_type

from ...kernel.clock import Clock, iso
from ...kernel.store import Store
from ...ods import Ods, contact_details
from ...workitem_reads import WorkItemReads
from .connection import ClioConnection
from .settings import ClioSettings
from .sync import CONTACT_REFERENCE

log = logging.getLogger("operate.integrations.clio")

PROPERTY_MESSAGE = "operate_comment_id"
PROPERTY_DOCUMENT = "operate_document_id"
MAX_ATTEMPTS = 5  # a push that failed this often waits for a person (shown with its error)
VERSION_FIELDS = "id,latest_document_version{uuid,put_url,put_headers,fully_uploaded}"
BATCH = 200  # items per run, so one run stays short; the next run takes the rest
SCAN = 1000  # comments or documents read at a time while looking for the ones to push


class ClioPushes:
    def __init__(
        self, *, store: Store, clock: Clock, settings: ClioSettings, connection: ClioConnection, documents: Any
    ) -> None:
        self.store, self.clock, self.settings = store, clock, settings
        self.connection, self.documents = connection, documents
        # One push of a kind at a time (the cron job, the API and the page may all start one): the second
        # waits, then reads what is left, so nothing is sent twice.
        self._locks = {"communication": threading.Lock(), "document": threading.Lock()}
        self._ods = Ods(store)
        self._users: dict[str, Any] | None = None  # Clio's users by e-mail, during one messages run

    # -- messages ---------------------------------------------------------------------------------
    def push_messages(self) -> dict[str, int]:
        with self._locks["communication"]:
            return self._push_messages()

    def _push_messages(self) -> dict[str, int]:
        self._users = None  # Clio's users by e-mail, fetched once for this run
        if not self.connection.connected:
            return {"pushed": 0, "failed": 0}
        rows = self._to_push("communication", WorkItemReads(self.store).comments_from)
        return self._each(rows, "communication", self._message)

    def _message(self, client: ClioClient, row: Any) -> int:
        if row["step"] == "sending":
            found = _sent_before(client, "communications.json", PROPERTY_MESSAGE, row, {"fields": "id"})
            if found:
                return found[0]["id"]
        self._step("communication", row["id"], row["clio_id"], "sending", None)
        sender = self._clio_user(client, row["author"])
        receivers = self._client_contact(row["work_item_id"])
        data: dict[str, Any] = {
            "subject": self.settings.message_subject,
            "body": row["comment"],
            "type": "EmailCommunication",
            "received_at": _clio_stamp(row["created"]),
            "matter": {"id": row["clio_id"]},
            "external_properties": [{"name": PROPERTY_MESSAGE, "value": row["id"]}],
        }
        if sender is not None:
            data["senders"] = [{"id": sender, "type": "User"}]
        if receivers is not None:
            data["receivers"] = [{"id": receivers, "type": "Contact"}]
        return client.post("communications.json", data, {"fields": "id"})["data"]["id"]

    def _clio_user(self, client: ClioClient, author: str | None) -> int | None:
        """The Clio user with the author's e-mail, else the connected user; Clio's users read once a run."""
        with self.store.read() as conn:
            person = self._ods.user_by_name(author, conn)
        email = next(
            (str(d["contactValue"]).lower() for d in contact_details(person or {})
             if d.get("contactTypeSystemName") == "email" and d.get("contactValue")),
            None,
        )  # fmt: skip
        if self._users is None:
            listed = client.get("users.json", {"fields": "id,email", "limit": 200})["data"]
            self._users = {str(u.get("email", "")).lower(): u["id"] for u in listed if u.get("email")}
            self._users[""] = client.who_am_i().get("id")
        return self._users.get(email or "", self._users[""])

    def _client_contact(self, item_id: str) -> int | None:
        prefix = CONTACT_REFERENCE.format("")
        with self.store.read() as conn:
            for ods_id in WorkItemReads(self.store).participant_ods_ids(item_id, self.settings.client_role):
                _, person = self._ods.find(ods_id, conn) or ("", {})
                ref = person.get("externalReference")
                ref = ref if isinstance(ref, str) else ""
                if ref.startswith(prefix) and ref[len(prefix) :].isdigit():
                    return int(ref[len(prefix) :])
        return None

    # -- documents --------------------------------------------------------------------------------
    def push_documents(self) -> dict[str, int]:
        with self._locks["document"]:
            return self._push_documents()

    def _push_documents(self) -> dict[str, int]:
        if not self.connection.connected:
            return {"pushed": 0, "failed": 0}
        rows = self._to_push("document", self.documents.listed_from)
        return self._each(rows, "document", self._document)

    def _document(self, client: ClioClient, row: Any) -> int:
        document = self._resume_document(client, row)
        if document is not None:
            version = document["latest_document_version"]
            if version.get("fully_uploaded"):
                return document["id"]
            if self._complete(client, document):  # the bytes reached Clio before the answer was lost
                return document["id"]
            try:
                return self._upload(client, row, document)
            except ClioError as exc:
                if exc.kind != "RequestExpired":
                    raise
                # put_url lives 10 minutes: trash the unfinished document (never shown) and start again.
                client.delete(f"documents/{document['id']}.json")
        self._step("document", row["id"], row["clio_id"], "creating", None)
        document = client.post(
            "documents.json",
            {
                "name": row["file_name"],
                "content_type": row["content_type"],
                "parent": {"id": row["clio_id"], "type": "Matter"},
                "external_properties": [{"name": PROPERTY_DOCUMENT, "value": row["id"]}],
            },
            {"fields": VERSION_FIELDS},
        )["data"]
        return self._upload(client, row, document)

    def _resume_document(self, client: ClioClient, row: Any) -> dict[str, Any] | None:
        """Where an earlier attempt left it in Clio: found by its external property (or its id)."""
        if row["step"] in ("uploading", "completing") and row["clio_document"]:
            return client.get(f"documents/{row['clio_document']}.json", {"fields": VERSION_FIELDS})["data"]
        if row["step"] == "creating":
            found = _sent_before(
                client, "documents.json", PROPERTY_DOCUMENT, row, {"show_uncompleted": "true", "fields": VERSION_FIELDS}
            )
            return found[-1] if found else None
        return None

    def _upload(self, client: ClioClient, row: Any, document: dict[str, Any]) -> int:
        self._step("document", row["id"], row["clio_id"], "uploading", document["id"])
        version = document["latest_document_version"]
        data = self.documents.file(self.documents.get(row["id"])).read_bytes()
        headers = {h["name"]: h["value"] for h in version.get("put_headers") or []}
        put_url = self._checked_put_url(version.get("put_url"))
        # The pre-signed URL carries its own authority: no Bearer header goes to it (reference §8.2).
        response = self.connection.http.put(put_url, content=data, headers=headers)
        if response.status_code >= 400:
            kind = error_type(response)
            raise ClioError(response.status_code, f"the upload to put_url was refused ({kind})", kind)
        self._step("document", row["id"], row["clio_id"], "completing", document["id"])
        if not self._complete(client, document):
            raise ClioError(422, "Clio did not find the uploaded bytes", "UploadNotFoundError")
        return document["id"]

    def _checked_put_url(self, url: Any) -> str:
        """Where the bytes may go: Clio's own host, or (a real Clio's storage) https when remote calls are
        allowed at all; never somewhere the settings did not let data go (fail closed)."""
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClioError(0, f"Clio gave no usable put_url ({str(url)[:80]!r})")
        base = urlsplit(self.settings.base_url)
        if (parts.scheme, parts.hostname, parts.port) == (base.scheme, base.hostname, base.port):
            return url
        if self.settings.allow_remote and parts.scheme == "https":
            return url
        raise ClioError(0, f"put_url {parts.scheme}://{parts.hostname} is not Clio's host; the bytes stay here")

    def _complete(self, client: ClioClient, document: dict[str, Any]) -> bool:
        """Step 3; False when Clio has no bytes for the version yet (UploadNotFoundError)."""
        uuid = document["latest_document_version"]["uuid"]
        try:
            client.patch(f"documents/{document['id']}.json", {"uuid": uuid, "fully_uploaded": True})
        except ClioError as exc:
            if exc.kind == "UploadNotFoundError":
                return False
            if "already" in exc.message:  # marked before the answer was lost: the step is done
                return True
            raise
        return True

    # -- the shared loop --------------------------------------------------------------------------
    def _to_push(self, kind: str, source: Callable[[tuple[str, str] | None, int], list[Any]]) -> list[dict[str, Any]]:
        """The first BATCH items (comments, documents: `source` walks them in order, a chunk at a time) on an
        imported matter whose push has not started, or has not ended and may be tried again; each with its
        matter's Clio id (clio_id), its push's step and attempts, and the Clio id the push made (clio_document)."""
        found: list[dict[str, Any]] = []
        after: tuple[str, str] | None = None
        with self.store.read() as conn:  # one consistent read, as one query was
            while len(found) < BATCH:
                chunk = source(after, SCAN)
                if not chunk:
                    break
                after = (chunk[-1]["created"], chunk[-1]["id"])
                found += self._pending(conn, kind, chunk)[: BATCH - len(found)]
                if len(chunk) < SCAN:
                    break
        return found

    def _pending(self, conn: Any, kind: str, chunk: list[Any]) -> list[dict[str, Any]]:
        """Of one chunk of items, those on an imported matter still to push, in the chunk's order."""
        items = sorted({r["work_item_id"] for r in chunk})
        matters = {
            r["work_item_id"]: r["clio_id"]
            for r in conn.execute(
                f"SELECT work_item_id, clio_id FROM clio_matters WHERE work_item_id IN ({','.join('?' * len(items))})",
                items,
            )
        }
        ids = [r["id"] for r in chunk]
        pushes = {
            r["source_id"]: r
            for r in conn.execute(
                "SELECT source_id, step, attempts, clio_id FROM clio_pushes "
                f"WHERE kind=? AND source_id IN ({','.join('?' * len(ids))})",
                [kind, *ids],
            )
        }
        out = []
        for r in chunk:
            push = pushes.get(r["id"])
            if r["work_item_id"] not in matters or (
                push and (push["step"] == "done" or push["attempts"] >= MAX_ATTEMPTS)
            ):
                continue
            out.append(
                {
                    **dict(r),
                    "clio_id": matters[r["work_item_id"]],
                    "step": push["step"] if push else None,
                    "attempts": push["attempts"] if push else None,
                    "clio_document": push["clio_id"] if push else None,
                }
            )
        return out

    def _each(self, rows: list[Any], kind: str, push: Any) -> dict[str, int]:
        pushed = failed = 0
        if not rows:
            return {"pushed": 0, "failed": 0}
        client = self.connection.client()
        for row in rows:
            try:
                clio_id = push(client, row)
            except ClioDisconnected:
                self.connection.mark_disconnected(client.tokens)
                break
            except (ClioError, httpx.HTTPError, OSError, KeyError, TypeError, ValueError) as exc:
                failed += 1
                self._failed(kind, row["id"], row["clio_id"], str(getattr(exc, "message", exc)))
                continue
            self._step(kind, row["id"], row["clio_id"], "done", clio_id)
            pushed += 1
        return {"pushed": pushed, "failed": failed}

    def _step(self, kind: str, source_id: str, matter: int, step: str, clio_id: int | None) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO clio_pushes(kind, source_id, clio_matter_id, clio_id, step, updated) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(kind, source_id) DO UPDATE SET step=excluded.step,"
                " clio_id=COALESCE(excluded.clio_id, clio_pushes.clio_id), error=NULL, updated=excluded.updated",
                (kind, source_id, matter, clio_id, step, iso(self.clock.now())),
            )

    def _failed(self, kind: str, source_id: str, matter: int, error: str) -> None:
        log.warning("Clio %s push of %s failed: %s", kind, source_id, error)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO clio_pushes(kind, source_id, clio_matter_id, step, attempts, error, updated)"
                " VALUES (?,?,?,'creating',1,?,?) ON CONFLICT(kind, source_id) DO UPDATE SET"
                " attempts=clio_pushes.attempts + 1, error=excluded.error, updated=excluded.updated",
                (kind, source_id, matter, error[:500], iso(self.clock.now())),
            )

    def pending(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM clio_pushes WHERE step != 'done' ORDER BY updated").fetchall()
        return [
            {"kind": r["kind"], "sourceId": r["source_id"], "step": r["step"], "attempts": r["attempts"],
             "error": r["error"], "clioId": r["clio_id"]}
            for r in rows
        ]  # fmt: skip


def _clio_stamp(instant: str) -> str:
    """Operate's `...Z` instants as Clio's (ISO 8601 with an offset)."""
    return instant.replace("Z", "+00:00")


def _sent_before(client: ClioClient, path: str, prop: str, row: Any, params: dict[str, str]) -> list[dict[str, Any]]:
    """What an earlier attempt already sent of the row to the row's Clio matter: Clio's records whose external
    property `prop` holds the row's id (the push is idempotent by it)."""
    query = {"matter_id": row["clio_id"], "external_property_name": prop, "external_property_value": row["id"]}
    return client.get(path, {**query, **params})["data"]
