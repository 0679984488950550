"""Pruning of bookkeeping tables (idempotency keys, processed event ids) past their retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import Table, delete, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import write_transaction


async def prune(
    engine: AsyncEngine, table: Table, stamp: str, keep: timedelta, chunk: int = 1000
) -> int:
    """Deletes rows whose `stamp` column is older than `keep`, a chunk per (short) transaction,
    so that pruning never holds locks writers wait on; returns how many rows went. Each chunk
    is found through the index on `stamp`; and one replica at a time prunes a table (the
    others, finding it taken, leave it to that one until their next round)."""
    cutoff = utcnow() - keep
    key = tuple_(*table.primary_key.columns)
    oldest = select(*table.primary_key.columns).where(table.c[stamp] < cutoff).limit(chunk)
    removed = 0
    async with alone(engine, f"omni prune {table.name}") as mine:
        while mine:
            async with write_transaction(engine) as conn:
                count = (await conn.execute(delete(table).where(key.in_(oldest)))).rowcount
            removed += count
            if count < chunk:
                break
    return removed


@asynccontextmanager
async def alone(engine: AsyncEngine, work: str) -> AsyncIterator[bool]:
    """Whether this replica may do `work` now: on PostgreSQL, while it holds an advisory lock
    named by `work` (held by a connection of its own, released when done or when that
    connection dies); SQLite has one process, so always."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        name = {"name": work}
        taken = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(hashtext(:name))"), name))
        await conn.commit()  # no transaction left open beside the work
        try:
            yield taken
        finally:
            if taken:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), name)
                    await conn.commit()
                except BaseException:
                    # Never back to the pool still holding the lock (no replica would do the
                    # work again): a connection closed lets the lock go.
                    await conn.invalidate()
                    raise
