"""The outbox: messages stored with the caller's transaction, handed to a real SMTP server (aiosmtpd on a
loopback port) after the commit, readable and downloadable over `/api/_emulator/outbox`."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from emulator.app import create_app
from emulator.core import Emulator
from emulator.outbox import DEFAULT_SENDER, MailConfigError, MailSettings, parse_mail
from emulator.settings import Settings
from emulator.solution.loading import SolutionError
from tests.conftest import ENQUIRY_MATTER, OPEN_MATTER, START, Api, client_token
from tests.helpers.mail import Collecting, Smtp, solution_with_mail, start_smtp

CSV = 'matter,result,reason\r\n00042-Smith,created,\r\n00043-Müller,skipped,"no practice area ""Tax"""\r\n'


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    controller, server = start_smtp()
    yield server
    controller.stop()


def emulator_for(tmp_path: Path, mail: str) -> Emulator:
    solution = solution_with_mail(tmp_path, mail)
    return Emulator(Settings(data_dir=tmp_path / "state", solution=solution, clock="virtual", clock_start=START))


@pytest.fixture
def mailing(tmp_path, smtp):
    """An app whose operate.toml sends mail to the aiosmtpd server."""
    app = create_app(
        Settings(
            data_dir=tmp_path / "state",
            solution=solution_with_mail(tmp_path, f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}'),
            clock="virtual",
            clock_start=START,
        )
    )
    yield app
    app.extensions["operate"].close()


def send(em: Emulator, **kw) -> str:
    fields = {
        "kind": "email",
        "sender": em.outbox.default_sender,
        "recipients": ["priya.shah@example.com"],
        "subject": "Clio sync: 2 matters",
        "body": "The manual sync you started has finished.\nResults attached.",
        **kw,
    }
    with em.store.transaction() as tx:
        return em.outbox.send(tx, **fields)


# -- delivery over SMTP ------------------------------------------------------------------------------
def test_a_committed_message_reaches_the_smtp_server_with_its_csv_attached(mailing, smtp):
    em = mailing.extensions["operate"]
    message_id = send(
        em,
        recipients=["priya.shah@example.com", "ops@firm.example"],
        subject="Clio sync results – 2 matters",
        work_item_id=OPEN_MATTER,
        attachments=[("sync-results.csv", "text/csv", CSV)],
    )

    [envelope] = smtp.handler.envelopes
    assert envelope.mail_from == DEFAULT_SENDER
    assert envelope.rcpt_tos == ["priya.shah@example.com", "ops@firm.example"]
    [received] = smtp.received
    assert received["From"] == DEFAULT_SENDER
    assert received["To"] == "priya.shah@example.com, ops@firm.example"
    assert received["Subject"] == "Clio sync results – 2 matters"
    assert received["Message-ID"] == f"<{message_id}@operate-emulator>"
    text = received.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == "The manual sync you started has finished.\nResults attached.\n"  # SMTP's CRLF
    [attached] = list(received.iter_attachments())
    assert attached.get_content_type() == "text/csv"
    assert attached.get_filename() == "sync-results.csv"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_content() == CSV  # byte for byte, CRLFs, quotes and the ü included

    row = em.outbox.get(message_id)
    assert (row.delivery, row.delivery_error, row.delivered) == ("sent", None, "2026-01-05T09:00:00.000Z")


def test_a_rolled_back_transaction_sends_nothing_and_stores_nothing(mailing, smtp):
    em = mailing.extensions["operate"]
    with pytest.raises(RuntimeError, match="the sync failed"), em.store.transaction() as tx:
        em.outbox.send(
            tx, kind="email", sender=DEFAULT_SENDER, recipients=["a@example.com"], subject="never", body="never"
        )
        raise RuntimeError("the sync failed")
    assert em.outbox.list().total_rows == 0
    send(em, subject="the next one")  # the server was listening all along: only this one arrives
    assert [m["Subject"] for m in smtp.received] == ["the next one"]


def test_delivery_failure_is_recorded_on_the_row_and_never_reaches_the_caller(tmp_path):
    with socket.socket() as closed:  # bound, never listening: a connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        app = create_app(
            Settings(
                data_dir=tmp_path / "state",
                solution=solution_with_mail(tmp_path, f'smtp_host = "127.0.0.1"\nsmtp_port = {port}'),
                clock="virtual",
                clock_start=START,
            )
        )
        em = app.extensions["operate"]
        try:
            with em.store.transaction() as tx:
                message_id = em.outbox.send(
                    tx, kind="email", sender=DEFAULT_SENDER, recipients=["a@example.com"], subject="s", body="b"
                )
                em.store.set_meta(tx, "caller.work", "kept")  # the caller's own change in the same transaction
            assert em.store.get_meta("caller.work") == "kept"
            shown = Api(app, client_token(app)).get(f"/api/_emulator/outbox/{message_id}").json
            assert shown["delivery"] == "failed" and shown["delivered"] is None
            assert shown["deliveryError"].startswith("ConnectionRefusedError:")
        finally:
            em.close()


