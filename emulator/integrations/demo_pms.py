"""The demo PMS telling Operate what happened in it (seed 002's PMS -> Clio Operate rows), wired in.

A linked service served by the in-process demo PMS (`fake = "demo"`) whose operate.toml table names the
PMS's own OAuth client (`operate_client_id`, `operate_client_secret` or `operate_client_secret_env`) gets
a delivery worker (`pms_adapters/fakes/demo_pms/delivery.py`): a cron job on the one clock, `<service>-deliveries`,
that calls Operate's public API in process as that client (a client-credentials token from
`/connect/token`, so the client's permissions apply), exactly as a PMS on another machine would over HTTP.
"""

from __future__ import annotations

from typing import Any

import httpx

from pms_adapters.fakes.demo_pms.delivery import CRON, DemoPmsDelivery, OperateApi

from ..linked_services import from_env

IN_PROCESS_URL = "http://operate.local"


class DeliveryConfigError(ValueError):
    pass


class DemoPmsDeliveries:
    """One delivery worker per demo-PMS linked service that names its Operate client."""

    def __init__(self, config: dict[str, Any], linked_services: Any, scheduler: Any, clients: dict[str, Any]) -> None:
        self.workers: dict[str, DemoPmsDelivery] = {}
        self._credentials: dict[str, tuple[str, str]] = {}
        for name, service in linked_services.services.items():
            table = (config.get("linked_services") or {}).get(name) or {}
            client_id = table.get("operate_client_id")
            if service.fake != "demo" or not client_id:
                continue
            where = f"operate.toml [linked_services.{name}]"
            try:
                secret = from_env(table, "operate_client_secret", where)
            except KeyError as exc:
                raise DeliveryConfigError(exc.args[0]) from None
            if not isinstance(client_id, str) or client_id not in clients:
                raise DeliveryConfigError(
                    f"{where}: operate_client_id {client_id!r} is no client in [clients]; "
                    f"register the PMS's own client there (known: {', '.join(sorted(clients))})"
                )
            if not isinstance(secret, str) or not secret:
                raise DeliveryConfigError(f"{where}: operate_client_secret (or operate_client_secret_env) is required")
            worker = DemoPmsDelivery(linked_services.fakes[name])
            self.workers[name] = worker
            self._credentials[name] = (client_id, secret)
            scheduler.cron(f"{name}-deliveries", CRON, worker.run, coalesce=True)

    def connect(self, app: Any) -> None:
        """Operate is up: each worker calls it in process (the app's own routes, token and all)."""
        for name, worker in self.workers.items():
            client_id, secret = self._credentials[name]
            worker.connect(OperateApi(IN_PROCESS_URL, client_id, secret, transport=httpx.WSGITransport(app=app)))

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
