"""The read model's life in a console replica: its database, its NATS link and consumers."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.console.figures.health import Replicas, Streams, stream_health
from omni.console.figures.recording import PROCESSED_KEPT, Recorder
from omni.console.figures.tables import processed, sales_by_minute
from omni.console.settings import ConsoleSettings
from omni.platform import migrations
from omni.platform.db import create_engine
from omni.platform.messaging import NatsLink
from omni.platform.retention import prune
from omni.platform.tasks import TaskGroup, repeat

log = logging.getLogger(__name__)
MIGRATIONS = str(Path(__file__).parent / "migrations")
# Per-minute figures are shown for the last hour; a week is kept for a look back.
MINUTES_KEPT = timedelta(days=7)
Subscription = tuple[str, Callable[[Msg], Awaitable[None]]]


class ReadModel:
    """Follows the services' events into the console's database; also the console's one
    NATS connection, for other plain subscriptions (`subscriptions`: the live pages' hints)."""

    def __init__(self, settings: ConsoleSettings, subscriptions: list[Subscription]) -> None:
        self._settings = settings
        self.engine: AsyncEngine = create_engine(settings.database_url, pool_size=5)
        tls = (
            ssl.create_default_context(cafile=settings.nats_ca_file)
            if settings.nats_ca_file
            else None
        )
        # The console declares no stream (the services own them): its consumers wait for them.
        self.link = NatsLink(settings.nats_url, "console", [], 1, tls=tls)
        self.replicas = Replicas()
        self._subscriptions = [*subscriptions, (self.replicas.subject, self.replicas.on_heartbeat)]
        self._tasks = TaskGroup()
        self._streams: tuple[float, Streams] | None = None

    async def start(self) -> None:
        if self._settings.migrate_on_start:
            await migrate(self._settings.database_url)
        self._tasks.spawn("nats", self._follow())
        self._tasks.spawn("pruning", repeat("pruning the read model", self._prune, 60.0))

    async def stop(self) -> None:
        await self._tasks.stop()
        await self.link.close()
        await self.engine.dispose()

    async def streams(self) -> Streams | None:
        """Consumer lag and dead letters, asked of JetStream at most every 2 s; None while
        NATS is away."""
        if self._streams is not None and time.monotonic() - self._streams[0] < 2.0:
            return self._streams[1]
        if not self.link.connected():
            return None
        found = await stream_health(self.link.js)
        self._streams = (time.monotonic(), found)
        return found

    async def _follow(self) -> None:
        await self.link.run()
        assert self.link.nc is not None
        for subject, callback in self._subscriptions:
            await self.link.nc.subscribe(subject, cb=callback)
        for consumer in Recorder(self.engine, self.link).consumers():
            self._tasks.spawn(f"read model {consumer}", consumer.run())

    async def _prune(self) -> None:
        await prune(self.engine, processed, "processed_at", PROCESSED_KEPT)
        await prune(self.engine, sales_by_minute, "minute", MINUTES_KEPT)


async def migrate(url: str) -> None:
    await migrations.upgrade(url, MIGRATIONS)
