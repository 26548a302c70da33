"""Related documents: a work item's DMS folders, the files in them, and the links that download them.

HTTP lives in `emulator/api/documents.py`; this module knows nothing of Flask. The bytes are files
under `<data-dir>/documents/`, named by their SHA-256 (content-addressed, so a reset or a snapshot
import can never leave a row pointing at other bytes, and a file is written before the row that
names it commits); the rows are the `documents` table. A file no row names is swept away, under the
store's lock, so an upload of the same bytes can never lose its file to a concurrent delete.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import mimetypes
import os
import re
import secrets
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .identity import Principal, require
from .kernel.binding import canonical_guid
from .kernel.clock import Clock, iso
from .kernel.errors import ApiError, invalid, not_found
from .kernel.events import EventStream
from .kernel.paging import chunk_after
from .kernel.schema import AreaSchema, sql_migrations
from .kernel.store import SnapshotError, Store
from .workitems import WorkItem, WorkItems

# [inferred] Every work item has one repository with these folders (the name → its subfolders).
# Evidence, Statements and Other are the folders the official upload widget offers; the tree is
# data, so a tenant's real folder template can be dropped in here.
FOLDERS: dict[str, dict[str, Any]] = {
    "Evidence": {},
    "Statements": {},
    "Correspondence": {"Inbound": {}, "Outbound": {}},
    "Other": {},
}
LINK_SECONDS = 600  # [inferred] how long a `document/{id}/url` link works, on the emulator's clock
FILE_NAME_MAX = 255
REPOSITORY_NAMESPACE = uuid.UUID("9d6f1a52-4c1e-4d0b-9a53-2f1c6d3e8b10")  # repository ids derive from item ids
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MEDIA_TYPE = re.compile(r"^[\w.+-]{1,100}/[\w.+-]{1,100}(;[ \w.+=\"-]{0,100})?$", re.ASCII)

# [inferred] `iconClass` per extension, in the Font Awesome 4 names the UI uses.
ICONS: dict[str, tuple[str, ...]] = {
    "fa-file-pdf-o": ("pdf",),
    "fa-file-word-o": ("doc", "docx", "dot", "dotx", "rtf", "odt"),
    "fa-file-excel-o": ("xls", "xlsx", "xlsm", "csv", "ods"),
    "fa-file-powerpoint-o": ("ppt", "pptx", "odp"),
    "fa-file-image-o": ("gif", "png", "bmp", "jpg", "jpeg", "psd", "heic", "webp", "tif", "tiff", "svg"),
    "fa-file-video-o": ("mpg", "mp4", "avi", "mov", "3gp", "webm"),
    "fa-file-audio-o": ("mp3", "wav", "m4a", "ogg"),
    "fa-file-archive-o": ("zip", "7z", "rar", "gz", "tar"),
    "fa-file-text-o": ("txt", "md", "log"),
    "fa-envelope-o": ("eml", "msg"),
}
ICON_BY_EXTENSION = {ext: icon for icon, exts in ICONS.items() for ext in exts}


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart upload, as the HTTP layer read it."""

    part: str  # the part's name: `file` (the Filing app, the mobile app) or the file's own name (the widget)
    file_name: str
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Document:
    id: str
    work_item_id: str
    folder: str  # "" is the repository's root
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_by: str | None
    created: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Document:
        return cls(*(row[k] for k in cls.__dataclass_fields__))

    @property
    def path(self) -> str:
        """The document's path in its repository: what `relatedDocuments/{path}` takes back."""
        return f"{self.folder}/{self.file_name}" if self.folder else self.file_name


def document_json(doc: Document) -> dict[str, Any]:
    """[inferred] A related document as the mobile sample reads it: `id` (to delete and to ask for a
    link), `documentId` (the path `relatedDocuments/{path}` serves; its extension picks the preview),
    `title` and `iconClass`; the rest is what a DMS row plausibly carries."""
    return {
        "id": doc.id,
        "documentId": doc.path,
        "title": doc.file_name,
        "fileName": doc.file_name,
        "folder": doc.folder,
        "iconClass": icon_class(doc.file_name),
        "contentType": doc.content_type,
        "size": doc.size,
        "sharedoId": doc.work_item_id,
        "repositoryId": repository_id(doc.work_item_id),
        "createdBy": doc.created_by,
        "createdDate": doc.created,
    }


