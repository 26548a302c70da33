"""The demo PMS: a fake finance system for Harbour & Vale, built the way moto builds a service.

`models.py` (books and rules), `responses.py` (HTTP in and out), `urls.py` (routes), `app.py`
(`create_app`), `server.py` (a loopback server for people), `adapter.py` (`DemoPmsAdapter`, the
`PmsAdapter` over its HTTP API). Routes and controls: README.md in this folder.
"""

from __future__ import annotations

from .adapter import DemoPmsAdapter
from .app import API_KEY_HEADER, DEFAULT_API_KEY, create_app
from .models import DemoPmsBackend, DemoPmsError

__all__ = ["API_KEY_HEADER", "DEFAULT_API_KEY", "DemoPmsAdapter", "DemoPmsBackend", "DemoPmsError", "create_app"]
