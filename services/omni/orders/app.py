"""The orders service's composition root: its parts wired onto the platform's Service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import grpc

from omni.orders import convert
from omni.orders.adapters import tables
from omni.orders.entrypoints.grpc_api import ACCESS, SERVICE_NAME, OrdersServicer
from omni.orders.entrypoints.nats_api import STREAMS, OrdersNatsApi
from omni.orders.entrypoints.watch import OrderHub
from omni.orders.service_layer import queries
from omni.orders.service_layer.backlog import Backlog
from omni.orders.service_layer.services import OrdersServices
from omni.orders.service_layer.unit_of_work import UnitOfWork
from omni.orders.settings import OrdersSettings
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.platform.outbox import OutboxMessage
from omni.platform.service import Service

MIGRATIONS = str(Path(__file__).parent / "adapters" / "migrations")


class OrdersApp(Service):
    """Everything one orders replica runs; `start()` then `stop()`."""

    name = "orders"
    service_names = (SERVICE_NAME,)
    migrations = MIGRATIONS
    streams = STREAMS
    access = ACCESS

    def __init__(self, settings: OrdersSettings) -> None:
        super().__init__(
            settings, tables.outbox, [tables.idempotency_keys, tables.processed_events]
        )
        self.settings: OrdersSettings = settings
        self.uow = UnitOfWork(self.engine, on_commit=self._committed)
        self.hub = OrderHub(self.nats, self._stored_orders)
        self.services = OrdersServices(self.uow, linger=settings.batch_linger_seconds)
        self.backlog = Backlog(self.uow, settings.max_pending_orders)

    def register(self, server: grpc.aio.Server) -> None:
        servicer = OrdersServicer(
            self.services, self.hub, self.settings.decision_wait_seconds, self.backlog
        )
        orders_pb2_grpc.add_OrdersServiceServicer_to_server(servicer, server)

    async def on_nats(self) -> None:
        await self.hub.subscribe()
        api = OrdersNatsApi(self.services, self.nats)
        await api.answer_lookups()
        await asyncio.gather(*(c.run() for c in api.consumers()))

    async def on_start(self) -> None:
        self.services.start()
        self.tasks.spawn("watched orders", self.hub.run())
        self.tasks.spawn("backlog", self.backlog.run())

    async def on_stop(self) -> None:
        await self.services.stop()

    async def _stored_orders(self, order_ids: list[str]) -> list[orders_pb2.Order]:
        return [convert.order_to_proto(o) for o in await queries.get_orders(self.uow, order_ids)]

    def _committed(self, messages: Sequence[OutboxMessage]) -> None:
        self.relay.hand_over(messages)
        self.hub.committed(messages)
