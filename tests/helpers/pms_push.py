"""A served emulator beside a served demo PMS (the fixture `both`), and `operate pms <command>` run against them
in its own process, as a user runs the pushes."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from pms_adapters.fakes.demo_pms.server import build_server
from tests.conftest import START
from tests.helpers.loopback import serving


@pytest.fixture
def both(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "d", demo=True, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    pms = build_server("127.0.0.1", 0, "demo-pms-key", clock=em.clock)
    thread = threading.Thread(target=pms.serve_forever, daemon=True)
    thread.start()
    try:
        with serving(app) as url:
            yield url, f"http://127.0.0.1:{pms.server_port}", em
    finally:
        # Bounded: shutdown() waits for serve_forever to notice, so it runs on a thread we wait on for 10 s at most.
        stopper = threading.Thread(target=pms.shutdown, daemon=True)
        stopper.start()
        stopper.join(timeout=10)
        thread.join(timeout=10)
        pms.server_close()
        em.close()
    assert not thread.is_alive(), "the demo PMS server did not stop"


def push(command: str, url: str, pms_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", "pms", command, "--url", url, "--pms-url", pms_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
