"""A real SMTP server (aiosmtpd) on a loopback port that keeps what it is sent, and the demo solution with a
[mail] table of its own: what the outbox's tests (and the Clio sync's mailed results) send to."""

from __future__ import annotations

import email
import shutil
import socket
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller

from emulator.solution.loading import demo_solution_path


class Collecting:
    """An SMTP handler that keeps every envelope it is given."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Smtp:
    def __init__(self, handler: Collecting, port: int) -> None:
        self.handler, self.port = handler, port

    @property
    def received(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.handler.envelopes]


def start_smtp(handler: Collecting | None = None, **kw) -> tuple[Controller, Smtp]:
    handler = handler or Collecting()
    for _ in range(3):  # the free port may be taken between asking and binding: a bounded retry
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kw)
        try:
            controller.start()
        except OSError:
            continue
        return controller, Smtp(handler, port)
    raise RuntimeError("no free loopback port for the SMTP server")


def solution_with_mail(tmp_path: Path, mail: str) -> Path:
    """The demo solution with a [mail] table of its own."""
    root = tmp_path / "solution"
    shutil.copytree(demo_solution_path(), root)
    with (root / "operate.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n[mail]\n{mail}\n")
    return root
