"""`DemoPmsAdapter` (`adapter.py`): the `PmsAdapter` over the demo PMS's HTTP API, registered as `demo`.
The demo PMS itself, a fake finance system, is in `pms_adapters/fakes/demo_pms/`."""

from __future__ import annotations

from .adapter import DemoPmsAdapter

__all__ = ["DemoPmsAdapter"]
