"""Which PmsAdapter speaks to which kind of PMS: the name a linked service gives as `adapter = "..."`.

A new adapter is a class taking an `httpx.Client` (base URL and credentials already set) and
implementing `pms_adapters.base.PmsAdapter`; add one line here to make it choosable. One that ages debt
itself (Clio) also takes `now=` (a callable), which the linked services give it: the emulator's clock.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

ADAPTERS: dict[str, str] = {
    "demo": "pms_adapters.demo.adapter:DemoPmsAdapter",
    "clio": "pms_adapters.clio.adapter:ClioPmsAdapter",
}


def adapter_class(name: str) -> Any:
    if name not in ADAPTERS:
        raise KeyError(f"no PMS adapter {name!r}; known: {sorted(ADAPTERS)}")
    module, _, attr = ADAPTERS[name].partition(":")
    return getattr(import_module(module), attr)