def related_documents(conn: sqlite3.Connection, item_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM documents WHERE work_item_id=? ORDER BY created, rowid", (item_id,))
    return [document_json(Document.from_row(r)) for r in rows]


def repository_id(item_id: str) -> str:
    return str(uuid.uuid5(REPOSITORY_NAMESPACE, item_id))


def icon_class(file_name: str) -> str:
    return ICON_BY_EXTENSION.get(file_name.rpartition(".")[2].lower(), "fa-file-o")


def _folder_paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
    """Every folder's path from the root, parents first ("Correspondence", "Correspondence/Inbound")."""
    out: list[str] = []
    for name, children in tree.items():
        out.append(f"{prefix}{name}")
        out.extend(_folder_paths(children, f"{prefix}{name}/"))
    return out


FOLDER_PATHS = _folder_paths(FOLDERS)


def folder_values() -> list[str]:
    """What an upload's `folder` may be: the root ("" or "/") or a folder's path, with or without a leading "/"."""
    return ["", "/", *FOLDER_PATHS, *(f"/{p}" for p in FOLDER_PATHS)]


def _subtree(path: str) -> dict[str, Any]:
    node = FOLDERS
    for name in filter(None, path.split("/")):
        node = node[name]
    return node


def normalise_folder(raw: str | None, field: str = "folder") -> str:
    """[inferred] The folder path an upload names ("" for the root): spelt as `dms/{path}` lists it, a leading
    "/" allowed (the Filing app lists the root as "/")."""
    if raw is None or raw in ("", "/"):
        return ""
    path = raw[1:] if raw.startswith("/") else raw
    if path not in FOLDER_PATHS:
        known = ", ".join(FOLDER_PATHS)
        raise invalid(field, f"{raw[:80]!r} is not a folder of the work item's repository; the folders are: {known}")
    return path


def clean_file_name(raw: str, field: str) -> str:
    """The name a file is kept under: its last path segment (old browsers send the whole path)."""
    name = re.split(r"[\\/]", raw)[-1].strip()
    if not name or name in (".", ".."):
        raise invalid(field, "the file part has no file name (send filename=... in its Content-Disposition)")
    if len(name) > FILE_NAME_MAX:
        raise invalid(field, f"the file name is {len(name)} characters; at most {FILE_NAME_MAX}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise invalid(field, "the file name holds control characters")
    return name


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `stem(n).ext` when the folder has it already (the mobile sample's makeUnique rule)."""
    if name.lower() not in taken:
        return name
    stem, dot, ext = name.partition(".")
    n = 1
    while f"{stem}({n}){dot}{ext}".lower() in taken:
        n += 1
    return f"{stem}({n}){dot}{ext}"


class Documents:
    """Related documents of work items: folders, uploads, downloads, signed links, snapshot files."""

    def __init__(self, store: Store, clock: Clock, stream: EventStream, workitems: WorkItems, root: Path) -> None:
        self.store = store
        self.clock = clock
        self.stream = stream
        self.workitems = workitems
        self.root = Path(root)
        self._secret = secrets.token_bytes(32)  # links die with the process: they are short-lived anyway

    # -- reading --------------------------------------------------------------------------------
    def _rows(self, conn: sqlite3.Connection, item_id: str) -> list[Document]:
        rows = conn.execute("SELECT * FROM documents WHERE work_item_id=? ORDER BY created, rowid", (item_id,))
        return [Document.from_row(r) for r in rows]

    def listed_from(self, after: tuple[str, str] | None, limit: int) -> list[sqlite3.Row]:
        """Every work item's documents in the order they were added (created, id), the `limit` after `after`
        (the created and id of the last one read): a reader walks them all a chunk at a time."""
        with self.store.read() as conn:
            return chunk_after(
                conn, "SELECT id, work_item_id, file_name, content_type, created FROM documents", after, limit
            )

    def find(self, doc_id: str, conn: sqlite3.Connection | None = None) -> Document | None:
        guid = canonical_guid(doc_id)
        row = self.store.row("SELECT * FROM documents WHERE id=?", (guid,), conn) if guid else None
        return Document.from_row(row) if row else None

    def get(self, doc_id: str) -> Document:
        doc = self.find(doc_id)
        if doc is None:
            raise not_found("document", doc_id, field="documentId")
        return doc

    def to_json(self, doc: Document) -> dict[str, Any]:
        return document_json(doc)

    def related(self, item_id: str) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            item = self.workitems.get(item_id, conn)
            return [self.to_json(d) for d in self._rows(conn, item.id)]

    def folder(self, item_id: str, path: str) -> dict[str, Any]:
        """`dms/{path}`: the folders under a path (`{folders:[{name,pathId}]}` as the Filing app reads it)
        and, [inferred], the documents filed there."""
        with self.store.read() as conn:
            item = self.workitems.get(item_id, conn)
            where = "/".join(seg for seg in path.split("/") if seg)
            if where and where not in FOLDER_PATHS:
                raise not_found("folder", path, field="path")
            docs = [d for d in self._rows(conn, item.id) if d.folder == where]
        children = _subtree(where)
        return {
            "path": where,
            "folders": [{"name": name, "pathId": f"{where}/{name}" if where else name} for name in children],
            "documents": [self.to_json(d) for d in docs],
        }

    def repositories(self, item_id: str, include_ancestors: bool) -> list[dict[str, Any]]:
        """[inferred] One repository per work item, its own first, then its ancestors' (nearest first)."""
        with self.store.read() as conn:
            item = self.workitems.get(item_id, conn)
            chain: list[WorkItem] = [item]
            while include_ancestors and chain[-1].parent_id and len(chain) < 100:
                parent = self.workitems.find(chain[-1].parent_id, conn)
                if parent is None:
                    break
                chain.append(parent)
        return [
            {
                "repositoryId": repository_id(wi.id),
                "name": wi.title,
                "sharedoId": wi.id,
                "sharedoTypeSystemName": wi.type,
                "isAncestor": wi.id != item.id,
                "rootPathId": "",
            }
            for wi in chain
        ]

    def by_path(self, item_id: str, path: str) -> Document:
        """`relatedDocuments/{path}`: a document by its path in the repository (case-insensitive), or by its id."""
        with self.store.read() as conn:
            item = self.workitems.get(item_id, conn)
            wanted = "/".join(seg for seg in path.split("/") if seg).lower()
            for doc in self._rows(conn, item.id):
                if doc.path.lower() == wanted or doc.id == wanted:
                    return doc
        raise not_found("document", path, field="path")

    def file(self, doc: Document) -> Path:
        return self.root / doc.sha256

    # -- upload and delete ----------------------------------------------------------------------
    def upload(
        self, item_id: str, uploads: list[Upload], folder: str | None, principal: Principal | None
    ) -> dict[str, Any]:
        require(principal, "core.sharedo.update")
        if not uploads:
            raise invalid("(body)", "no file part: send each file as a multipart part with a filename")
        where = normalise_folder(folder)
        names = [clean_file_name(u.file_name, f"(body).{u.part}") for u in uploads]
        author = (principal.user_name or principal.client_id) if principal else "system"
        written: list[str] = []
        ids: list[str] = []
        try:
            with self.store.transaction() as tx:
                item = self.workitems.get(item_id, tx)
                taken = {d.file_name.lower() for d in self._rows(tx, item.id) if d.folder == where}
                now = iso(self.clock.now())
                for upload, name in zip(uploads, names, strict=True):
                    name = _unique(name, taken)
                    taken.add(name.lower())
                    digest = self._write(upload.data)
                    written.append(digest)
                    doc = Document(
                        str(uuid.uuid4()),
                        item.id,
                        where,
                        name,
                        _content_type(upload.content_type, name),
                        len(upload.data),
                        digest,
                        author,
                        now,
                    )
                    tx.execute(
                        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                        tuple(getattr(doc, k) for k in Document.__dataclass_fields__),
                    )
                    self.stream.append(tx, "related-document-added", self._event_data(item, doc))
                    ids.append(doc.id)
        except BaseException:
            self._sweep(written)  # the rows never committed: their new files go too
            raise
        return {"relatedDocumentIds": ids}

    def delete(self, item_id: str, doc_ids: list[str], principal: Principal | None) -> None:
        """Unlink documents from the work item: their rows go, and each file once no row names it."""
        require(principal, "core.sharedo.update")
        if not doc_ids:
            raise invalid("documentId", "required: give ?documentId=<id> (repeat it for several)")
        with self.store.transaction() as tx:
            item = self.workitems.get(item_id, tx)
            docs: list[Document] = []
            for i, raw in enumerate(doc_ids):
                field = "documentId" if len(doc_ids) == 1 else f"documentId[{i}]"
                try:
                    uuid.UUID(raw)
                except ValueError:
                    raise invalid(field, f"expected a related document's id (a GUID), got {raw[:40]!r}") from None
                doc = self.find(raw, tx)
                if doc is None or doc.work_item_id != item.id:
                    raise ApiError(
                        404,
                        f"document {raw!r} is not a related document of work item {item.id}",
                        [{"field": field, "message": "not found"}],
                    )
                if doc not in docs:
                    docs.append(doc)
            for doc in docs:
                tx.execute("DELETE FROM documents WHERE id=?", (doc.id,))
                self.stream.append(tx, "related-document-removed", self._event_data(item, doc))
            self.store.after_this_commit(lambda: self._sweep(d.sha256 for d in docs))

    def _event_data(self, item: WorkItem, doc: Document) -> dict[str, Any]:
        return {
            "sharedoId": item.id,
            "sharedoTypeSystemName": item.type,
            "relatedDocumentId": doc.id,
            "documentId": doc.path,
            "title": doc.file_name,
            "folder": doc.folder,
            "contentType": doc.content_type,
            "size": doc.size,
        }

    # -- files ----------------------------------------------------------------------------------
    def _write(self, data: bytes) -> str:
        """Store bytes under their SHA-256 (once: the same bytes are the same file). Call under the store lock."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.root / digest
        if not target.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            temp = self.root / f".{digest}.{secrets.token_hex(4)}.part"
            temp.write_bytes(data)
            os.replace(temp, target)
        return digest

    def _sweep(self, digests: Iterable[str] | None = None) -> None:
        """Remove the files (all of them, or those given) that no row names any more."""
        with self.store.read() as conn:
            named = {r[0] for r in conn.execute("SELECT DISTINCT sha256 FROM documents")}
            if digests is None:
                candidates = [p for p in self.root.iterdir()] if self.root.is_dir() else []
            else:
                candidates = [self.root / d for d in set(digests)]
            for path in candidates:
                if path.name not in named and not path.is_dir():
                    path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """After a start, a reset or an import: the folder holds exactly the files the rows name."""
        self._sweep()

    # -- links ----------------------------------------------------------------------------------
    def _signature(self, doc_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"{doc_id}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def link(self, doc_id: str, base_url: str) -> dict[str, Any]:
        """`document/{id}/url`: [inferred] a signed link that works without a token until it expires."""
        doc = self.get(doc_id)
        expires = int(self.clock.now().timestamp()) + LINK_SECONDS
        query = urlencode({"expires": expires, "signature": self._signature(doc.id, expires)})
        return {"url": f"{base_url.rstrip('/')}/_documents/{doc.id}?{query}"}

    def redeem(self, doc_id: str, expires: str | None, signature: str | None) -> Document:
        """The document a signed link names; 403 when the signature is wrong or the link has expired."""
        if not expires or not re.fullmatch(r"[0-9]{1,12}", expires):  # ASCII digits: "²" is no expiry
            raise invalid("expires", "required: the link's expiry (seconds since 1970), as `document/{id}/url` gave it")
        if not signature:
            raise invalid("signature", "required: the link's signature, as `document/{id}/url` gave it")
        canonical = self.find(doc_id)
        ident = canonical.id if canonical else str(doc_id)
        if not hmac.compare_digest(self._signature(ident, int(expires)).encode(), signature.encode("utf-8", "replace")):
            raise ApiError(403, "the download link's signature does not match: ask document/{id}/url for a new one")
        if int(expires) < self.clock.now().timestamp():
            raise ApiError(403, "the download link has expired: ask document/{id}/url for a new one")
        if canonical is None:
            raise not_found("document", str(doc_id))
        return canonical

    # -- snapshots ------------------------------------------------------------------------------
    def export_files(self, snapshot: dict[str, Any]) -> dict[str, str]:
        """The bytes the snapshot's rows name, base64 by SHA-256. Call under the store lock with the export."""
        table = snapshot["tables"]["documents"]
        column = table["columns"].index("sha256")
        out: dict[str, str] = {}
        for digest in sorted({row[column] for row in table["rows"]}):
            try:
                out[digest] = base64.b64encode((self.root / digest).read_bytes()).decode("ascii")
            except FileNotFoundError:
                raise SnapshotError(f"the bytes of document file {digest} are missing from {self.root}") from None
        return out

    def check_snapshot(self, snapshot: dict[str, Any], rows: list[tuple]) -> dict[str, bytes]:
        """The files a snapshot carries, checked against its `documents` rows before anything is replaced."""
        files = snapshot.get("documents", {})
        if not isinstance(files, dict):
            raise SnapshotError("snapshot.documents must be an object of SHA-256 → base64 bytes")
        fields = list(Document.__dataclass_fields__)
        sha, size = fields.index("sha256"), fields.index("size")
        out: dict[str, bytes] = {}
        for digest, text in files.items():
            where = f"snapshot.documents.{digest[:70]}"
            if not SHA256.match(digest):
                raise SnapshotError(f"{where}: the key must be a SHA-256 in lower-case hex")
            if not isinstance(text, str):
                raise SnapshotError(f"{where}: expected the bytes as a base64 string")
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise SnapshotError(f"{where}: not valid base64") from None
            if hashlib.sha256(data).hexdigest() != digest:
                raise SnapshotError(f"{where}: the bytes do not hash to their key")
            out[digest] = data
        for i, row in enumerate(rows):
            where = f"snapshot.tables.documents.rows[{i}]"
            if row[sha] not in out:
                raise SnapshotError(f"{where}: its file {str(row[sha])[:70]} is not in snapshot.documents")
            if row[size] != len(out[row[sha]]):
                raise SnapshotError(f"{where}: size {row[size]!r} but its file holds {len(out[row[sha]])} bytes")
        unused = sorted(set(out) - {row[sha] for row in rows})
        if unused:
            raise SnapshotError(f"snapshot.documents.{unused[0]}: no row of snapshot.tables.documents names it")
        return out

    def restore_files(self, files: dict[str, bytes]) -> None:
        """Write a snapshot's files before its rows go in (files are immutable: writing one is harmless)."""
        with self.store.read():
            for data in files.values():
                self._write(data)


def _content_type(given: str | None, file_name: str) -> str:
    """The part's own type, unless it is missing or generic; then the file name's; then octet-stream."""
    given = (given or "").strip()
    if not MEDIA_TYPE.match(given):
        given = ""
    if given and given.lower() != "application/octet-stream":
        return given
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    return guessed or given or "application/octet-stream"


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="documents",
    modules=("emulator.documents",),
    tables=("documents",),
    migrations=sql_migrations(__name__),
)
