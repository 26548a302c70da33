"""Related documents and the DMS, replayed as the official clients call them (tests/fixtures/official):
the Filing app (.NET, sharedo_api_samples), the upload widget's agent (sharedo_ide) and the mobile app's
documents agent over mobile-core's fetch wrapper. Each request is built the way that client's code
builds it: the URL from the vendored source, the multipart layout its runtime writes, its headers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest

from emulator.app import create_app
from emulator.cli import main
from emulator.documents import folder_values
from emulator.settings import Settings
from tests.conftest import OPEN_MATTER, START, Api, client_token, events_of, user_token
from tests.helpers.paths import FIXTURES

OFFICIAL = FIXTURES / "official"
FILING = OFFICIAL / "sharedo_api_samples" / "documents" / "filing" / "Filing.App"
WIDGET = OFFICIAL / "sharedo_ide" / "CreateInstructionFileUpload" / "src"
MOBILE = OFFICIAL / "sharedo-sample-mobile-app" / "src"
BASE = "http://localhost/"  # what the apps are configured with as the API's address


def source(path: Path) -> str:
    return path.read_text("utf-8-sig")


def template(path: Path, pattern: str) -> str:
    """One URL template as the vendored client writes it (so the test calls what the client calls)."""
    found = re.search(pattern, source(path))
    assert found, f"{path.name} no longer has {pattern}"
    return found.group(1)


def fill(url: str, **values: str) -> str:
    """C# `$"...{x}"` and JS `${x}` placeholders, filled."""
    for key, value in values.items():
        url = url.replace(f"${{{key}}}", value).replace(f"{{{key}}}", value)
    return url


def dotnet_multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    """The body .NET's MultipartFormDataContent writes: a quoted GUID boundary, unquoted names, a file's
    `filename` and `filename*`, no Content-Type on a StreamContent, `text/plain; charset=utf-8` on a
    StringContent (DocumentManagement.UploadDocument adds exactly those two kinds)."""
    boundary = str(uuid.uuid4())
    out = b""
    for name, file_name, data in parts:
        out += f"--{boundary}\r\n".encode()
        if file_name is None:
            out += b"Content-Type: text/plain; charset=utf-8\r\n"
            out += f"Content-Disposition: form-data; name={name}\r\n\r\n".encode()
        else:
            out += f"Content-Disposition: form-data; name={name}; filename={file_name}; ".encode()
            out += f"filename*=utf-8''{quote(file_name)}\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f'multipart/form-data; boundary="{boundary}"'


def browser_multipart(parts: list[tuple[str, str | None, str | None, bytes]]) -> tuple[bytes, str]:
    """The body Chromium writes for a FormData: quoted names, a File's filename and type."""
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    out = b""
    for name, file_name, content_type, data in parts:
        out += f"--{boundary}\r\n".encode()
        if file_name is None:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        else:
            out += f'Content-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'.encode()
            out += f"Content-Type: {content_type}\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def files_on_disk(em) -> dict[str, bytes]:
    root = em.settings.data_dir / "documents"
    return {p.name: p.read_bytes() for p in root.iterdir()} if root.is_dir() else {}


def upload(api: Api, item_id: str, files: list[tuple[str, bytes]], folder: str | None = None):
    parts = [("file", name, "application/octet-stream", data) for name, data in files]
    if folder is not None:
        parts.append(("folder", None, None, folder.encode()))
    body, content_type = browser_multipart(parts)
    return api.post(f"/api/v1/public/workItem/{item_id}/relatedDocuments", data=body, content_type=content_type)


# -- the Filing app (sharedo_api_samples, .NET) ---------------------------------------------------------


