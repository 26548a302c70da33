"""`operate sync clio --all | --matter ID|URL`: the same syncs as the pages, from a terminal.

Through the running server's API when one holds the data dir (its URL is in the data dir's note) or
`--url` names one; otherwise in this process on the data dir. A progress line (matters seen of the total,
imported, skipped, rate, ETA) while All Cases runs, then a summary table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

import httpx

CLIO = "/api/_emulator/integrations/clio"
POLL_SECONDS = 0.5


class ProgressLine:
    """On a terminal, one line redrawn in place (a carriage return) and ended with a newline when the run ends;
    elsewhere (a file, a pipe, CI's log) whole lines only: one every few seconds while the run goes on, and
    always the final one, so the last line read is never stale."""

    def __init__(self, out: TextIO, every: float = 5.0) -> None:
        self.out, self.started, self.every = out, time.monotonic(), every
        self.last: float | None = None  # when a line was last written (not a terminal)
        self.written = ""  # the last line written
        try:
            self.tty = out.isatty()
        except (AttributeError, ValueError):  # a stream without isatty, or a closed one
            self.tty = False
        self.total: int | None = None

    def _line(self, seen: int, total: int | None, counts: dict[str, int], now: float) -> str:
        elapsed = max(now - self.started, 1e-6)
        rate = seen / elapsed
        of = f"/{total}" if total is not None else ""
        eta = ""
        if total and rate > 0 and seen < total:
            left = int((total - seen) / rate)
            eta = f"  ETA {left // 60}m{left % 60:02d}s"
        return (
            f"matters seen {seen}{of}  imported {counts.get('imported', 0)}  updated {counts.get('updated', 0)}"
            f"  skipped {counts.get('skipped', 0)}  failed {counts.get('failed', 0)}  {rate:.1f}/s{eta}"
        )

    def show(self, seen: int, total: int | None, counts: dict[str, int]) -> None:
        now = time.monotonic()
        self.total = total if total is not None else self.total
        if not self.tty and self.last is not None and now - self.last < self.every:
            return
        self._write(self._line(seen, total, counts, now), now)

    def done(self, counts: dict[str, int] | None = None) -> None:
        """The run has ended: its final counts (every matter it attempted), then the line is finished."""
        now = time.monotonic()
        if counts is not None:
            seen = sum(int(v) for v in counts.values())
            line = self._line(seen, self.total if self.total is not None else seen, counts, now)
            if line != self.written or self.tty:
                self._write(line, now)
        if self.tty and self.written:
            self.out.write("\n")
            self.out.flush()

    def _write(self, line: str, now: float) -> None:
        self.out.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.out.flush()
        self.written, self.last = line, now


def no_server(data_dir: Path, note: dict[str, Any] | None) -> str:
    """Why `operate sync` without --demo/--solution/--url has nothing to talk to, and what to do."""
    where = Path(data_dir).resolve()
    held = ""
    if note and note.get("url"):
        held = f" (its note names {note['url']}, PID {note.get('pid', '?')}, which does not answer)"
    return (
        f"operate sync: no `operate serve` is running on the data dir {where}{held}. Start one in another "
        f"terminal: `operate serve --demo --data-dir {data_dir}` (or --solution DIR), connect Clio in "
        "Settings > Integrations, then run this again; or pass --url for a server elsewhere"
    )


def summary(run: dict[str, Any]) -> str:
    counts = run.get("counts") or {}
    rows = [("result", "matters")] + [(k, str(v)) for k, v in counts.items()]
    width = max(len(r[0]) for r in rows)
    lines = [f"Clio sync {run.get('kind')} {run.get('id', '')[:8]}: {run.get('state')}"]
    if run.get("error"):
        lines.append(f"  error: {run['error']}")
    lines += [f"  {name.ljust(width)}  {value.rjust(7)}" for name, value in rows]
    return "\n".join(lines)


def over_http(base_url: str, token: str, mode: str, matter: str | None, timeout: float, out: TextIO) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0, trust_env=False) as http:
        if mode == "matter":
            answer = http.post(f"{CLIO}/sync", json={"mode": "matter", "matter": matter})
            if answer.status_code != 200:
                print(f"operate: {_title(answer)}", file=sys.stderr)
                return 2
            return _print_matter(answer.json(), out)
        answer = http.post(f"{CLIO}/sync", json={"mode": "all"})
        if answer.status_code not in (200, 202):
            print(f"operate: {_title(answer)}", file=sys.stderr)
            return 2
        run = answer.json()
        bar = ProgressLine(sys.stderr)
        deadline = time.monotonic() + timeout
        while run.get("state") == "running" and time.monotonic() < deadline:
            progress = run.get("progress") or {}
            bar.show(progress.get("seen", 0), progress.get("total"), progress.get("counts") or run.get("counts", {}))
            time.sleep(POLL_SECONDS)
            run = http.get(f"{CLIO}/runs/{run['id']}").json()
        if run.get("state") != "running" and "resultsCsvUrl" not in run:  # ended before the first poll
            run = http.get(f"{CLIO}/runs/{run['id']}").json()
        bar.done(None if run.get("state") == "running" else run.get("counts"))
        if run.get("state") == "running":
            print(f"operate: still running after {timeout:.0f} s; follow {base_url}{CLIO}/runs/{run['id']}",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(summary(run), file=out)
        link = run.get("resultsCsvUrl")  # signed for this one file, expiring: works in a browser or curl as printed
        if link:
            minutes = run.get("resultsCsvUrlMinutes", "?")
            print(f"  results (CSV; the link works for {minutes} minutes): {link}", file=out)
        else:
            print(f"  results: {base_url}{CLIO}/runs/{run['id']}/results.csv (with a bearer token)", file=out)
        return 0 if run.get("state") == "done" else 1


def in_process(clio: Any, principal: Any, mode: str, matter: str | None, out: TextIO) -> int:
    if mode == "matter":
        return _print_matter(clio.sync.sync_matter(matter, principal), out)
    bar = ProgressLine(sys.stderr)
    run = clio.sync.sync_all(principal, "all", progress=lambda p: bar.show(p.seen, p.total, p.counts))
    bar.done(run["counts"])
    print(summary(run), file=out)
    return 0 if run["state"] == "done" else 1


def _print_matter(run: dict[str, Any], out: TextIO) -> int:
    result = run.get("result") or {}
    if run.get("state") != "done" or not result:
        print(summary(run), file=out)
        return 1
    reason = f" ({result['reason']})" if result.get("reason") else ""
    item = f"; Operate work item {result['workItemId']}" if result.get("workItemId") else ""
    print(f"Clio matter {result['clioId']} {result.get('displayNumber') or ''}: {result['result']}{reason}{item}",
          file=out)  # fmt: skip
    return 0 if result["result"] not in ("failed", "skipped") else 1


def _title(response: httpx.Response) -> str:
    try:
        return str(response.json().get("title") or response.text[:200])
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
