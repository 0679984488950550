"""The read model's life in a console replica: its database, its NATS link and consumers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from alembic.script import ScriptDirectory
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.console.figures.health import Replicas, Streams, stream_health
from omni.console.figures.recording import PROCESSED_KEPT, WRITERS, Recorder
from omni.console.figures.tables import (
    orders,
    pickups,
    processed,
    returned_units,
    sales_by_minute,
    timeline,
)
from omni.console.settings import ConsoleSettings
from omni.platform import driver, migrations
from omni.platform.db import create_engine
from omni.platform.messaging import NatsLink
from omni.platform.retention import prune
from omni.platform.tasks import TaskGroup, repeat, reraise_if_cancelled

log = logging.getLogger(__name__)
MIGRATIONS = str(Path(__file__).parent / "migrations")
# Per-minute figures are shown for the last hour; a week is kept for a look back.
MINUTES_KEPT = timedelta(days=7)
# Timelines, pickups and returns are kept a quarter (an order's page falls back to what the
# order itself says after that); products' daily figures stay (a row per SKU sold a day).
TIMELINES_KEPT = timedelta(days=92)
KEPT_FOR_TIMELINES = [
    (timeline, "at"),
    (orders, "placed_at"),
    (pickups, "created_at"),
    (returned_units, "received_at"),
]
Subscription = tuple[str, Callable[[Msg], Awaitable[None]]]
# How often consumers waiting for the schema look again.
SCHEMA_POLL_SECONDS = 5.0
T = TypeVar("T")


class Recent(Generic[T]):
    """A value worked out at most once per `fresh` seconds, whoever asks and however many ask
    at once (e.g. the dashboard's figures, for every open dashboard of this replica)."""

    def __init__(self, fresh: float) -> None:
        self._fresh = fresh
        self._lock = asyncio.Lock()
        self._value: tuple[float, T] | None = None

    async def get(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self._lock:
            if self._value is None or time.monotonic() - self._value[0] >= self._fresh:
                self._value = (time.monotonic(), await work())
            return self._value[1]


class ReadModel:
    """Follows the services' events into the console's database; also the console's one
    NATS connection, for other plain subscriptions (`subscriptions`: the live pages' hints)."""

    def __init__(self, settings: ConsoleSettings, subscriptions: list[Subscription]) -> None:
        self._settings = settings
        # Writers (the consumers) and readers (pages) have pools of their own: a backlog being
        # handled never keeps a page waiting for a connection.
        self.writer: AsyncEngine = create_engine(settings.database_url, pool_size=WRITERS)
        self.engine: AsyncEngine = create_engine(settings.database_url, pool_size=3)
        # The console declares no stream (the services own them): its consumers wait for them.
        self.link = console_link(settings)
        self.replicas = Replicas()
        self.dashboard: Recent[dict[str, Any]] = Recent(fresh=1.5)
        self._subscriptions = [*subscriptions, (self.replicas.subject, self.replicas.on_heartbeat)]
        self._tasks = TaskGroup()
        self._streams: tuple[float, Streams] | None = None
        self._asking = asyncio.Lock()  # one question to JetStream at a time

    async def start(self) -> None:
        if self.writer.dialect.name == "postgresql":
            driver.self_check()  # its handled-event claims go straight to asyncpg
        if self._settings.migrate_on_start:
            await migrate(self._settings.database_url)
        self._tasks.spawn("nats", self._follow())
        self._tasks.spawn("pruning", repeat("pruning the read model", self._prune, 60.0))

    async def stop(self) -> None:
        await self._tasks.stop()
        await self.link.close()
        await self.writer.dispose()
        await self.engine.dispose()

    async def streams(self) -> Streams | None:
        """Consumer lag and dead letters, asked of JetStream at most every 2 s; None while
        NATS is away."""
        async with self._asking:  # viewers arriving together share one answer
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
        # Events handled before the tables exist would fail, again and again, and be set
        # aside: the consumers wait for `omni-console migrate` (or a start that migrates).
        await _schema_ready(self.writer)
        for consumer in Recorder(self.writer, self.link).consumers():
            self._tasks.spawn(f"read model {consumer}", consumer.run())

    async def _prune(self) -> None:
        await prune(self.writer, processed, "processed_at", PROCESSED_KEPT)
        await prune(self.writer, sales_by_minute, "minute", MINUTES_KEPT)
        for table, stamp in KEPT_FOR_TIMELINES:
            await prune(self.writer, table, stamp, TIMELINES_KEPT)


def console_link(settings: ConsoleSettings) -> NatsLink:
    """The console's NATS connection, as its own user. It declares no stream (the services
    own them): its consumers wait for them."""
    return NatsLink(
        settings.nats_url,
        "console",
        [],
        1,
        tls=settings.nats_tls(),
        login=settings.nats_login(),
    )


async def migrate(url: str) -> None:
    await migrations.upgrade(url, MIGRATIONS)


async def _schema_ready(engine: AsyncEngine) -> None:
    """Returns once the database's schema is this code's, or a newer one (a replica of the
    previous release restarting after the next release migrated)."""
    scripts = ScriptDirectory.from_config(migrations.config(MIGRATIONS))
    head = scripts.get_current_head()
    said = False
    while True:
        try:
            async with engine.connect() as conn:
                found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            if found and _at_least(scripts, str(found[0][0]), head):
                return
        except Exception as exc:  # no table yet, or the database is away: look again
            reraise_if_cancelled(exc)
        if not said:
            log.warning("read model: database not at schema %s: run `omni-console migrate`", head)
            said = True
        await asyncio.sleep(SCHEMA_POLL_SECONDS)


def _at_least(scripts: ScriptDirectory, current: str, head: str | None) -> bool:
    """`current` is `head`, or a revision this code does not know (a later release's)."""
    if current == head:
        return True
    try:
        scripts.get_revision(current)
    except Exception:  # unknown here: written by a newer release
        return True
    return False
