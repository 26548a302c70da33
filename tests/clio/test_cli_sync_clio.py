"""`operate sync clio`: in this process on the data dir, and through a running `operate serve` that holds
it; a progress line on stderr, a summary table on stdout, exit status that says how it went. Against the
fake Clio in its own process (its state outlives each emulator process)."""

from __future__ import annotations

import re
import subprocess
import sys

from emulator.app import create_app
from emulator.cli import main
from emulator.settings import Settings
from tests.helpers.served_clio import connect_served_clio, solution_on

BOUND = 200  # × 0.1 s waiting for `operate serve` to print its URL


def test_sync_all_and_one_matter_in_process(tmp_path, fake_clio, capsys):
    solution, data = solution_on(tmp_path, fake_clio), tmp_path / "data"
    args = ["sync", "clio", "--data-dir", str(data), "--solution", str(solution)]
    assert main([*args, "--all"]) == 2
    assert "Clio is not connected" in capsys.readouterr().err

    app = create_app(Settings(data_dir=data, solution=solution))
    connect_served_clio(app, fake_clio)
    app.extensions["operate"].close()
    assert main([*args, "--all", "--as", "priya.shah"]) == 0
    out = capsys.readouterr()
    assert re.search(r"Clio sync all \w+: done", out.out)
    imported = int(re.search(r"imported\s+(\d+)", out.out).group(1))
    assert imported > 0 and re.search(r"skipped\s+\d+", out.out)
    assert "matters seen" in out.err  # the progress line

    assert main([*args, "--matter", "https://app.clio.com/nc/#/matters/999"]) == 1
    assert "Clio has no matter 999" in capsys.readouterr().out
    assert main([*args, "--matter", "not-a-number"]) == 2
    assert "integration ID" in capsys.readouterr().err
    assert main([*args, "--all", "--as", "nobody"]) == 2
    assert "--as nobody" in capsys.readouterr().err


def test_the_in_process_fake_is_reached_only_through_its_server(tmp_path, capsys):
    assert main(["sync", "clio", "--all", "--demo", "--data-dir", str(tmp_path / "data")]) == 2
    assert "start the server on this --data-dir" in capsys.readouterr().err


def test_sync_goes_through_the_server_that_holds_the_data_dir(tmp_path, fake_clio, capsys):
    solution, data = solution_on(tmp_path, fake_clio), tmp_path / "data"
    app = create_app(Settings(data_dir=data, solution=solution))
    connect_served_clio(app, fake_clio)
    app.extensions["operate"].close()
    server = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "serve", "--solution", str(solution), "--data-dir", str(data),
         "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        url = None
        for _ in range(BOUND):
            line = server.stdout.readline()
            found = re.search(r"ready on (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "operate serve did not start"
        assert main(["sync", "clio", "--data-dir", str(data), "--all", "--as", "priya.shah"]) == 0
        out = capsys.readouterr().out
        assert re.search(r"Clio sync all \w+: done", out) and f"{url}/settings/integrations/clio/runs/" in out
        assert main(["sync", "clio", "--data-dir", str(data), "--matter", "1180000001"]) in (0, 1)
        assert "Clio matter 1180000001" in capsys.readouterr().out
    finally:
        server.terminate()
        server.wait(timeout=30)
