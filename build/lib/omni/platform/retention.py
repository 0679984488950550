"""Pruning of bookkeeping tables (idempotency keys, processed event ids) past their retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import write_transaction


async def prune(
    engine: AsyncEngine, table: Table, stamp: str, keep: timedelta, chunk: int = 1000
) -> int:
    """Deletes rows whose `stamp` column is older than `keep`, a chunk per (short) transaction,
    so that pruning never holds locks writers wait on; returns how many rows went."""
    cutoff = utcnow() - keep
    key = tuple_(*table.primary_key.columns)
    oldest = select(*table.primary_key.columns).where(table.c[stamp] < cutoff).limit(chunk)
    removed = 0
    while True:
        async with write_transaction(engine) as conn:
            count = (await conn.execute(delete(table).where(key.in_(oldest)))).rowcount
        removed += count
        if count < chunk:
            return removed
