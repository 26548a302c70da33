"""Communications and documents (§7, §8): messages on a matter and the three-step document upload
(create, PUT the bytes to put_url, complete), downloads and the trash."""

from __future__ import annotations

import copy
import mimetypes
import uuid
from typing import Any

from emulator.kernel.clock import parse_instant

from ....clio.errors import ClioError
from .. import seed
from .rules import (
    COMMUNICATION_FIELDS,
    PUT_URL_LIFETIME,
    _only,
)


class CommunicationRecords:
    """ClioBackend's communications and documents: a part of the backend, working on its records under its lock."""

    def create_communication(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """§7: subject, body, type and received_at are required; senders and receivers are `{id, type}`."""
        return self._insert("communications", lambda: self._communication(data, user_id))

    def _communication(self, data: dict[str, Any], user_id: int, record_id: int | None = None) -> dict[str, Any]:
        """A communication as `data` describes it, checked (a create, or an update's merged fields)."""
        _only(data, COMMUNICATION_FIELDS, "communication", "a communication")
        for name in ("subject", "body", "type", "received_at"):
            if not isinstance(data.get(name), str) or not data[name].strip():
                raise ClioError(422, f"data.{name} is required", "ValidationError")
        if data["type"] not in ("EmailCommunication", "PhoneCommunication"):
            raise ClioError(422, "data.type must be EmailCommunication or PhoneCommunication", "ValidationError")
        try:
            received = parse_instant(data["received_at"])
        except ValueError:
            raise ClioError(422, "data.received_at must be an ISO 8601 timestamp", "ValidationError") from None
        with self.lock:
            participants = {
                side: self._participants(data.get(side), f"data.{side}") for side in ("senders", "receivers")
            }
            now = self.clock.now()
            record = {
                "id": record_id or self._new_id("communications"),
                "subject": data["subject"],
                "body": data["body"],
                "type": data["type"],
                "date": received.date().isoformat(),
                "received_at": seed.stamp(received),
                "matter": self._matter_ref(data.get("matter"), "data"),
                "user": {"id": user_id},
                **participants,
                "external_properties": self._external_properties(data.get("external_properties"), "data"),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
            }
            return record

    def _participants(self, raw: Any, where: str) -> list[dict[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ClioError(422, f"{where} must be a list of {{id, type}}", "ValidationError")
        out = []
        for item in raw:
            kind = item.get("type") if isinstance(item, dict) else None
            ident = item.get("id") if isinstance(item, dict) else None
            found = (self.users if kind == "User" else self.contacts if kind == "Contact" else {}).get(ident)
            if found is None:
                raise ClioError(422, f"{where}: {item!r} is not a User or Contact of this firm", "ValidationError")
            out.append(
                {
                    "id": found["id"],
                    "etag": found["etag"],
                    "type": "User" if kind == "User" else found["type"],
                    "name": found["name"],
                    "identifier": found.get("email") or found.get("primary_email_address"),
                }
            )
        return out

    def update_communication(self, communication_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """PATCH /communications/{id}: what a create takes, each optional."""
        _only(data, COMMUNICATION_FIELDS, "communication", "a communication")
        return self._patch(
            "communications", communication_id, data, if_match, "communication", self._changed_communication
        )

    def _changed_communication(self, communication: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        merged = {k: communication[k] for k in ("subject", "body", "type", "received_at", "matter")}
        merged.update({k: v for k, v in data.items() if k in merged and v is not None})
        for side in ("senders", "receivers", "external_properties"):
            if data.get(side) is not None:
                merged[side] = data[side]
        made = self._communication(merged, communication["user"]["id"], communication["id"])
        changed = dict(communication)
        changed.update({k: v for k, v in made.items() if k in merged or k == "date"})
        changed["updated_at"] = seed.stamp(self.clock.now())
        return changed

    def delete_communication(self, communication_id: int) -> None:
        with self.lock:
            self._remove("communications", self.find("communications", communication_id))

    def create_document(self, data: dict[str, Any], user_id: int, base_url: str) -> dict[str, Any]:
        """§8.1 step 1: the document and its first version, with a pre-signed `put_url` valid 10 minutes."""
        _only(data, ("name", "parent", "content_type", "external_properties"), "document", "a document")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ClioError(422, "data.name is required", "ValidationError")
        parent = data.get("parent")
        if not isinstance(parent, dict) or parent.get("type") != "Matter":
            raise ClioError(
                422, 'data.parent must be {"id": <matter id>, "type": "Matter"} on this fake', "ValidationError"
            )
        with self.lock:
            matter = self._matter_ref(parent, "data.parent")
            now = self.clock.now()
            content_type = data.get("content_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
            version_uuid = str(uuid.uuid4())
            document_id = self._new_id("documents")
            version = {
                "id": self._new_id("versions"),
                "document_id": document_id,
                "uuid": version_uuid,
                "filename": name,
                "size": 0,
                "version_number": 1,
                "content_type": content_type,
                "fully_uploaded": False,
                "put_url": f"{base_url}/_fake/s3/{version_uuid}",
                "put_headers": [
                    {"name": "Content-Type", "value": content_type},
                    {"name": "x-amz-server-side-encryption", "value": "AES256"},
                ],
                "received_at": seed.stamp(now),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
            }
            record = {
                "id": document_id,
                "type": "Document",
                "name": name,
                "filename": name,
                "size": 0,
                "content_type": content_type,
                "locked": False,
                "parent": {"id": matter["id"], "type": "Matter"},
                "matter": matter,
                "creator": {"id": user_id},
                "external_properties": self._external_properties(data.get("external_properties"), "data"),
                "latest_document_version": version,
                "received_at": seed.stamp(now),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
                "deleted_at": None,
            }
            self.uploads[version_uuid] = {
                "document_id": document_id,
                "bytes": None,
                "expires_at": now + PUT_URL_LIFETIME,
            }
            self._save("documents", record, None)
            return record

    def put_upload(self, version_uuid: str, body: bytes, headers: dict[str, str]) -> None:
        """§8.1 step 2: the bytes, with every header the version's `put_headers` listed."""
        with self.lock:
            upload = self.uploads.get(version_uuid)
            if upload is None:
                raise ClioError(404, "no upload at this URL", "NoSuchUpload")
            if self.clock.now() >= upload["expires_at"]:
                raise ClioError(403, "the put_url has expired (it is valid for 10 minutes)", "RequestExpired")
            version = self.documents[upload["document_id"]]["latest_document_version"]
            for header in version["put_headers"]:
                if headers.get(header["name"].lower()) != header["value"]:
                    raise ClioError(
                        403, f"the PUT must send {header['name']}: {header['value']}", "SignatureDoesNotMatch"
                    )
            upload["bytes"] = bytes(body)

    def complete_upload(self, document_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """§8.1 step 3: `{uuid, fully_uploaded: true}`; the bytes must be there."""
        _only(data, ("uuid", "fully_uploaded"), "document", "a document's update")
        with self.lock:
            document = self.find("documents", document_id)
            version = document["latest_document_version"]
            if data.get("uuid") != version["uuid"] or data.get("fully_uploaded") is not True:
                raise ClioError(422, "send the version's uuid with fully_uploaded: true", "ValidationError")
            if version["fully_uploaded"]:
                raise ClioError(422, "this version is already marked fully uploaded", "ValidationError")
            upload = self.uploads[version["uuid"]]
            if upload["bytes"] is None:
                raise ClioError(422, "the file was not found at the put_url: PUT it first", "UploadNotFoundError")
            now = seed.stamp(self.clock.now())
            size = len(upload["bytes"])
            before = copy.deepcopy(document)
            version.update(fully_uploaded=True, size=size, updated_at=now)
            document.update(size=size, updated_at=now)
            self._save("documents", document, before)
            return document

    def trash_document(self, document_id: int) -> None:
        """DELETE moves a document to the trash (`deleted_at` set; lists hide it unless `include_deleted`)."""
        with self.lock:
            document = self.find("documents", document_id)
            if document["deleted_at"] is None:
                now = seed.stamp(self.clock.now())
                before = copy.deepcopy(document)
                document.update(deleted_at=now, updated_at=now)
                self._save("documents", document, before, "deleted")

    def download(self, document_id: int) -> tuple[bytes, str, str]:
        document = self.find("documents", document_id)
        version = document["latest_document_version"]
        upload = self.uploads.get(version["uuid"]) or {}
        if not version["fully_uploaded"] or upload.get("bytes") is None:
            raise ClioError(404, f"Document {document_id} has no uploaded version", "RecordNotFound")
        return upload["bytes"], version["content_type"], version["filename"]
