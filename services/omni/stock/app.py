"""The stock service's composition root: config, database, NATS, gRPC server, background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from omni.platform import migrations
from omni.platform.clock import utcnow
from omni.platform.db import create_engine
from omni.platform.grpc_server import HealthReporter, start_server, stop_server
from omni.platform.messaging import NatsLink
from omni.platform.outbox import OutboxRelay
from omni.platform.retention import prune
from omni.platform.tasks import TaskGroup, repeat
from omni.stock.adapters import tables
from omni.stock.entrypoints.availability import AvailabilityHub
from omni.stock.entrypoints.grpc_api import SERVICE_NAME, StockServicer, error_detail
from omni.stock.entrypoints.nats_api import STREAMS, StockNatsApi
from omni.stock.service_layer import handlers
from omni.stock.service_layer.services import StockServices
from omni.stock.service_layer.unit_of_work import UnitOfWork
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2_grpc

log = logging.getLogger(__name__)
MIGRATIONS = str(Path(__file__).parent / "adapters" / "migrations")


async def migrate(settings: StockSettings) -> None:
    await migrations.upgrade(settings.database_url, MIGRATIONS)


class StockApp:
    """Everything one stock replica runs; `start()` then `stop()`."""

    def __init__(self, settings: StockSettings) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.nats = NatsLink(
            settings.nats_url,
            "omni-stock",
            STREAMS,
            settings.stream_replicas,
            on_reconnect=lambda: self._nats_back(),
        )
        self.relay = OutboxRelay(
            self.engine,
            tables.outbox,
            self.nats.publish,
            poll_interval=settings.outbox_poll_seconds,
        )
        self.uow = UnitOfWork(self.engine, on_commit=self.relay.hand_over)
        self.hub = AvailabilityHub(self.nats, self.uow)
        self.services = StockServices(
            self.uow,
            max_batch=settings.reserve_batch_max,
            workers=settings.reserve_batch_workers,
        )
        self.health = HealthReporter(
            [SERVICE_NAME], {"database": self._database_ok, "nats": self._nats_ok}
        )
        self.port = 0
        self._tasks = TaskGroup()

    async def start(self) -> None:
        if self.settings.migrate_on_start:
            await migrate(self.settings)
        self.services.start()
        self._tasks.spawn("nats", self._connect_nats())
        self._tasks.spawn("outbox relay", self.relay.run())
        self._tasks.spawn(
            "expiry",
            repeat(
                "expiring reservations", self._expire_due, self.settings.expiry_interval_seconds
            ),
        )
        self._tasks.spawn("pruning", repeat("pruning bookkeeping", self._prune, 60.0))
        await self.health.refresh()
        self._tasks.spawn("health", self.health.run())
        self.server, self.port = await start_server(
            host=self.settings.grpc_host,
            port=self.settings.grpc_port,
            register=lambda s: stock_pb2_grpc.add_StockServiceServicer_to_server(
                StockServicer(self.services, self.hub), s
            ),
            service_names=[SERVICE_NAME],
            health=self.health,
            detail_for=error_detail,
        )
        log.info("stock service listening on port %d", self.port)

    async def stop(self) -> None:
        """Stops taking calls, finishes running ones, then stops background work and NATS."""
        await stop_server(self.server, self.health, self.settings.shutdown_grace_seconds)
        await self.services.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.relay.relay_once(), 2.0)  # flush what just committed
        await self._tasks.stop()
        await self.nats.close()
        await self.engine.dispose()

    async def _connect_nats(self) -> None:
        await self.nats.run()
        api = StockNatsApi(self.services, self.nats)
        await api.subscribe()
        self.relay.scan_soon()
        await asyncio.gather(*(c.run() for c in api.command_consumers()))

    async def _expire_due(self) -> None:
        while await handlers.expire_due(self.uow, utcnow()) > 0:
            pass

    def _nats_back(self) -> None:
        """Publish what waited at once; watchers may have missed changes: resend current."""
        self.relay.scan_soon()
        self._tasks.spawn("availability resync", self.hub.resync())

    async def _prune(self) -> None:
        keep = timedelta(hours=self.settings.bookkeeping_retention_hours)
        await prune(self.engine, tables.idempotency_keys, "created_at", keep)
        await prune(self.engine, tables.processed_events, "processed_at", keep)

    async def _database_ok(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def _nats_ok(self) -> bool:
        return self.nats.connected()


async def serve(settings: StockSettings) -> None:
    """Runs one replica until SIGTERM or SIGINT, then stops gracefully."""
    app = StockApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: finishing calls in flight")
    await app.stop()


def configure_logging(settings: StockSettings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
