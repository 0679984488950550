"""The pickup service's composition root: its parts wired onto the platform's Service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import grpc

from omni.pickup.adapters import tables
from omni.pickup.entrypoints.grpc_api import ACCESS, SERVICE_NAME, PickupServicer
from omni.pickup.entrypoints.nats_api import STREAMS, PickupNatsApi
from omni.pickup.service_layer import handlers
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.service_layer.unit_of_work import UnitOfWork
from omni.pickup.settings import PickupSettings
from omni.pickup.v1 import pickup_pb2_grpc
from omni.platform.clock import utcnow
from omni.platform.service import Service
from omni.platform.tasks import repeat

MIGRATIONS = str(Path(__file__).parent / "adapters" / "migrations")


class PickupApp(Service):
    """Everything one pickup replica runs; `start()` then `stop()`."""

    name = "pickup"
    service_names = (SERVICE_NAME,)
    migrations = MIGRATIONS
    streams = STREAMS
    access = ACCESS

    def __init__(self, settings: PickupSettings) -> None:
        super().__init__(
            settings, tables.outbox, [tables.idempotency_keys, tables.processed_events]
        )
        self.settings: PickupSettings = settings
        self.uow = UnitOfWork(self.engine, on_commit=self.relay.hand_over)
        self.sealer = Sealer(settings.code_key)

    def register(self, server: grpc.aio.Server) -> None:
        hold = timedelta(seconds=self.settings.hold_seconds)
        servicer = PickupServicer(self.uow, self.sealer, hold)
        pickup_pb2_grpc.add_PickupServiceServicer_to_server(servicer, server)

    async def on_start(self) -> None:
        interval = self.settings.expiry_interval_seconds
        self.tasks.spawn("expiry", repeat("expiring held pickups", self._expire_due, interval))

    async def on_nats(self) -> None:
        api = PickupNatsApi(self.uow, self.nats)
        await asyncio.gather(*(c.run() for c in api.consumers()))

    async def _expire_due(self) -> None:
        while await handlers.expire_due(self.uow, utcnow()) > 0:
            pass