def test_filing_app_lists_the_root_folders_and_files_into_one_as_its_code_does(api, em):
    code = FILING / "Sharedo" / "DocumentManagement.cs"
    folders_url = template(code, r'GetAsync\(\$"([^"]+/dms/\{path\})"')
    upload_url = template(code, r'PostAsync\(\$"([^"]+/relatedDocuments)"')
    assert "/workitem/" in upload_url  # the sample's lower-case spelling, sent as it is
    headers = {"accept": "application/json"}  # Program.cs: the SharedoApi client's default header

    # UploadDocumentModel.OnGet: GetFolders(id, "/") -> ".../dms//"
    listing = api.get(fill(folders_url, workItemId=OPEN_MATTER, path="/"), headers=headers)
    assert listing.status_code == 200, listing.json
    folders = listing.json["folders"]  # FolderContents(IReadOnlyList<Folder> Folders), Folder(Name, PathId)
    assert [f["name"] for f in folders] == ["Evidence", "Statements", "Correspondence", "Other"]
    assert all(f["pathId"] for f in folders)

    # OnPost: UploadDocument(id, ms, FormFile.FileName, Folder), Folder being an <option value="@folder.Name">
    assert 'value="@folder.Name"' in source(FILING / "Pages" / "UploadDocument.cshtml")
    statement = b"%PDF-1.7\r\nwitness statement\r\n%%EOF"
    body, content_type = dotnet_multipart([("file", "statement.pdf", statement), ("folder", None, b"Evidence")])
    response = api.post(
        fill(upload_url, documentExpectationWorkItemId=OPEN_MATTER),
        data=body,
        headers={**headers, "Content-Type": content_type},
    )
    assert response.status_code == 201, response.json
    ids = response.json["relatedDocumentIds"]  # UploadDocumentResult(IReadOnlyList<Guid> RelatedDocumentIds)
    assert len(ids) == 1 and uuid.UUID(ids[0])

    evidence = api.get(fill(folders_url, workItemId=OPEN_MATTER, path="Evidence"), headers=headers).json
    assert evidence["folders"] == []
    [filed] = evidence["documents"]
    assert (filed["id"], filed["title"], filed["folder"]) == (ids[0], "statement.pdf", "Evidence")
    assert filed["contentType"] == "application/pdf"  # the StreamContent had none: from the file name
    blob = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/{quote(filed['documentId'], safe='')}")
    assert blob.data == statement


def test_a_subfolder_lists_under_its_parent_and_takes_uploads_by_its_path_id(api):
    root = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/dms/").json
    correspondence = next(f for f in root["folders"] if f["name"] == "Correspondence")
    inner = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/dms/{correspondence['pathId']}").json
    assert [f["name"] for f in inner["folders"]] == ["Inbound", "Outbound"]
    inbound = inner["folders"][0]["pathId"]
    assert upload(api, OPEN_MATTER, [("letter.txt", b"Dear Sirs")], folder=inbound).status_code == 201
    listed = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/dms/{inbound}").json["documents"]
    assert [d["documentId"] for d in listed] == [f"{inbound}/letter.txt"]


# -- the upload widget (sharedo_ide CreateInstructionFileUpload) -----------------------------------------


def test_upload_widget_sends_one_part_per_file_named_by_the_file_and_a_folder(api):
    agent = WIDGET / "agent.js"
    assert "formData.append(f.name, f);" in source(agent)
    assert 'formData.append("folder", targetFolder);' in source(agent)
    url = template(agent, r"rawPost\(`([^`]+)`")
    options = re.findall(r'<option value="([^"]+)"', source(WIDGET / "CreateInstructionFileUpload.html"))
    assert options == ["Evidence", "Statements", "Other"]

    pdf, png = b"%PDF-1.4 scanned letter", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    for folder in options:
        body, content_type = browser_multipart(
            [
                ("letter.pdf", "letter.pdf", "application/pdf", pdf),
                ("photo.png", "photo.png", "image/png", png),
                ("folder", None, None, folder.encode()),
            ]
        )
        response = api.post(fill(url, workItemId=OPEN_MATTER), data=body, content_type=content_type)
        assert response.status_code == 201, response.json
        assert len(response.json["relatedDocumentIds"]) == 2
    listed = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json
    assert sorted((d["folder"], d["title"], d["contentType"]) for d in listed) == sorted(
        (folder, name, kind)
        for folder in options
        for name, kind in (("letter.pdf", "application/pdf"), ("photo.png", "image/png"))
    )


# -- the mobile app (sharedo-sample-mobile-app over sharedo-mobile-core's fetch wrapper) -------------------


