"""Clio's parts built once and wired to the scheduler: the connection, the mappings, the sync, the pushes.

`fake = "clio"` serves Clio from the in-process fake (`pms_adapters/fakes/clio`) through an httpx transport on
the emulator's own clock; `operate serve` also puts that fake on its loopback port so a browser can reach
its sign-in page.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from ...kernel.clock import Clock, iso
from ...kernel.store import Store
from .connection import ClioConnection
from .links import ResultLinks
from .mapping import ClioMappings
from .pushes import ClioPushes
from .settings import DOCUMENTS_CRON, MESSAGES_CRON, NIGHTLY_CRON, ClioSettings
from .sync import ClioSync

log = logging.getLogger("operate.integrations.clio")


class ClioIntegration:
    def __init__(
        self,
        settings: ClioSettings,
        *,
        store: Store,
        clock: Clock,
        workitems: Any,
        documents: Any,
        outbox: Any,
        transport: httpx.BaseTransport | None = None,
        fake_backend: Any = None,
    ) -> None:
        self.settings = settings
        self.fake: Any = None  # the fake Clio's backend when `fake = "clio"` (library-mode control)
        self.observers: list[Any] = []  # (request, response) of every answer the in-process fake gives
        if settings.fake and transport is None:
            from pms_adapters.fakes.clio.app import create_app
            from pms_adapters.fakes.clio.models import ClioBackend

            # One firm: the linked service's fake, when it has one, so the widgets see the matters synced.
            self.fake = fake_backend or ClioBackend(clock, matters=settings.fake_matters)
            self.fake_app = create_app(self.fake, observer=self._observe)
            transport = httpx.WSGITransport(app=self.fake_app)
        self.transport = transport
        self.connection = ClioConnection(store, clock, settings, transport)
        self.mappings = ClioMappings(
            store, workitems.types, {"practiceAreas": settings.practice_areas, "stages": settings.stages}
        )
        self.sync = ClioSync(
            store=store,
            clock=clock,
            settings=settings,
            connection=self.connection,
            mappings=self.mappings,
            workitems=workitems,
            outbox=outbox,
        )
        self.pushes = ClioPushes(
            store=store, clock=clock, settings=settings, connection=self.connection, documents=documents
        )
        self.links = ResultLinks(clock)  # signed links to one run's results CSV (what `operate sync` prints)

    def serve_fake(self, port: int | None = None) -> Any:
        """Put the in-process fake on a loopback port (its configured one if free, else any), so a browser
        can reach its sign-in page; the emulator's own calls stay in process. The caller stops the server."""
        import threading
        from urllib.parse import urlsplit

        from ...kernel.http_server import WsgiServer

        if self.fake is None:
            raise RuntimeError('Clio is not served by the in-process fake here (fake = "clio")')
        wanted = urlsplit(self.settings.base_url).port if port is None else port
        try:
            server = WsgiServer(self.fake_app, "127.0.0.1", wanted or 0)
        except OSError:
            server = WsgiServer(self.fake_app, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, name="fake-clio", daemon=True).start()
        self.settings.base_url = f"http://127.0.0.1:{server.server_port}"
        return server

    def _observe(self, request: Any, response: Any) -> None:
        for observer in self.observers:
            observer(request, response)

    def link(self, linked_services: Any) -> None:
        """The linked service the finance widgets reach Clio through rides on this connection's grant;
        `linked_service = "<name>"` adds it when operate.toml does not configure it itself."""
        from ...linked_services import LinkedService

        name = self.settings.linked_service
        if name and name not in linked_services.services:
            service = LinkedService(name=name, base_url=self.settings.base_url, auth="clio", adapter="clio",
                                    allow_remote=True)  # fmt: skip
            linked_services.add(service, self.transport)
        linked_services.token_providers.setdefault("clio", self.connection)

    def schedule(self, scheduler: Any) -> None:
        # Each catches up on everything pending, so a clock that jumps a week runs each once, not 5,040 times.
        scheduler.cron("clio-nightly-sync", NIGHTLY_CRON, self._nightly, coalesce=True)
        scheduler.cron("clio-messages", MESSAGES_CRON, self._messages, coalesce=True)
        scheduler.cron("clio-documents", DOCUMENTS_CRON, self._documents, coalesce=True)

    def _nightly(self, due: datetime) -> None:
        if not self.connection.nightly() or not self.connection.connected:
            return
        if self.sync.running:
            log.warning("the nightly Clio sync due %s was skipped: a sync is already running", iso(due))
            return
        run = self.sync.sync_all(None, "nightly")
        log.info("nightly Clio sync %s: %s %s", run["id"], run["state"], run["counts"])

    def _messages(self, due: datetime) -> None:
        self.pushes.push_messages()

    def _documents(self, due: datetime) -> None:
        self.pushes.push_documents()

    def close(self) -> None:
        self.connection.close()
