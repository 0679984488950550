"""omni.platform.driver.run: prebuilt statements, straight on asyncpg on PostgreSQL, must behave
as conn.execute does: inside the transaction, with the same errors."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import grpc
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import (
    UTCDateTime,
    create_engine,
    is_connection_error,
    is_retryable,
    write_transaction,
)
from omni.platform.driver import insert_ignoring_conflicts, run
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import unique
from tests.helpers.running import running_stock
from tests.helpers.stock import add_location, receive
from tests.integration.test_reservations import reserve_request

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=True),
)
INSERT = insert(items)
BY_COUNT = select(items.c.id, items.c.at).where(items.c.count >= bindparam("least"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def _ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(items.c.id).order_by(items.c.id))).scalars())


async def test_rows_written_as_a_transactions_first_statement_roll_back_with_it(
    engine: AsyncEngine,
) -> None:
    with pytest.raises(RuntimeError):
        async with write_transaction(engine) as conn:
            await run(conn, INSERT, [{"id": "a", "count": 1, "at": None}])
            raise RuntimeError("abandon the transaction")
    assert await _ids(engine) == []
    async with write_transaction(engine) as conn:
        await run(conn, INSERT, [{"id": "b", "count": 2, "at": utcnow()}])
    assert await _ids(engine) == ["b"]


async def test_rows_read_back_are_the_same_on_each_database(engine: AsyncEngine) -> None:
    at = utcnow()
    async with write_transaction(engine) as conn:
        rows = [{"id": f"i{n}", "count": n, "at": at} for n in range(5)]
        await run(conn, INSERT, rows)
        found = await run(conn, BY_COUNT, {"least": 3})
    assert sorted((r["id"], r["at"]) for r in found) == [("i3", at), ("i4", at)]
    async with write_transaction(engine) as conn:
        inserted = await insert_ignoring_conflicts(
            conn,
            items,
            [{"id": "i4", "count": 9, "at": at}, {"id": "i9", "count": 9, "at": at}],
            "id",
        )
    assert inserted == {"i9"}


async def test_a_refused_statement_raises_what_conn_execute_raises(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await run(conn, INSERT, [{"id": "a", "count": 1, "at": None}])
    with pytest.raises(IntegrityError):
        async with write_transaction(engine) as conn:
            await run(conn, INSERT, [{"id": "a", "count": 1, "at": None}])
    assert await _ids(engine) == ["a"]


@pytest.mark.postgres
async def test_a_serialization_failure_is_retryable_as_from_conn_execute(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    fail = text("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
    try:
        with pytest.raises(DBAPIError) as failed:
            async with write_transaction(engine) as conn:
                await run(conn, fail, {})
        assert is_retryable(failed.value)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_connection_lost_mid_transaction_is_a_connection_error_and_not_reused(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        with pytest.raises(DBAPIError) as lost:
            async with write_transaction(engine) as conn:
                await run(conn, INSERT, [{"id": "a", "count": 1, "at": None}])
                await _terminate_other_sessions(postgres_url)
                await run(conn, INSERT, [{"id": "b", "count": 1, "at": None}])
        assert is_connection_error(lost.value)
        async with write_transaction(engine) as conn:  # a fresh connection, not the dead one
            await run(conn, INSERT, [{"id": "c", "count": 1, "at": None}])
        assert await _ids(engine) == ["c"]
    finally:
        await engine.dispose()


async def _terminate_other_sessions(url: str) -> None:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_calls_while_the_database_drops_connections_answer_ok_or_unavailable(
    postgres_url: str, nats_server: EmbeddedNats
) -> None:
    """Every kind of path — batched reservations (straight on asyncpg), a handler's
    transaction, a read — running while PostgreSQL keeps closing the service's connections
    answers OK or UNAVAILABLE (retry), never INTERNAL; and works again once it stops."""
    async with running_stock(postgres_url, nats_server) as stock:
        await add_location(stock.stub, "L1")
        sku = unique("SKU")
        await receive(stock.stub, sku, "L1", 100_000)
        calls: list[Callable[[int], Awaitable[object]]] = [
            lambda n: stock.stub.Reserve(reserve_request(f"k{n}", (sku, "L1", 1)), timeout=10),
            lambda n: stock.stub.ReceiveStock(
                pb.ReceiveStockRequest(sku=sku, location_id="L1", quantity=1), timeout=10
            ),
            lambda n: stock.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku]), timeout=10),
            lambda n: stock.stub.ListLevels(pb.ListLevelsRequest(location_id="L1"), timeout=10),
            lambda n: stock.stub.LookupBarcodes(
                pb.LookupBarcodesRequest(codes=["123"]), timeout=10
            ),
        ]
        codes: Counter[grpc.StatusCode] = Counter()
        dropping = True

        async def caller(first: int) -> None:
            n = first
            while dropping:
                n += 1000
                try:
                    await calls[n % len(calls)](n)
                    codes[grpc.StatusCode.OK] += 1
                except grpc.aio.AioRpcError as error:
                    codes[error.code()] += 1

        callers = [asyncio.create_task(caller(i)) for i in range(24)]
        for _ in range(15):
            await asyncio.sleep(0.1)
            await _terminate_other_sessions(postgres_url)
        dropping = False
        await asyncio.gather(*callers)
        assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, codes
        assert codes[grpc.StatusCode.UNAVAILABLE] > 0, "no connection was dropped under a call"
        for n, call in enumerate(calls):
            await call(n)  # each path works again


@pytest.mark.postgres
async def test_a_statement_past_its_timeout_is_an_outage_and_the_connection_is_reused(
    postgres_url: str,
) -> None:
    """A database that stops answering mid-statement (a partition, a frozen server) holds the
    call for `statement_timeout`, not for hours; the connection is cancelled and fine after."""
    engine = create_engine(postgres_url, pool_size=1, statement_timeout=0.5)
    try:
        with pytest.raises((TimeoutError, DBAPIError)) as hung:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_sleep(5)"))
        assert is_connection_error(hung.value)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