def test_mobile_app_lists_previews_downloads_and_unlinks_as_its_agent_does(app, api, em):
    agent = MOBILE / "agents" / "relatedDocumentsAgent.js"
    get_for = template(agent, r"getFor = sharedoId => SharedoFetch\.get\(`([^`]+)`")
    get_content = template(agent, r"const url = `([^`]+relatedDocuments/\$\{encodeURIComponent\(path\)\})`")
    repositories = template(agent, r"getRepositoriesFor = .*?SharedoFetch\.get\(`([^`]+?/repositories)")
    upload_url = template(agent, r"rawPost\(`([^`]+)`")
    delete_url = template(agent, r"const url = `(api/v1/public/workItem/\$\{sharedoId\}/relatedDocuments)")
    get_url = template(agent, r"SharedoFetch\.get\(`(/api/v1/public/document/[^`]+/url)`")
    accept = {"Accept": "application/json"}  # fetchWrapper.js: every call sends it

    # RelatedDocumentList.upload: formData.append("file", file, filename) per file, no folder; rawPost sends no
    # Content-Type of its own, so the browser's multipart one goes.
    photo, notes = os.urandom(2048), b"attendance note\n"
    body, content_type = browser_multipart(
        [("file", "site-photo.jpg", "image/jpeg", photo), ("file", "notes.txt", "text/plain", notes)]
    )
    response = api.post(
        fill(upload_url, sharedoId=OPEN_MATTER), data=body, headers={**accept, "Content-Type": content_type}
    )
    assert response.status_code == 201, response.json

    repos = api.get(fill(repositories, sharedoId=OPEN_MATTER) + "?includeAncestors=true", headers=accept).json
    assert repos[0]["repositoryId"]  # uploadAllowed: !!this.repository.repositoryId

    documents = api.get(fill(get_for, sharedoId=OPEN_MATTER), headers=accept).json
    by_title = {d["title"]: d for d in documents}
    assert set(by_title) == {"site-photo.jpg", "notes.txt"}
    assert all(d["id"] and d["iconClass"] for d in documents)
    image = by_title["site-photo.jpg"]
    assert image["documentId"].split(".")[-1].lower() == "jpg"  # getExtension(documentId): the image preview

    # DocumentViewer: getContent(sharedoId, documentId) as a blob
    blob = api.get(
        fill(get_content, sharedoId=OPEN_MATTER).replace(
            "${encodeURIComponent(path)}", quote(image["documentId"], safe="")
        )
    )
    assert (blob.status_code, blob.data, blob.mimetype) == (200, photo, "image/jpeg")

    # view() of a non-image: getUrl(document.id) -> response.url, then the browser goes there (no token)
    link = api.get(fill(get_url, documentId=by_title["notes.txt"]["id"]), headers=accept).json["url"]
    assert link.startswith(BASE)
    download = app.test_client().get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert download.status_code == 200
    assert download.data == notes
    assert download.headers["Content-Type"] == "text/plain"
    assert download.headers["Content-Disposition"] == "attachment; filename=notes.txt"

    # deleteSelected: DELETE with no leading slash (expandUrl resolves it against the API), repeated
    # documentId, fetchWrapper's JSON Content-Type and no body; it reads the response as text.
    assert len(files_on_disk(em)) == 2
    ids = [d["id"] for d in documents]
    url = urljoin(BASE, fill(delete_url, sharedoId=OPEN_MATTER)) + "?" + "&".join(f"documentId={i}" for i in ids)
    gone = api.delete(
        urlsplit(url).path + "?" + urlsplit(url).query, headers={**accept, "Content-Type": "application/json"}
    )
    assert (gone.status_code, gone.get_data(as_text=True)) == (204, "")
    assert api.get(fill(get_for, sharedoId=OPEN_MATTER)).json == []
    assert files_on_disk(em) == {}  # deleting removed the files
    assert app.test_client().get(urlsplit(link).path + "?" + urlsplit(link).query).status_code == 404


