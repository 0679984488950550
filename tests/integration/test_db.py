"""omni.platform.db.run: prebuilt statements, straight on asyncpg on PostgreSQL, must behave
as conn.execute does: inside the transaction, with the same errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import (
    UTCDateTime,
    create_engine,
    insert_ignoring_conflicts,
    is_connection_error,
    is_retryable,
    run,
    write_transaction,
)

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
