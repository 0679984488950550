"""The returns service's composition root: its parts wired onto the platform's Service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import grpc

from omni.platform.service import Service
from omni.returns.adapters import tables
from omni.returns.entrypoints.grpc_api import ACCESS, SERVICE_NAME, ReturnsServicer
from omni.returns.entrypoints.nats_api import STREAMS, ReturnsNatsApi
from omni.returns.service_layer.unit_of_work import UnitOfWork
from omni.returns.settings import ReturnsSettings
from omni.returns.v1 import returns_pb2_grpc

MIGRATIONS = str(Path(__file__).parent / "adapters" / "migrations")


class ReturnsApp(Service):
    """Everything one returns replica runs; `start()` then `stop()`."""

    name = "returns"
    service_names = (SERVICE_NAME,)
    migrations = MIGRATIONS
    streams = STREAMS
    access = ACCESS

    def __init__(self, settings: ReturnsSettings) -> None:
        super().__init__(
            settings, tables.outbox, [tables.idempotency_keys, tables.processed_events]
        )
        self.settings: ReturnsSettings = settings
        self.uow = UnitOfWork(self.engine, on_commit=self.relay.hand_over)
        self.api = ReturnsNatsApi(self.uow, self.nats)

    def register(self, server: grpc.aio.Server) -> None:
        servicer = ReturnsServicer(
            self.uow,
            timedelta(seconds=self.settings.window_seconds),
            self.api.fetch_order,
            self.api.locations_caught_up,
        )
        returns_pb2_grpc.add_ReturnsServiceServicer_to_server(servicer, server)

    async def on_nats(self) -> None:
        await asyncio.gather(*(c.run() for c in self.api.consumers()))
