"""The demo PMS: a fake finance system for Harbour & Vale, built the way moto builds a service.

`models.py` (the `DemoPmsBackend` facade over its books), `responses.py` (HTTP in and out), `urls.py`
(routes), `app.py` (`create_app`), `server.py` (a loopback server for people), `delivery.py` and
`outbox.py` (what it tells Operate). The product talks to it through `pms_adapters/demo/adapter.py`
(`DemoPmsAdapter`). Routes and controls: README.md in this folder.
"""

from __future__ import annotations

from .app import API_KEY_HEADER, DEFAULT_API_KEY, create_app
from .models import DemoPmsBackend, DemoPmsError

__all__ = ["API_KEY_HEADER", "DEFAULT_API_KEY", "DemoPmsBackend", "DemoPmsError", "create_app"]
