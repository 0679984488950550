"""What every service replica runs, and its command line: database, NATS, outbox relay,
health, the gRPC server, background work, and a graceful stop on SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol, TypeVar

import grpc
import uvloop
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Table, text

from omni.platform import (
    deadletters,
    driver,
    logs,
    metrics,
    migrations,
    nats_access,
    replicas,
    tracing,
)
from omni.platform.auth import (
    Access,
    Caller,
    Metadata,
    Tokens,
    WatchedFile,
    authorize,
    bearer,
)
from omni.platform.db import create_engine
from omni.platform.errors import Unauthenticated
from omni.platform.grpc_server import (
    DetailFor,
    HealthReporter,
    Limits,
    start_server,
    stop_server,
)
from omni.platform.messaging import NatsLink, StreamSpec
from omni.platform.outbox import OutboxRelay
from omni.platform.retention import prune
from omni.platform.settings import ServiceSettings, read_database_url, read_settings
from omni.platform.signed import KeySet, SignedTokens, follow_jwks, looks_signed
from omni.platform.streams import CONSUMER_FAILURES, DEAD_LETTERS
from omni.platform.tasks import TaskGroup, repeat, reraise_if_cancelled

log = logging.getLogger(__name__)
S = TypeVar("S", bound=ServiceSettings)
S_contra = TypeVar("S_contra", bound=ServiceSettings, contravariant=True)
T = TypeVar("T")


class Service:
    """A service's composition root. Subclasses wire their own parts and fill the hooks."""

    name = ""  # "stock", "orders", ...
    service_names: Sequence[str] = ()  # the gRPC services it serves (for health, reflection)
    migrations = ""  # the Alembic script directory
    streams: Sequence[StreamSpec] = ()  # what it publishes to and consumes from
    access: Access = {}  # the roles allowed to call each of its RPCs

    def __init__(self, settings: ServiceSettings, outbox: Table, bookkeeping: Sequence[Table]):
        self.settings = settings
        self.engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.nats = NatsLink(
            settings.nats_url,
            self.name,
            [*self.streams, DEAD_LETTERS, CONSUMER_FAILURES],
            settings.stream_replicas,
            on_reconnect=self._nats_back,
            tls=settings.nats_tls(),
            dead_letter_after=settings.dead_letter_after,
            login=settings.nats_login(),
            max_bytes=settings.stream_max_bytes(),
            owned=_owned(self.name),
        )
        self.relay = OutboxRelay(
            self.engine, outbox, self.nats.publish, poll_interval=settings.outbox_poll_seconds
        )
        self.health = HealthReporter(
            self.service_names,
            {"database": self._database_ok, "nats": self._nats_ok},
            fail_after=settings.health_fail_after,
        )
        self.tasks = TaskGroup()
        self.tokens = Tokens.parse(settings.auth_tokens)
        # At start, a token or key file that does not parse stops the service.
        self._tokens_file = (
            WatchedFile(settings.auth_tokens_file, Tokens.parse)
            if settings.auth_tokens_file
            else None
        )
        if self._tokens_file is not None:
            self.tokens = self._tokens_file.read()
        self.signed: SignedTokens | None = None
        if settings.auth_jwks_file or settings.auth_jwks_url:
            self.signed = SignedTokens(
                settings.auth_jwt_issuer, settings.auth_jwt_audience, settings.jwt_roles()
            )
        self._keys_file = (
            WatchedFile(settings.auth_jwks_file, KeySet.parse) if settings.auth_jwks_file else None
        )
        if self.signed is not None and self._keys_file is not None:
            self.signed.use(self._keys_file.read())
        self.port = 0
        self.metrics_port = -1
        self.tracer: TracerProvider | None = None
        self._bookkeeping = bookkeeping

    def caller(self, metadata: Metadata) -> Caller:
        """Who calls: a token of the list, else a signed token (if keys are configured)."""
        token = bearer(metadata)
        found = self.tokens.find(token)
        if found is not None:
            return found
        if self.signed is not None and looks_signed(token):
            return self.signed.caller(token)
        raise Unauthenticated("unknown or revoked token")

    async def _reread_tokens(self) -> None:
        assert self._tokens_file is not None
        changed = await _reread(self._tokens_file)
        if changed is not None:
            self.tokens = changed

    async def _reread_keys(self) -> None:
        assert self._keys_file is not None and self.signed is not None
        changed = await _reread(self._keys_file)
        if changed is not None:
            self.signed.use(changed)

    # Hooks
    def register(self, server: grpc.aio.Server) -> None:
        """Adds the service's servicers to the server."""
        raise NotImplementedError

    def detail_for(self) -> DetailFor:
        return lambda _exc: None

    async def on_start(self) -> None:
        """Starts the service's own background work (before the server takes calls)."""

    async def on_nats(self) -> None:
        """Runs once NATS is connected: subscriptions, consumers (may run until cancelled)."""

    def on_nats_back(self) -> None:
        """NATS reconnected after a loss."""

    async def on_stop(self) -> None:
        """Stops the service's own work, after the server has finished its calls."""

    async def sample(self) -> None:
        """Sets the service's own gauges (every few seconds)."""

    # Lifecycle
    async def migrate(self) -> None:
        await migrations.upgrade(self.settings.database_url, self.migrations)

    async def start(self) -> None:
        # The direct asyncpg path leans on SQLAlchemy's internals: stop now if an upgrade broke
        # them (the generic-only gRPC handlers are checked as the server starts).
        if self.engine.dialect.name == "postgresql":
            driver.self_check()
        if self.settings.otlp_endpoint:  # first: the tasks spawned below trace with it
            self.tracer = tracing.start(self.name, self.settings.otlp_endpoint)
            tracing.trace_database(self.engine)
        if self.settings.migrate_on_start:
            await self.migrate()
        await self.on_start()
        self.tasks.spawn("nats", self._connect_nats())
        self.tasks.spawn("outbox relay", self.relay.run())
        self.tasks.spawn("pruning", repeat("pruning bookkeeping", self._prune, 60.0))
        every = self.settings.auth_tokens_check_seconds
        if self._tokens_file is not None:
            self.tasks.spawn("tokens", repeat("reading the token file", self._reread_tokens, every))
        if self._keys_file is not None:
            self.tasks.spawn("keys", repeat("reading the signing keys", self._reread_keys, every))
        if self.signed is not None and self.settings.auth_jwks_url:
            refresh = self.settings.auth_jwks_refresh_seconds
            self.tasks.spawn(
                "keys",
                follow_jwks(self.settings.auth_jwks_url, self.signed, refresh, min(10.0, refresh)),
            )
        if self.settings.metrics_port >= 0:
            self.metrics_port = metrics.serve(self.settings.metrics_port)
            self.tasks.spawn("metrics", repeat("sampling metrics", self._sample, 5.0))
        await self.health.refresh()
        self.tasks.spawn("health", self.health.run())
        self.tasks.spawn("heartbeat", repeat("heartbeat", self._heartbeat, replicas.EVERY_SECONDS))
        self.server, self.port = await start_server(
            host=self.settings.grpc_host,
            port=self.settings.grpc_port,
            register=self.register,
            service_names=self.service_names,
            health=self.health,
            guard=lambda method, metadata: authorize(self.caller, self.access, method, metadata),
            detail_for=self.detail_for(),
            observe=metrics.observer(self.name),
            limits=Limits(
                self.settings.grpc_max_message_bytes,
                self.settings.grpc_max_streams_per_connection,
                self.settings.grpc_max_concurrent_rpcs,
                self.settings.grpc_max_connection_age_seconds,
                self.settings.grpc_max_connection_age_grace_seconds,
            ),
            credentials=self.settings.server_credentials(),
            outer_interceptors=[tracing.server_interceptor(self.tracer)] if self.tracer else [],
        )
        log.info("%s service listening on port %d", self.name, self.port)

    async def stop(self) -> None:
        """Stops taking calls, finishes running ones, then stops background work and NATS."""
        await stop_server(self.server, self.health, self.settings.shutdown_grace_seconds)
        await self.on_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.relay.relay_once(), 2.0)  # flush what just committed
        await self.tasks.stop()
        await self.nats.close()
        await self.engine.dispose()
        if self.tracer is not None:
            await asyncio.to_thread(self.tracer.shutdown)  # sends the spans still buffered

    async def _sample(self) -> None:
        await self.sample()  # the outbox backlog is counted by the heartbeat, once for both

    async def _heartbeat(self) -> None:
        """Counts the events waiting in the outbox (the omni_outbox_pending gauge) and tells
        the operations dashboard this replica is here (omni.platform.replicas)."""
        try:
            outbox = await asyncio.wait_for(self.relay.pending(), 2.0)
            metrics.OUTBOX_PENDING.labels(self.name).set(outbox)
        except Exception as exc:  # the database is away: said as failing, backlog unknown
            reraise_if_cancelled(exc)
            outbox = -1
        if self.nats.connected():
            assert self.nats.nc is not None
            await replicas.announce(self.nats.nc, self.name, self.health.failing, outbox)

    async def _connect_nats(self) -> None:
        await self.nats.run()
        self.relay.scan_soon()
        await self.on_nats()

    def _nats_back(self) -> None:
        self.relay.scan_soon()  # publish what waited, at once
        self.on_nats_back()

    async def _prune(self) -> None:
        keep = timedelta(hours=self.settings.bookkeeping_retention_hours)
        for table in self._bookkeeping:
            column = "processed_at" if "processed_at" in table.c else "created_at"
            await prune(self.engine, table, column, keep)

    async def _database_ok(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def _nats_ok(self) -> bool:
        return self.nats.connected()


async def serve(service: Service) -> None:
    """Runs one replica until SIGTERM or SIGINT, then stops gracefully."""
    await service.start()
    # Everything still alive now (modules, the engine, servers) lives as long as the process:
    # the garbage collector need not walk it again. Its full collections otherwise cost a busy
    # stock replica about 15% of its Reserve throughput and doubled p99 (make bench). Start-up
    # garbage (e.g. from migrations) is collected first, so none of it is kept for good.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: finishing calls in flight")
    await service.stop()


class ServiceType(Protocol[S_contra]):
    """A Service subclass: built from its settings, with its migrations."""

    migrations: str

    def __call__(self, settings: S_contra, /) -> Service: ...


def main(prog: str, settings_type: type[S], build: ServiceType[S]) -> None:
    """`omni-<service> [serve|migrate|dead-letters]`: reads the settings, then serves,
    migrates, or lists and replays the service's dead letters. `migrate` reads only the
    database URL: a migration job needs no other secret."""
    parser = argparse.ArgumentParser(
        prog=prog, description=f"Runs {prog}, migrates its database, or replays dead letters."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve (the default)")
    commands.add_parser("migrate", help="migrate the database, then exit")
    deadletters.add_command(commands)
    args = parser.parse_args()
    if args.command == "migrate":
        logs.configure_from_environment(prog.removeprefix("omni-"))
        uvloop.run(migrations.upgrade(read_database_url(prog, settings_type), build.migrations))
        return
    settings = read_settings(prog, settings_type)
    service = build(settings)
    logs.configure(service.name, settings.log_level, settings.log_format)
    if args.command == "dead-letters":
        # Declared as the services declare it (replicas, size), so the command changes nothing.
        link = NatsLink(
            settings.nats_url,
            service.name,
            [DEAD_LETTERS],
            settings.stream_replicas,
            tls=settings.nats_tls(),
            login=settings.nats_login(),
            max_bytes=settings.stream_max_bytes(),
            owned=_owned(service.name),
        )
        raise SystemExit(uvloop.run(deadletters.command(link, args)))
    uvloop.run(serve(service))


def _owned(service: str) -> set[str] | None:
    """The streams whose configuration `service` sets (None, a service not in the table:
    any it declares)."""
    grant = nats_access.GRANTS.get(service)
    return grant.owned() if grant is not None else None


async def _reread(watched: WatchedFile[T]) -> T | None:
    """A watched file's new content, once it has changed and parses; a file that does not
    parse keeps what is in use (logged), so a bad edit locks nobody out."""
    try:
        changed = await asyncio.to_thread(watched.changed)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.error("%s is not used: %s", watched.path, exc)
        return None
    if changed is not None:
        log.info("read again: %s", watched.path)
    return changed
