"""Platform pieces every service relies on: idempotent consumers, health, reflection, migrations."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Collection, Sequence
from datetime import timedelta
from pathlib import Path

import grpc
import nats
import pytest
from alembic.script import ScriptDirectory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from nats.js.api import DiscardPolicy, StreamConfig
from sqlalchemy import Column, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform import migrations, outbox
from omni.platform.clock import utcnow
from omni.platform.db import create_engine, write_transaction
from omni.platform.grpc_server import LIVENESS
from omni.platform.messaging import JetStreamPublisher, StreamSpec, ensure_streams
from omni.platform.natsserver import EmbeddedNats
from omni.platform.retention import alone, prune
from omni.platform.tables import CREATED_AT_INDEX, PROCESSED_AT_INDEX
from omni.stock.app import MIGRATIONS
from omni.stock.v1 import stock_pb2 as pb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually
from tests.helpers.processes import free_port
from tests.helpers.running import running_stock
from tests.integration.conftest import OUTBOX, PROCESSED


async def test_health_follows_nats_liveness_does_not_and_reflection_lists_the_services(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    async with running_stock(database_url, nats_server) as stock:
        health = health_pb2_grpc.HealthStub(stock.channel)

        async def status(service: str = "") -> int:
            await stock.app.health.refresh()
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            return int(reply.status)

        serving = health_pb2.HealthCheckResponse.SERVING
        await eventually(lambda: _equals(status("omni.stock.v1.StockService"), serving))
        nats_server.stop()
        await eventually(lambda: _equals(status(), health_pb2.HealthCheckResponse.NOT_SERVING))
        assert await status(LIVENESS) == serving  # no restart: the outbox waits for NATS
        nats_server.start()
        await eventually(lambda: _equals(status(), serving), within=10)

        reflection = reflection_pb2_grpc.ServerReflectionStub(stock.channel)
        replies = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = {s.name async for r in replies for s in r.list_services_response.service}
        assert {"omni.stock.v1.StockService", "grpc.health.v1.Health"} <= names


async def test_relaying_many_batches_keeps_one_reply_subscription(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    """Every publish used to open a JetStream context, and with it a reply-inbox subscription
    that was never closed: a busy replica gathered thousands of them."""
    async with running_stock(database_url, nats_server) as stock:
        await stock.stub.CreateLocation(
            pb.CreateLocationRequest(location=pb.Location(id="L1", name="L1", kind=1, ships=True))
        )

        async def relayed_receipt() -> None:
            await stock.stub.ReceiveStock(
                pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=1)
            )
            await eventually(lambda: _equals(stock.app.relay.pending(), 0))

        await relayed_receipt()
        nc = stock.bus
        assert nc is not None
        before = len(nc._subs)  # no public count; the leak was exactly this dict growing
        for _ in range(5):
            await relayed_receipt()
        assert len(nc._subs) == before


async def test_the_relay_deletes_published_rows_together_and_a_scan_never_resends_them(
    platform_engine: AsyncEngine, nats_server: EmbeddedNats
) -> None:
    nc = await nats.connect(nats_server.operator_url)
    js = nc.jetstream()
    await ensure_streams(js, [StreamSpec("RELAYED", ["relayed.>"])], replicas=1)
    forward = JetStreamPublisher(nc)
    sent: list[str] = []

    async def publish(messages: Sequence[outbox.OutboxMessage]) -> None:
        await forward(messages)
        sent.extend(m.event_id for m in messages)

    relay = outbox.OutboxRelay(
        platform_engine,
        OUTBOX,
        publish,
        poll_interval=60,  # no scans but the first, and the one asked for below
        delete_interval=3.0,
    )
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # its first scan (of an empty table) is done
        ids = [f"evt-{n}" for n in range(6)]
        for pair in (ids[0:2], ids[2:4], ids[4:6]):  # three commits, handed over as they land
            messages = [outbox.OutboxMessage(i, "relayed.thing", b"payload") for i in pair]
            async with write_transaction(platform_engine) as conn:
                await outbox.save(conn, OUTBOX, messages)
            relay.hand_over(messages)
        await eventually(lambda: _equals(_count(set(sent)), 6))
        # Published from memory, their rows waiting to be deleted together.
        await asyncio.sleep(0.2)
        assert await relay.pending() == 6
        before = list(sent)
        relay.scan_soon()  # e.g. NATS came back: the rows go first, then the table is read
        await eventually(lambda: _equals(relay.pending(), 0), within=2)
        await asyncio.sleep(0.2)
        assert sent == before  # the scan found nothing to send again
        assert (await js.stream_info("RELAYED")).state.messages == 6
    finally:
        await _stop(task, nc)


async def test_publishing_waits_for_every_ack_and_fails_on_a_refusal(
    nats_server: EmbeddedNats,
) -> None:
    nc = await nats.connect(nats_server.operator_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, [StreamSpec("ACKED", ["acked.>"])], replicas=1)
        publish = JetStreamPublisher(nc, ack_timeout=2)
        batch = [outbox.OutboxMessage(f"evt-{i}", "acked.thing", b"x") for i in range(50)]
        await publish(batch)
        await publish(batch[:10])  # sent again: acknowledged, and dropped as duplicates
        assert (await js.stream_info("ACKED")).state.messages == 50
        started = time.monotonic()
        with pytest.raises(ConnectionError, match="1 of 2 events not acknowledged"):
            await publish([batch[0], outbox.OutboxMessage("evt-x", "no.stream.here", b"x")])
        assert time.monotonic() - started < 1  # refused at once (no responders), no timeout
        await js.add_stream(
            StreamConfig(name="FULL", subjects=["full.>"], max_msgs=1, discard=DiscardPolicy.NEW)
        )
        with pytest.raises(ConnectionError, match="1 of 2 events not acknowledged"):
            await publish([outbox.OutboxMessage(f"full-{i}", "full.thing", b"x") for i in (1, 2)])
    finally:
        await nc.close()


async def _stop(task: asyncio.Task[None], nc: nats.NATS) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await nc.close()


async def _count(items: Collection[str]) -> int:
    return len(items)


async def _equals(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_migrations_run_twice_are_a_no_op(database_url: str) -> None:
    await migrations.upgrade(database_url, MIGRATIONS)
    await migrations.upgrade(database_url, MIGRATIONS)
    engine = create_engine(database_url)
    async with engine.connect() as conn:
        version = (
            await conn.execute(
                select(Column("version_num", String)).select_from(
                    Table("alembic_version", MetaData(), Column("version_num", String))
                )
            )
        ).scalar_one()
    await engine.dispose()
    assert version == ScriptDirectory.from_config(migrations.config(MIGRATIONS)).get_current_head()


async def test_a_call_to_an_unknown_method_is_unimplemented_not_internal(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    async with running_stock(database_url, nats_server) as stock:
        call = stock.channel.unary_unary("/omni.stock.v1.StockService/DoesNotExist")
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(b"")
        assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("body", [b"\xff\xff\xff", b"\x0a\x03a\x00b"], ids=["garbage", "nul"])
async def test_a_malformed_message_to_reflection_or_health_is_invalid_argument(
    tmp_path: Path, nats_server: EmbeddedNats, body: bytes
) -> None:
    """Not only our own methods: a stream of requests (reflection) ends INVALID_ARGUMENT at the
    first malformed message, where its handler would otherwise crash (INTERNAL)."""
    async with running_stock(f"sqlite+aiosqlite:///{tmp_path}/s.db", nats_server) as stock:
        reflect = stock.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        )()
        await reflect.write(body)
        with pytest.raises(grpc.aio.AioRpcError) as reflected:
            await reflect.read()
        check = stock.channel.unary_unary("/grpc.health.v1.Health/Check")
        with pytest.raises(grpc.aio.AioRpcError) as checked:
            await check(body)
    for failure in (reflected, checked):
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("database", ["refusing", "silent"])
async def test_a_database_that_cannot_be_reached_is_unavailable_not_internal(
    nats_server: EmbeddedNats, database: str
) -> None:
    """Nothing listens (refused at once), or something listens and never answers (a
    partition: given up after the connect timeout)."""
    async with contextlib.AsyncExitStack() as stack:
        port = free_port()
        if database == "silent":
            server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", port)
            await stack.enter_async_context(server)
        nowhere = f"postgresql+asyncpg://omni@127.0.0.1:{port}/stock"
        stock = await stack.enter_async_context(
            running_stock(nowhere, nats_server, migrate_on_start=False)
        )
        line = pb.ReserveLine(sku="A", location_id="L1", quantity=1)
        calls = [
            stock.stub.Reserve(pb.ReserveRequest(idempotency_key="k", lines=[line])),
            stock.stub.GetAvailability(pb.GetAvailabilityRequest(skus=["A"])),
            stock.stub.ReceiveStock(pb.ReceiveStockRequest(sku="A", location_id="L1", quantity=1)),
            stock.stub.Release(pb.ReleaseRequest(reservation_id="res_1")),
        ]
        for failure in await asyncio.gather(*calls, return_exceptions=True):
            assert isinstance(failure, grpc.aio.AioRpcError), failure
            assert failure.code() == grpc.StatusCode.UNAVAILABLE, failure.details()
        await stock.app.health.refresh()
        health = health_pb2_grpc.HealthStub(stock.channel)
        reply = await health.Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.parametrize("service", ["stock", "orders", "pickup", "returns"])
async def test_pruning_finds_old_bookkeeping_through_an_index_not_a_scan(
    service: str, new_database: NewDatabase
) -> None:
    """Each service's migrated schema: pruning's query reads a range of an index on the time
    column (a full scan of 326k rows every minute on every replica, before)."""
    url = await new_database(service)
    await migrations.upgrade(url, importlib.import_module(f"omni.{service}.app").MIGRATIONS)
    engine = create_engine(url)
    queries = {
        CREATED_AT_INDEX: "SELECT key FROM idempotency_keys WHERE created_at < :t LIMIT 1000",
        PROCESSED_AT_INDEX: (
            "SELECT consumer, event_id FROM processed_events WHERE processed_at < :t LIMIT 1000"
        ),
    }
    try:
        async with engine.begin() as conn:
            postgres = engine.dialect.name == "postgresql"
            if postgres:  # so small a table would be scanned anyway: ask for the index
                await conn.execute(text("SET LOCAL enable_seqscan = off"))
            for index, query in queries.items():
                explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
                rows = await conn.execute(text(f"{explain} {query}"), {"t": utcnow()})
                plan = " ".join(str(cell) for row in rows for cell in row)
                assert index in plan, (index, plan)  # this index, not the primary key's
    finally:
        await engine.dispose()


async def test_one_replica_at_a_time_prunes_a_table(platform_engine: AsyncEngine) -> None:
    """While another replica prunes processed_events, this one leaves it alone (on
    PostgreSQL; SQLite has one process)."""
    old = utcnow() - timedelta(days=30)
    async with write_transaction(platform_engine) as conn:
        await conn.execute(
            PROCESSED.insert(), [{"consumer": "c", "event_id": "old", "processed_at": old}]
        )
    keep = timedelta(days=8)
    async with alone(platform_engine, "omni prune processed_events") as pruning_elsewhere:
        assert pruning_elsewhere
        expected = 0 if platform_engine.dialect.name == "postgresql" else 1
        assert await prune(platform_engine, PROCESSED, "processed_at", keep) == expected
    assert await prune(platform_engine, PROCESSED, "processed_at", keep) == 1 - expected


async def test_pruning_removes_only_bookkeeping_older_than_its_retention(
    platform_engine: AsyncEngine,
) -> None:
    now = utcnow()
    rows = [
        {"consumer": "c", "event_id": f"e{i}", "processed_at": now - timedelta(days=age)}
        for i, age in enumerate([30, 9, 7, 1])
    ]
    async with write_transaction(platform_engine) as conn:
        await conn.execute(PROCESSED.insert(), rows)
    removed = await prune(platform_engine, PROCESSED, "processed_at", timedelta(days=8), chunk=1)
    async with platform_engine.connect() as conn:
        kept = set((await conn.execute(select(PROCESSED.c.event_id))).scalars())
    assert (removed, kept) == (2, {"e2", "e3"})


async def test_event_streams_are_bounded_in_bytes_and_commands_and_dead_letters_never_cut(
    nats_server: EmbeddedNats,
) -> None:
    """Past its size an event stream drops its oldest events (as past its age); the command
    queue, a stream kept whole (dead letters) and a stream of latest values are never cut
    by size."""
    nc = await nats.connect(nats_server.operator_url)
    js = nc.jetstream()
    events = StreamSpec("SIZED_EVENTS", ["sized.events.>"])
    commands = StreamSpec("SIZED_COMMANDS", ["sized.commands.>"], work_queue=True)
    kept = StreamSpec("SIZED_KEPT", ["sized.kept.>"], keep_all=True)
    latest = StreamSpec("SIZED_LATEST", ["sized.latest.>"], max_msgs_per_subject=1)
    try:
        await ensure_streams(js, [events, commands, kept, latest], replicas=1, max_bytes=16 * 1024)
        body = b"x" * 1024
        for n in range(40):
            for prefix in ("events", "commands", "kept", "latest"):
                await js.publish(f"sized.{prefix}.m{n}", body)
        sized = await js.stream_info("SIZED_EVENTS")
        assert sized.state.bytes <= 16 * 1024 and sized.state.last_seq == 40
        assert sized.state.first_seq > 1  # the oldest went
        for name in ("SIZED_COMMANDS", "SIZED_KEPT", "SIZED_LATEST"):
            assert (await js.stream_info(name)).state.messages == 40, name
    finally:
        await nc.close()


async def test_a_service_declares_its_streams_with_the_configured_size(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    async with running_stock(database_url, nats_server, stream_max_gib=0.5) as stock:
        await stock.app.nats.ready.wait()
        js = stock.bus.jetstream()
        assert (await js.stream_info("STOCK_EVENTS")).config.max_bytes == 2**29
        for name in ("STOCK_AVAILABILITY", "STOCK_COMMANDS", "DEAD_LETTERS"):
            assert (await js.stream_info(name)).config.max_bytes == -1, name
