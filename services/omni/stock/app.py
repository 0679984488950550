"""The stock service's composition root: its parts wired onto the platform's Service."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import grpc

from omni.platform import metrics
from omni.platform.clock import utcnow
from omni.platform.db import write_transaction
from omni.platform.grpc_server import DetailFor
from omni.platform.retention import alone
from omni.platform.service import Service
from omni.platform.tasks import repeat, reraise_if_cancelled
from omni.stock.adapters import ledger, tables
from omni.stock.adapters.purging import purge_reservations
from omni.stock.entrypoints.availability import AvailabilityHub
from omni.stock.entrypoints.grpc_api import ACCESS, SERVICE_NAME, StockServicer, error_detail
from omni.stock.entrypoints.nats_api import STREAMS, StockNatsApi
from omni.stock.service_layer import handlers, presale
from omni.stock.service_layer.services import StockServices
from omni.stock.service_layer.unit_of_work import UnitOfWork
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2_grpc

log = logging.getLogger(__name__)

MIGRATIONS = str(Path(__file__).parent / "adapters" / "migrations")


class StockApp(Service):
    """Everything one stock replica runs; `start()` then `stop()`."""

    name = "stock"
    service_names = (SERVICE_NAME,)
    migrations = MIGRATIONS
    streams = STREAMS
    access = ACCESS

    def __init__(self, settings: StockSettings) -> None:
        super().__init__(
            settings, tables.outbox, [tables.idempotency_keys, tables.processed_events]
        )
        self.settings: StockSettings = settings
        self.uow = UnitOfWork(self.engine, on_commit=self.relay.hand_over)
        self.hub = AvailabilityHub(self.nats, self.uow)
        self.services = StockServices(
            self.uow,
            max_batch=settings.reserve_batch_max,
            workers=settings.reserve_batch_workers,
            linger=settings.batch_linger_seconds,
        )

    def register(self, server: grpc.aio.Server) -> None:
        servicer = StockServicer(self.services, self.hub)
        stock_pb2_grpc.add_StockServiceServicer_to_server(servicer, server)

    def detail_for(self) -> DetailFor:
        return error_detail

    async def on_start(self) -> None:
        self.services.start()
        interval = self.settings.expiry_interval_seconds
        self.tasks.spawn("expiry", repeat("expiring reservations", self._expire_due, interval))
        every = self.settings.backorder_interval_seconds
        self.tasks.spawn("backorders", repeat("settling backorders", self._settle, every))
        self.tasks.spawn("purging", repeat("purging reservations", self._purge, 600.0))
        months = repeat("making the ledger's months", self._make_ledger_months, 600.0)
        self.tasks.spawn("ledger", months)

    async def on_nats(self) -> None:
        api = StockNatsApi(self.services, self.nats)
        await api.subscribe()
        await asyncio.gather(*(c.run() for c in api.command_consumers()))

    def on_nats_back(self) -> None:
        """Watchers may have missed changes: resend what is current."""
        self.tasks.spawn("availability resync", self.hub.resync())

    async def sample(self) -> None:
        metrics.WATCHERS.labels(self.name).set(self.hub.watchers)
        async with self.uow.reader() as reader:
            metrics.RESERVATIONS_ACTIVE.labels(self.name).set(await reader.active_reservations())

    async def on_stop(self) -> None:
        await self.services.stop()

    async def _settle(self) -> None:
        """Each level due on its own: one that fails is logged and tried again next pass."""
        for key in await presale.levels_to_settle(self.uow):
            try:
                await presale.settle_level(self.uow, key)
            except Exception as exc:
                reraise_if_cancelled(exc)
                log.warning("settling backorders of %s at %s failed (will retry): %s", *key, exc)

    async def _purge(self) -> None:
        """Finished reservations past their retention, by one replica at a time."""
        before = utcnow() - timedelta(hours=self.settings.reservation_retention_hours)
        async with alone(self.engine, "omni purge reservations") as mine:
            if mine and (count := await purge_reservations(self.engine, before)):
                log.info("purged %d finished reservations", count)

    async def _make_ledger_months(self) -> None:
        """The ledger's coming months (omni.stock.adapters.ledger), by one replica at a time."""
        async with alone(self.engine, "omni ledger months") as mine:
            if mine:
                async with write_transaction(self.engine) as conn:
                    if made := await conn.run_sync(ledger.ensure_partitions, utcnow()):
                        log.info("made the ledger's partitions %s", ", ".join(made))

    async def _expire_due(self) -> None:
        while await handlers.expire_due(self.uow, utcnow()) > 0:
            pass
