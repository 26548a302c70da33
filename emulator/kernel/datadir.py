"""One process per data dir: an exclusive lock, and a note saying who holds it.

Two processes on one `operate.db` would both dispatch its events and resume its executions, so a
matter could be sent to the PMS twice. The lock is an OS file lock (`flock` on Linux and macOS,
`msvcrt.locking` on Windows), so it is released when the holder exits, even by `kill -9`; the note
beside it (`operate.holder.json`) names the holder's PID, command and URL for the message a second
process shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

LOCK_FILE = "operate.lock"
HOLDER_FILE = "operate.holder.json"


class DataDirInUse(RuntimeError):
    def __init__(self, data_dir: Path, holder: dict[str, Any] | None) -> None:
        self.data_dir = data_dir
        self.holder = holder or {}
        who = f"PID {self.holder.get('pid', '?')}"
        if self.holder.get("command"):
            who += f" ({self.holder['command']}"
            who += f", {self.holder['url']})" if self.holder.get("url") else ")"
        super().__init__(
            f"the data dir {data_dir} is in use by {who}; stop it first, or give this command another --data-dir"
        )


def holder(data_dir: Path) -> dict[str, Any] | None:
    """What the holder wrote about itself, if anything (it may have gone: the lock says whether it has)."""
    try:
        return json.loads((data_dir / HOLDER_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._file: IO[bytes] | None = None
        self._note: dict[str, Any] = {}

    def acquire(self, command: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.data_dir / LOCK_FILE, "a+b")  # noqa: SIM115 - held open for the process's life
        if not _try_lock(handle):
            handle.close()
            raise DataDirInUse(self.data_dir, holder(self.data_dir))
        self._file = handle
        self._note = {"pid": os.getpid(), "command": command, "since": datetime.now(timezone.utc).isoformat()}
        self._write_note()

    def describe(self, **info: Any) -> None:
        """Add to the note (`url=` once the server listens)."""
        self._note.update(info)
        self._write_note()

    def _write_note(self) -> None:
        path = self.data_dir / HOLDER_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._note), "utf-8")
        os.replace(tmp, path)

    def release(self) -> None:
        if self._file is None:
            return
        (self.data_dir / HOLDER_FILE).unlink(missing_ok=True)
        _unlock(self._file)
        self._file.close()
        self._file = None


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):  # already unlocked
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
