"""Reservations past their use, purged after a retention window: expired, released and
committed ones (with their lines and capacity charges), once nothing still refers to them.
The ledger (movements) keeps what they did: it is the audit trail, and is never purged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform.db import write_transaction
from omni.stock.adapters.tables import capacity_charges, reservation_lines, reservations, transfers
from omni.stock.domain.model import ReservationStatus

DONE = [
    s.value
    for s in (ReservationStatus.COMMITTED, ReservationStatus.RELEASED, ReservationStatus.EXPIRED)
]


async def purge_reservations(
    engine: AsyncEngine, before: datetime, chunk: int = 500, most: int = 20_000
) -> int:
    """Deletes finished reservations last changed before `before` that no transfer names
    (a transfer keeps its hold and the reservation it serves, whatever its step), a chunk
    per short transaction and at most `most` a run (a first run on an old database does
    not flood the write-ahead log); how many went."""
    needed = exists().where(
        or_(
            transfers.c.reservation_id == reservations.c.id,
            transfers.c.for_reservation_id == reservations.c.id,
        ),
    )
    finished = (
        select(reservations.c.id)
        .where(
            and_(
                reservations.c.status.in_(DONE),
                reservations.c.updated_at < before,
                ~needed,
            )
        )
        .limit(chunk)
    )
    removed = 0
    while True:
        async with write_transaction(engine) as conn:
            ids = list((await conn.execute(finished)).scalars())
            if ids:
                await conn.execute(
                    delete(reservation_lines).where(reservation_lines.c.reservation_id.in_(ids))
                )
                await conn.execute(
                    delete(capacity_charges).where(capacity_charges.c.reservation_id.in_(ids))
                )
                await conn.execute(delete(reservations).where(reservations.c.id.in_(ids)))
        removed += len(ids)
        if len(ids) < chunk or removed >= most:
            return removed
