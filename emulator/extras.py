"""What to install for a part that needs an optional package: one line, never a traceback.

`pip install operate-toolkit` brings what serving, running and importing need. Testing (`operate test`, the
pytest plugin), the browser fixtures and some benchmarks need more; each such package belongs to an extra
of pyproject.toml, named here once, so every message says the same thing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# import name -> (the package pip installs, the extra of pyproject.toml that brings it)
EXTRAS: dict[str, tuple[str, str]] = {
    "pytest": ("pytest", "test"),
    "xdist": ("pytest-xdist", "test"),
    "playwright": ("playwright", "browser"),
    "PIL": ("pillow", "browser"),  # assert_snapshot's pixel comparison (widgets/snapshots.py)
    "numpy": ("numpy", "browser"),
}


class MissingExtra(ImportError):
    """An optional package is not installed; str() is the one line to show."""


def install_hint(module: str, who: str, *, from_clone: bool = False) -> str:
    """`<who> needs <package>: pip install 'operate-toolkit[<extra>]'` (`-e '.[<extra>]'` in a clone, for
    what only a clone has: the benchmarks and scripts)."""
    package, extra = EXTRAS[module.split(".")[0]]
    target = f"-e '.[{extra}]'" if from_clone else f"'operate-toolkit[{extra}]'"
    return f"{who} needs {package}: pip install {target}"


def need(module: str, who: str, *, from_clone: bool = False) -> ModuleType:
    """Import `module`, or raise MissingExtra saying what to install. A different module missing inside
    it is a real fault and is raised as it is."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise
        raise MissingExtra(install_hint(module, who, from_clone=from_clone)) from None
