"""Everything the emulator is configured with, passed in (never imported as a global)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass
class Settings:
    data_dir: Path = Path(".operate")
    solution: Path | None = None  # a solution folder; None with demo=False means an empty solution
    demo: bool = False
    clock: str = "system"  # "system" follows the wall clock (and freezegun); "virtual" moves when told
    clock_start: datetime | None = None  # where a virtual clock starts, and returns to on reset
    inline_dispatch: bool = True  # dispatch events on the committing thread (tests); serve uses a worker
    fresh: bool = False  # discard the state in data_dir and start from the solution's seed
    synchronous: str = "NORMAL"  # SQLite synchronous mode; NORMAL survives kill -9 in WAL mode
    coverage: bool = False  # instrument plans and count what runs (operate test --coverage; smartplans/coverage/)
    command: str = "operate-toolkit in a Python process"  # who holds the data dir, for a second process's message

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if self.solution is not None:
            self.solution = Path(self.solution)
        if self.clock not in ("system", "virtual"):
            raise ValueError(f"clock must be 'system' or 'virtual', not {self.clock!r}")
