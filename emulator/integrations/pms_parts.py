"""The PMS packages as the linked services use them, wired here at the root (emulator/core.py hands PMS_PARTS
to LinkedServices): the adapters a service may name (pms_adapters/registry.py), their error, and the
in-process fakes `fake = "demo" | "clio"` mounts. The linked services area itself imports none of them.

The fakes are imported when one is mounted, not before: a solution without one never loads them.
"""

from __future__ import annotations

from typing import Any

import httpx

from pms_adapters.base import PmsError
from pms_adapters.registry import ADAPTERS, adapter_class

from ..linked_services import LinkedService, PmsParts


def mount_demo_pms(service: LinkedService, clock: Any, observer: Any = None) -> tuple[httpx.BaseTransport, Any]:
    """The demo PMS on `clock`, answering the service's own API key (the demo's when it sets none); it
    observes nothing."""
    from pms_adapters.fakes.demo_pms.app import DEFAULT_API_KEY
    from pms_adapters.fakes.demo_pms.app import create_app as create_pms
    from pms_adapters.fakes.demo_pms.models import DemoPmsBackend

    backend = DemoPmsBackend(clock=clock)
    return httpx.WSGITransport(app=create_pms(backend, api_key=service.api_key or DEFAULT_API_KEY)), backend


def mount_fake_clio(service: LinkedService, clock: Any, observer: Any = None) -> tuple[httpx.BaseTransport, Any]:
    """A fake Clio Manage on `clock` (a seeded firm); `observer(request, response)` sees each of its answers."""
    from pms_adapters.fakes.clio.app import create_app as create_clio
    from pms_adapters.fakes.clio.models import ClioBackend

    backend = ClioBackend(clock=clock)
    return httpx.WSGITransport(app=create_clio(backend, observer=observer)), backend


PMS_PARTS = PmsParts(
    adapter_names=tuple(ADAPTERS),
    adapter_class=adapter_class,
    failure=PmsError,
    fakes={"demo": mount_demo_pms, "clio": mount_fake_clio},
)