def test_a_name_the_folder_has_gets_a_number_as_the_mobile_app_would_make_it(api):
    for _ in range(3):
        assert upload(api, OPEN_MATTER, [("scan.pdf", b"x")], folder="Other").status_code == 201
    titles = [d["title"] for d in api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json]
    assert titles == ["scan.pdf", "scan(1).pdf", "scan(2).pdf"]


def test_repositories_include_the_ancestors_only_when_asked(api):
    parent = api.post(
        "/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "Parent"}}
    ).json["workItem"]
    child = api.post(
        "/api/v1/public/workItem",
        {
            "parentSharedoId": parent["id"],
            "workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "Child"},
        },
    ).json["workItem"]
    own = api.get(f"/api/v1/public/workItem/{child['id']}/repositories").json
    both = api.get(f"/api/v1/public/workItem/{child['id']}/repositories?includeAncestors=true").json
    assert [r["sharedoId"] for r in own] == [child["id"]]
    assert [r["sharedoId"] for r in both] == [child["id"], parent["id"]]
    assert len({r["repositoryId"] for r in both}) == 2


# -- bytes, events, snapshots -----------------------------------------------------------------------------


def test_bytes_round_trip_exactly_and_live_as_a_file_under_the_data_dir(api, em):
    data = os.urandom(1024 * 1024) + b"\r\n--not-a-boundary\r\n\x00"
    ids = upload(api, OPEN_MATTER, [("dump.bin", data)], folder="Evidence").json["relatedDocumentIds"]
    digest = hashlib.sha256(data).hexdigest()
    assert files_on_disk(em) == {digest: data}
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/{ids[0]}").data == data
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/evidence/DUMP.BIN").data == data