class RefusingOne(Collecting):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address == "gone@example.com":
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_recipients_the_server_refuses_are_named_on_the_row(tmp_path):
    controller, server = start_smtp(RefusingOne())
    try:
        em = emulator_for(tmp_path, f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}')
        try:
            row = em.outbox.get(send(em, recipients=["priya.shah@example.com", "gone@example.com"]))
        finally:
            em.close()
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in server.handler.envelopes] == [["priya.shah@example.com"]]
    assert row.delivery == "sent"
    assert row.delivery_error == "refused by the server: gone@example.com (550 5.1.1 No such mailbox)"


def test_a_server_that_never_answers_fails_after_the_timeout(tmp_path):
    with socket.socket() as silent:  # accepts connections (the backlog) but never says hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        em = emulator_for(tmp_path, f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\ntimeout_seconds = 0.5')
        try:
            row = em.outbox.get(send(em))
        finally:
            em.close()
    assert (row.delivery, row.delivery_error) == (
        "failed",
        "SMTPServerDisconnected: Connection unexpectedly closed: timed out",
    )


def test_starttls_is_required_when_configured(tmp_path, smtp):
    """aiosmtpd without a certificate offers no STARTTLS: the message must not go in the clear."""
    em = emulator_for(tmp_path, f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nstarttls = true')
    try:
        row = em.outbox.get(send(em))
        assert row.delivery == "failed" and "STARTTLS extension not supported" in (row.delivery_error or "")
        assert smtp.handler.envelopes == []
    finally:
        em.close()


def test_smtp_auth_logs_in_with_the_password_from_the_environment(tmp_path, monkeypatch):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right horse", handled=False)  # not handled: 535 on failure

    # PLAIN only: smtplib then has one mechanism to try, and a refusal is one answer.
    controller, server = start_smtp(
        authenticator=authenticator, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"]
    )
    try:
        mail = (
            f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\ntimeout_seconds = 5\n'
            'username = "outbox"\npassword_env = "OUTBOX_PW"'
        )
        monkeypatch.setenv("OUTBOX_PW", "right horse")
        em = emulator_for(tmp_path / "good", mail)
        try:
            assert em.outbox.get(send(em)).delivery == "sent"
        finally:
            em.close()
        monkeypatch.setenv("OUTBOX_PW", "wrong")
        em = emulator_for(tmp_path / "bad", mail)
        try:
            row = em.outbox.get(send(em))
            assert row.delivery == "failed" and row.delivery_error.startswith("SMTPAuthenticationError")
            assert "wrong" not in row.delivery_error  # the password is never kept
        finally:
            em.close()
        assert logins == [(b"outbox", b"right horse"), (b"outbox", b"wrong")]
        assert len(server.handler.envelopes) == 1
    finally:
        controller.stop()


def test_without_a_mail_server_messages_are_stored_only(em):
    assert em.outbox.mail is None and em.outbox.default_sender == DEFAULT_SENDER
    row = em.outbox.get(send(em, kind="client-notification", work_item_id=OPEN_MATTER))
    assert (row.kind, row.delivery, row.delivery_error, row.work_item_id) == (
        "client-notification",
        "stored",
        None,
        OPEN_MATTER,
    )


def test_bad_messages_are_refused_before_anything_is_written(em):
    cases = [
        (
            {"recipients": ["priya@example.com", "not-an-address"]},
            r"recipients\[1\]: 'not-an-address' is not an e-mail",
        ),
        ({"recipients": []}, "recipients: expected a non-empty list"),
        ({"recipients": "priya@example.com"}, "recipients: expected a non-empty list"),
        ({"recipients": ["Priya <priya@example.com>"]}, r"recipients\[0\]: 'Priya <priya@example.com>'"),
        ({"sender": "outbox"}, "sender: 'outbox' is not an e-mail address"),
        ({"kind": "sms"}, "kind: must be one of"),
        ({"subject": "two\r\nBcc: everyone@example.com"}, "subject: expected one line"),
        ({"attachments": [("a/b.csv", "text/csv", "x")]}, r"attachments\[0\]: file name 'a/b.csv'"),
        ({"attachments": [("a.csv", "csv", "x")]}, r"attachments\[0\]: content type 'csv' must be type/subtype"),
        ({"attachments": [("a.bin", "application/octet-stream", b"x")]}, r"attachments\[0\]: content must be text"),
        ({"attachments": [("a.csv", "text/csv")]}, r"attachments\[0\]: expected \(file name, content type"),
        ({"attachments": None}, "attachments: expected a list"),
    ]
    for fields, message in cases:
        with pytest.raises(ValueError, match=message):
            send(em, **fields)
    assert em.outbox.list().total_rows == 0


# -- the HTTP surface --------------------------------------------------------------------------------
def test_listing_is_newest_first_paged_and_filtered(api, em):
    first = send(em, subject="first", work_item_id=OPEN_MATTER, attachments=[("one.csv", "text/csv", "a\n")])
    api.post("/api/_emulator/clock", {"advance": "PT1M"})
    second = send(em, subject="second", kind="client-notification", work_item_id=ENQUIRY_MATTER)
    api.post("/api/_emulator/clock", {"advance": "PT1M"})
    third = send(em, subject="third", work_item_id=OPEN_MATTER)

    page = api.get("/api/_emulator/outbox?limit=2").json
    assert page["totalRows"] == 3 and [r["id"] for r in page["rows"]] == [third, second]
    rest = api.get("/api/_emulator/outbox?limit=2&offset=2").json
    assert rest["totalRows"] == 3 and [r["id"] for r in rest["rows"]] == [first]
    [row] = rest["rows"]
    [attachment] = row["attachments"]
    assert row == {
        "id": first,
        "created": "2026-01-05T09:00:00.000Z",
        "kind": "email",
        "from": DEFAULT_SENDER,
        "to": ["priya.shah@example.com"],
        "subject": "first",
        "body": "The manual sync you started has finished.\nResults attached.",
        "workItemId": OPEN_MATTER,
        "delivery": "stored",
        "deliveryError": None,
        "delivered": None,
        "attachments": [
            {
                "id": attachment["id"],
                "fileName": "one.csv",
                "contentType": "text/csv",
                "size": 2,
                "url": f"/api/_emulator/outbox/{first}/attachments/{attachment['id']}",
            }
        ],
    }
    notes = api.get("/api/_emulator/outbox?kind=client-notification").json
    assert notes["totalRows"] == 1 and notes["rows"][0]["id"] == second
    of_matter = api.get(f"/api/_emulator/outbox?workItemId={OPEN_MATTER}").json
    assert [r["subject"] for r in of_matter["rows"]] == ["third", "first"]
    both = api.get(f"/api/_emulator/outbox?workItemId={OPEN_MATTER}&kind=client-notification").json
    assert both == {"totalRows": 0, "rows": []}
    assert api.get(f"/api/_emulator/outbox/{second}").json["subject"] == "second"


def test_an_attachment_downloads_as_a_file(api, em):
    message_id = send(
        em, attachments=[("résultats sync.csv", "text/csv", CSV), ("note.json", "application/json", "{}")]
    )
    csv_row, json_row = api.get(f"/api/_emulator/outbox/{message_id}").json["attachments"]
    assert csv_row["size"] == len(CSV.encode("utf-8"))

    response = api.get(csv_row["url"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"resultats sync.csv\"; filename*=UTF-8''r%C3%A9sultats%20sync.csv"
    assert response.get_data() == CSV.encode("utf-8")
    other = api.get(json_row["url"])
    assert other.headers["Content-Type"] == "application/json" and other.get_data() == b"{}"
    assert other.headers["Content-Disposition"] == "attachment; filename=note.json"


def test_http_errors_name_what_was_wrong(app, api, em):
    message_id = send(em, attachments=[("a.csv", "text/csv", "a")])
    for path, status, field in [
        ("/api/_emulator/outbox?kind=sms", 400, "kind"),
        ("/api/_emulator/outbox?limit=0", 400, "limit"),
        ("/api/_emulator/outbox?limit=many", 400, "limit"),
        ("/api/_emulator/outbox?offset=-1", 400, "offset"),
        ("/api/_emulator/outbox/3c000000-0000-4000-8000-00000000ffff", 404, "message_id"),
        (f"/api/_emulator/outbox/{message_id}/attachments/3c000000-0000-4000-8000-00000000ffff", 404, "attachment_id"),
    ]:
        response = api.get(path)
        assert response.status_code == status, path
        assert response.json["errors"][0]["field"] == field, path
    assert Api(app, None).get("/api/_emulator/outbox").status_code == 401


# -- state -------------------------------------------------------------------------------------------
def test_a_snapshot_carries_the_outbox_and_its_attachments(api, em):
    message_id = send(em, work_item_id=OPEN_MATTER, attachments=[("sync-results.csv", "text/csv", CSV)])
    snapshot = api.get("/api/_emulator/export").json
    assert len(snapshot["tables"]["outbox_attachments"]["rows"]) == 1

    assert api.post("/api/_emulator/reset").status_code == 200
    assert api.get("/api/_emulator/outbox").json == {"totalRows": 0, "rows": []}

    assert api.post("/api/_emulator/import", snapshot).status_code == 200
    [attachment] = api.get(f"/api/_emulator/outbox/{message_id}").json["attachments"]
    assert api.get(attachment["url"]).get_data() == CSV.encode("utf-8")


# -- configuration -----------------------------------------------------------------------------------
def test_mail_config_defaults_and_values():
    assert parse_mail({}) is None
    assert parse_mail({"mail": {}}) == MailSettings()
    assert parse_mail({"mail": {"from": "clio-sync@firm.example"}}) == MailSettings(sender="clio-sync@firm.example")
    full = parse_mail(
        {
            "mail": {
                "smtp_host": "::1",
                "smtp_port": 2525,
                "from": "ops@firm.example",
                "starttls": True,
                "username": "ops",
                "password_env": "MAIL_PW",
                "timeout_seconds": 2.5,
            }
        },
        environ={"MAIL_PW": "pw"},
    )
    assert full == MailSettings("::1", 2525, "ops@firm.example", True, "ops", "pw", False, 2.5)
    assert "pw" not in repr(full)


@pytest.mark.parametrize(
    ("mail", "message"),
    [
        ("nonsense", "expected a table"),
        ({"smtp_hots": "localhost"}, "unknown key 'smtp_hots'"),
        ({"smtp_host": "smtp://localhost"}, "smtp_host must be a host name or IP address"),
        ({"smtp_host": "localhost", "smtp_port": "25"}, "smtp_port must be a whole number from 1 to 65535"),
        ({"smtp_host": "localhost", "smtp_port": 70000}, "smtp_port must be a whole number from 1 to 65535"),
        ({"smtp_port": 25}, "smtp_port has no effect without smtp_host"),
        ({"from": "the emulator"}, "from must be an e-mail address"),
        ({"smtp_host": "localhost", "starttls": "yes"}, "starttls must be true or false"),
        ({"smtp_host": "localhost", "timeout_seconds": 0}, "timeout_seconds must be a number above 0"),
        ({"smtp_host": "localhost", "username": "ops"}, "username and password_env go together"),
        ({"smtp_host": "localhost", "username": "ops", "password_env": "NOT_SET_ANYWHERE"}, "NOT_SET_ANYWHERE"),
        ({"smtp_host": "smtp.example.com"}, "'smtp.example.com' is not on this machine; set allow_remote = true"),
        ({"smtp_host": "10.0.0.5", "smtp_port": 587}, "'10.0.0.5' is not on this machine"),
    ],
)
def test_bad_mail_config_is_refused_with_the_key_named(mail, message):
    with pytest.raises(MailConfigError, match="^operate.toml \\[mail\\]: .*" + message.replace("(", r"\(")):
        parse_mail({"mail": mail}, environ={})


def test_a_remote_server_is_accepted_only_on_purpose():
    remote = parse_mail({"mail": {"smtp_host": "smtp.example.com", "allow_remote": True}}, environ={})
    assert remote is not None and remote.smtp_host == "smtp.example.com" and remote.allow_remote
    assert parse_mail({"mail": {"smtp_host": "localhost"}}, environ={}).smtp_host == "localhost"


def test_a_solution_with_bad_mail_config_does_not_load(tmp_path):
    with pytest.raises(SolutionError, match=r"operate.toml \[mail\]: smtp_host 'mail.example.com' is not on this"):
        emulator_for(tmp_path, 'smtp_host = "mail.example.com"')
    # The data dir is free again: the same folder loads once the config is put right.
    shutil.rmtree(tmp_path / "solution")
    em = emulator_for(tmp_path, 'smtp_host = "mail.example.com"\nallow_remote = true')
    em.close()
