"""`operate test --record-from ID`: a plan execution saved as a replay test, read from a data dir's store.

Only the SmartPlans area's tables are read (smartplans/recordings.py), so no solution is loaded and nothing runs.
A data dir a server holds is read from a consistent copy (SQLite's online backup), as `operate export` does.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from ..kernel.datadir import DataDirInUse, DataDirLock


def save_recording(execution_id: str, data_dir: Path, folder: Path) -> int:
    from smartplans.recordings import RecordingError, file_name, recording_of, to_yaml

    from ..core import SCHEMA
    from ..kernel.clock import Clock
    from ..kernel.store import Store
    from .export import copy_state

    database = data_dir / "operate.db"
    if not database.is_file():
        print(f"operate test: --data-dir {data_dir} holds no state (no operate.db there)", file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(f"operate test: {folder} is not a folder", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="operate-record-") as tmp:
        probe = DataDirLock(data_dir)
        try:
            probe.acquire("operate test --record-from")
            probe.release()
        except DataDirInUse:  # a live server's: a consistent copy of its state, read without dispatching anything
            copy_state(database, Path(tmp) / "operate.db")
            database = Path(tmp) / "operate.db"
        store = Store(database, SCHEMA)
        try:
            doc = recording_of(store, execution_id)
        except RecordingError as exc:
            print(f"operate test --record-from: {exc}", file=sys.stderr)
            return 2
        finally:
            store.close()
    target = folder / file_name(doc)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(to_yaml(doc, Clock("system").now()), encoding="utf-8")
    print(f"wrote {target}: `operate test {folder}` replays it")
    return 0