def test_each_upload_and_unlink_raises_a_document_event(api, em):
    ids = upload(api, OPEN_MATTER, [("a.txt", b"a"), ("b.txt", b"bb")], folder="Statements").json["relatedDocumentIds"]
    added = events_of(api, "related-document-added")
    assert [e["Data"]["relatedDocumentId"] for e in added] == ids
    assert added[1]["Data"] == {
        "sharedoId": OPEN_MATTER,
        "sharedoTypeSystemName": "matter-private-client",
        "relatedDocumentId": ids[1],
        "documentId": "Statements/b.txt",
        "title": "b.txt",
        "folder": "Statements",
        "contentType": "text/plain",
        "size": 2,
    }
    api.delete(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments?documentId={ids[0]}")
    [removed] = events_of(api, "related-document-removed")
    assert removed["Data"]["relatedDocumentId"] == ids[0]
    chronology = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/chronology").json["rows"]
    assert (chronology[0]["poiSystemName"], chronology[0]["title"]) == ("document", "Document removed")
    assert chronology[0]["notes"] == "a.txt"
    catalogue = {e["eventType"]: e for e in api.get("/api/_emulator/events/catalogue").json}
    assert catalogue["related-document-added"]["status"] == "inferred"


def test_a_refused_upload_leaves_no_row_no_file_and_no_event(api, em):
    before = len(events_of(api))
    body, content_type = browser_multipart(
        [("file", "ok.txt", "text/plain", b"fine"), ("file", "", "text/plain", b"nameless")]
    )
    response = api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "(body).file"
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json == []
    assert files_on_disk(em) == {}
    assert len(events_of(api)) == before


def test_documents_survive_export_then_import_into_a_fresh_data_dir(api, em, tmp_path):
    data = os.urandom(4096)
    ids = upload(api, OPEN_MATTER, [("contract.docx", data)], folder="Evidence").json["relatedDocumentIds"]
    snapshot = api.get("/api/_emulator/export").json
    assert snapshot["documents"] == {hashlib.sha256(data).hexdigest(): __import__("base64").b64encode(data).decode()}

    fresh = create_app(Settings(data_dir=tmp_path / "fresh", demo=True, clock="virtual", clock_start=START))
    try:
        other = Api(fresh, client_token(fresh))
        assert other.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json == []
        imported = other.post("/api/_emulator/import", snapshot)
        assert imported.status_code == 200, imported.json
        [doc] = other.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json
        assert (doc["id"], doc["title"], doc["size"]) == (ids[0], "contract.docx", len(data))
        assert other.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/{doc['documentId']}").data == data
        assert files_on_disk(fresh.extensions["operate"]) == {hashlib.sha256(data).hexdigest(): data}

        other.post("/api/_emulator/reset")  # back to the seed: no documents, no files
        assert other.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json == []
        assert files_on_disk(fresh.extensions["operate"]) == {}
    finally:
        fresh.extensions["operate"].close()


def test_operate_export_and_load_carry_the_bytes(api, em, tmp_path, capsys):
    data = b"ledger,1\n"
    upload(api, OPEN_MATTER, [("ledger.csv", data)])
    em.close()  # the CLI takes the data dir's lock
    out = tmp_path / "snapshot.json"
    assert main(["export", "--data-dir", str(em.settings.data_dir), "--demo", str(out)]) == 0
    target = tmp_path / "loaded"
    assert main(["load", "--data-dir", str(target), "--demo", str(out)]) == 0
    loaded = create_app(Settings(data_dir=target, demo=True, clock="virtual", clock_start=START))
    try:
        other = Api(loaded, client_token(loaded))
        assert other.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/ledger.csv").data == data
    finally:
        loaded.extensions["operate"].close()


def test_a_snapshot_whose_bytes_do_not_match_is_refused_and_nothing_changes(api, em):
    upload(api, OPEN_MATTER, [("a.txt", b"original")])
    snapshot = api.get("/api/_emulator/export").json
    [digest] = snapshot["documents"]
    for documents, said in (
        ({digest: "dGFtcGVyZWQ="}, "do not hash to their key"),
        ({}, "is not in snapshot.documents"),
        ({digest: snapshot["documents"][digest], "0" * 64: ""}, "do not hash"),
        ({digest: "***"}, "not valid base64"),
    ):
        response = api.post("/api/_emulator/import", {**snapshot, "documents": documents})
        assert response.status_code == 400
        assert said in response.json["title"]
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/a.txt").data == b"original"
    assert list(files_on_disk(em)) == [digest]


# -- bad input --------------------------------------------------------------------------------------------


def test_bad_uploads_get_a_400_that_names_what_was_wrong(api):
    url = f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments"
    cases = [
        (api.post(url, {"file": "x"}), "(body)", "expected multipart/form-data"),
        (api.post(url, data=b"x", content_type="multipart/form-data"), "(body)", "no boundary"),
        (upload(api, OPEN_MATTER, []), "(body)", "no file part"),
        (upload(api, OPEN_MATTER, [("a.txt", b"a")], folder="Secret"), "folder", "Evidence, Statements"),
        (upload(api, OPEN_MATTER, [("a.txt", b"a")], folder="evidence"), "folder", "not a folder"),
        (upload(api, OPEN_MATTER, [("a.txt", b"a")], folder="../../etc"), "folder", "not a folder"),
        (upload(api, OPEN_MATTER, [("..", b"a")]), "(body).file", "no file name"),
        (upload(api, OPEN_MATTER, [("a\x01b.txt", b"a")]), "(body).file", "control characters"),
        (upload(api, OPEN_MATTER, [("x" * 300, b"a")]), "(body).file", "at most 255"),
    ]
    two_folders, ct = browser_multipart(
        [("file", "a.txt", "text/plain", b"a"), ("folder", None, None, b"Other"), ("folder", None, None, b"Other")]
    )
    cases.append((api.post(url, data=two_folders, content_type=ct), "folder", "one folder"))
    stray, ct = browser_multipart([("file", "a.txt", "text/plain", b"a"), ("note", None, None, b"hi")])
    cases.append((api.post(url, data=stray, content_type=ct), "(body).note", "not a file part"))
    for response, field, said in cases:
        assert response.status_code == 400, (field, said, response.json)
        assert response.json["errors"][0]["field"] == field
        assert said in response.json["title"], response.json["title"]
    assert api.get(url).json == []


def test_unknown_work_items_documents_and_folders_are_404s(api):
    nobody = "3c000000-0000-4000-8000-00000000dead"
    assert upload(api, nobody, [("a.txt", b"a")]).status_code == 404
    assert upload(api, "not-a-guid", [("a.txt", b"a")]).status_code == 404
    assert api.get(f"/api/v1/public/workItem/{nobody}/relatedDocuments").status_code == 404
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/dms/Nowhere").json["errors"][0]["field"] == "path"
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments/none.txt").status_code == 404
    assert api.get(f"/api/v1/public/document/{uuid.uuid4()}/url").status_code == 404


def test_an_unlink_is_all_or_nothing(api, em):
    [kept] = upload(api, OPEN_MATTER, [("keep.txt", b"k")]).json["relatedDocumentIds"]
    url = f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments"
    assert api.delete(url).json["errors"][0]["field"] == "documentId"
    malformed = api.delete(f"{url}?documentId={kept}&documentId=keep.txt")
    assert (malformed.status_code, malformed.json["errors"][0]["field"]) == (400, "documentId[1]")
    missing = api.delete(f"{url}?documentId={kept}&documentId={uuid.uuid4()}")
    assert (missing.status_code, missing.json["errors"][0]["field"]) == (404, "documentId[1]")
    other = api.post(
        "/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "B"}}
    ).json["workItem"]
    assert api.delete(f"/api/v1/public/workItem/{other['id']}/relatedDocuments?documentId={kept}").status_code == 404
    assert [d["id"] for d in api.get(url).json] == [kept]
    assert len(files_on_disk(em)) == 1


def test_an_upload_over_the_body_limit_is_a_413(api):
    response = upload(api, OPEN_MATTER, [("big.bin", b"\0" * (5 * 1024 * 1024 + 1))])
    assert response.status_code == 413
    assert "5 MB" in response.json["title"]


def test_a_download_link_needs_its_signature_and_expires(app, api, em):
    [doc_id] = upload(api, OPEN_MATTER, [("a.txt", b"a")]).json["relatedDocumentIds"]
    link = urlsplit(api.get(f"/api/v1/public/document/{doc_id}/url").json["url"])
    browser = app.test_client()
    assert browser.get(f"{link.path}?{link.query}").status_code == 200
    tampered = re.sub(r"signature=(\w)", lambda m: "signature=" + ("1" if m.group(1) == "0" else "0"), link.query)
    assert browser.get(f"{link.path}?{tampered}").status_code == 403
    assert browser.get(f"{link.path}?expires=720&signature=%C2%BEg").status_code == 403  # not hex: no crash
    assert browser.get(link.path).json["errors"][0]["field"] == "expires"
    em.clock.advance(__import__("datetime").timedelta(minutes=11))
    expired = browser.get(f"{link.path}?{link.query}")
    assert (expired.status_code, "expired" in expired.json["title"]) == (403, True)


def test_a_user_who_may_only_read_can_list_but_not_upload_or_unlink(app, api):
    [doc_id] = upload(api, OPEN_MATTER, [("a.txt", b"a")]).json["relatedDocumentIds"]
    reader = Api(app, user_token(app, "tom.becker"))  # the demo's read-only paralegal
    assert len(reader.get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").json) == 1
    denied = upload(reader, OPEN_MATTER, [("b.txt", b"b")])
    assert (denied.status_code, "core.sharedo.update" in denied.json["title"]) == (403, True)
    assert (
        reader.delete(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments?documentId={doc_id}").status_code == 403
    )
    assert app.test_client().get(f"/api/v1/public/workItem/{OPEN_MATTER}/relatedDocuments").status_code == 401


def test_the_openapi_document_lists_exactly_the_folders_an_upload_takes(api):
    doc = api.get("/api/_emulator/openapi.json").json
    schema = doc["components"]["schemas"]["RelatedDocumentUpload"]
    assert schema["properties"]["folder"]["enum"] == folder_values()
    assert json.dumps(doc["paths"]["/api/v1/public/workItem/{item_id}/relatedDocuments"]["post"]["requestBody"])


@pytest.mark.parametrize("folder", folder_values())
def test_every_folder_value_the_document_lists_is_taken(api, folder):
    assert upload(api, OPEN_MATTER, [("a.txt", b"a")], folder=folder).status_code == 201


def test_over_a_real_socket_an_upload_downloads_and_a_live_export_carries_its_bytes(tmp_path):
    """`operate serve` on a port: httpx writes the multipart itself, the link is fetched without a token, and
    `operate export` of the running server's data dir (a consistent copy) still holds the file's bytes."""
    import base64
    import signal

    import httpx

    from tests.helpers.processes import Served, operate

    served = Served(tmp_path / "d")
    try:
        data = os.urandom(300_000)
        with served.client() as client:
            response = client.post(
                f"/api/v1/public/workitem/{OPEN_MATTER}/relatedDocuments",
                files=[("file", ("scan.tiff", data, "image/tiff"))],
                data={"folder": "Evidence"},
            )
            assert response.status_code == 201, response.text
            [doc_id] = response.json()["relatedDocumentIds"]
            link = client.get(f"/api/v1/public/document/{doc_id}/url").json()["url"]
        assert link.startswith(served.url + "/_documents/")
        download = httpx.get(link, timeout=10)
        assert (download.status_code, download.content) == (200, data)
        assert download.headers["content-type"] == "image/tiff"
        exported = operate("export", "-", "--demo", "--data-dir", str(tmp_path / "d"))
        assert exported.returncode == 0, exported.stderr
        assert "consistent copy" in exported.stderr
        snapshot = json.loads(exported.stdout)
        assert base64.b64decode(snapshot["documents"][hashlib.sha256(data).hexdigest()]) == data
    finally:
        served.stop(signal.SIGKILL)


# -- the upload widget, in a real browser ------------------------------------------------------------------

INSTRUCTION_TYPE = {
    "BaseSharedo": {
        "SystemName": "instruction-b2c-enquiry",
        "SystemNamePath": "/matter/instruction-b2c-enquiry",
        "ParentSystemName": "matter",
        "Name": "B2C enquiry instruction",
        "IsAbstract": False,
        "IsActive": True,
    },
    "SharedoTypeRoles": [
        {"ParticipantRoleSystemName": "matter-owner", "CanHaveMultiple": False, "IsMandatory": False},
    ],
}
MATTER_OWNER_ROLE = {"SystemName": "matter-owner", "Name": "Matter owner", "IsActive": True}
# The two ODS ids the widget's agent hard-codes, and the roles it gives them.
AGENT_PEOPLE = [
    {"id": "725ef4c4-8d9a-428a-b588-e933c6f73155", "firstName": "Iris", "surname": "Client", "isUser": False},
    {"id": "e35935ac-006c-4d5f-bb34-17246220b06b", "firstName": "Owen", "surname": "Owner", "isUser": False},
]
AGENT_ROLES = {("client", AGENT_PEOPLE[0]["id"]), ("matter-owner", AGENT_PEOPLE[1]["id"])}


def instruction_solution(root: Path) -> Path:
    """The demo solution plus what the widget's agent names: its work type, the `matter-owner` role, its two
    people, and the widget itself in `_IDE/` (its manifest says /_ideFiles/CreateInstructionFileUpload/...)."""
    import shutil

    from smartplans.testing import solution_from_demo

    solution_from_demo(root)
    (root / "worktypes" / "instruction-b2c-enquiry.json").write_text(json.dumps(INSTRUCTION_TYPE), "utf-8")
    (root / "roles" / "matter-owner.json").write_text(json.dumps(MATTER_OWNER_ROLE), "utf-8")
    people = json.loads((root / "ods" / "people.json").read_text("utf-8"))
    (root / "ods" / "people.json").write_text(json.dumps(people + AGENT_PEOPLE), "utf-8")
    shutil.copytree(WIDGET, root / "_IDE" / "CreateInstructionFileUpload")
    return root


def record_bodies(monkeypatch, app, suffix: str) -> list[tuple[str, bytes]]:
    """What the browser put on the wire for requests whose path ends with `suffix` (Content-Type, body)."""
    import io

    seen: list[tuple[str, bytes]] = []
    inner = app.wsgi_app

    def recording(environ, start_response):
        if environ.get("PATH_INFO", "").endswith(suffix):
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            seen.append((environ.get("CONTENT_TYPE", ""), raw))
            environ["wsgi.input"] = io.BytesIO(raw)
        return inner(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", recording)
    return seen


@pytest.fixture
def instruction_tenant(request, tmp_path):
    """Load `instruction_solution` in the `operate` fixture (asked for before it)."""
    root = instruction_solution(tmp_path / "solution")
    request.node.add_marker(pytest.mark.operate_solution(str(root)))
    return root


def test_upload_widget_creates_the_instruction_and_files_what_was_chosen_in_a_real_browser(
    instruction_tenant, operate, widget_page, monkeypatch
):
    """A4, unmodified in Chromium: type the reference and title, pick Statements, choose two files, press
    Create; the agent POSTs the work item, then rawPosts a real FormData (one part per file, named by it)."""
    em = operate.emulator
    page = widget_page("CreateInstructionFileUpload")
    widget = page.widget()
    widget.locator("#reference").fill("ENQ-0042")
    widget.locator("#title").fill("Boundary dispute enquiry")
    widget.locator("#target").select_option("Statements")
    letter, photo = b"%PDF-1.4 witness statement", bytes(range(256)) * 8
    widget.locator("input[type=file]").set_input_files(
        [
            {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": letter},
            {"name": "fence.png", "mimeType": "image/png", "buffer": photo},
        ]
    )
    assert "statement.pdf" in widget.inner_text() and "fence.png" in widget.inner_text()
    bodies = record_bodies(monkeypatch, operate.app, "/relatedDocuments")
    widget.get_by_role("button", name="Create Instruction").click()
    reset = "document.querySelector('#reference').value === ''"  # the widget clears its form once both calls succeed
    page.page.wait_for_function(reset, timeout=15_000)
    [(content_type, wire)] = bodies
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b'name="statement.pdf"; filename="statement.pdf"' in wire  # formData.append(f.name, f)
    assert b'name="fence.png"; filename="fence.png"' in wire
    assert b'name="folder"\r\n\r\nStatements\r\n' in wire

    [added] = [e for e in em.stream.after(0) if e.event_type == "sharedo-created"]
    item_id = added.data["sharedoId"]
    api = operate.api()
    item = api.get(f"/api/v1/public/workItem/{item_id}").json
    assert (item["workItem"]["sharedoTypeSystemName"], item["workItem"]["reference"]) == (
        "instruction-b2c-enquiry",
        "ENQ-0042",
    )
    assert item["workItem"]["title"] == "Boundary dispute enquiry"
    assert "kd-instruction-date" in item["keyDates"]
    roles = {
        (p["participantRoleType"], p["odsId"]) for p in api.get(f"/api/v2/public/workItem/{item_id}/participants").json
    }
    assert roles == AGENT_ROLES
    documents = api.get(f"/api/v1/public/workItem/{item_id}/relatedDocuments").json
    assert sorted((d["folder"], d["title"], d["contentType"]) for d in documents) == [
        ("Statements", "fence.png", "image/png"),
        ("Statements", "statement.pdf", "application/pdf"),
    ]
    by_title = {d["title"]: d for d in documents}
    for title, data in (("statement.pdf", letter), ("fence.png", photo)):
        assert api.get(f"/api/v1/public/workItem/{item_id}/relatedDocuments/{by_title[title]['id']}").data == data
    page.assert_no_console_errors(allow_failed_requests=True)  # the manifest's menu template does not exist


def test_the_mobile_search_s_documents_enrich_reads_the_first_document(api):
    """`documents!1.title` is how the mobile app's search marks a work item that has documents."""
    query = {"search": {"workItemIds": [OPEN_MATTER]}, "enrich": [{"path": "documents!1.title"}]}
    before = api.post("/api/v1/public/workItem/findByQuery", query)
    assert before.status_code == 200 and before.json["results"][0]["data"]["documents!1.title"] is None
    assert upload(api, OPEN_MATTER, [("first.pdf", b"1"), ("second.pdf", b"2")], folder="Evidence").status_code == 201
    after = api.post("/api/v1/public/workItem/findByQuery", query)
    assert after.json["results"][0]["data"]["documents!1.title"] == "first.pdf"
