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
from omni.stock.domain.transfers import TransferStatus

DONE = [
    s.value
    for s in (ReservationStatus.COMMITTED, ReservationStatus.RELEASED, ReservationStatus.EXPIRED)
]
# A transfer still moving needs its hold, and the reservation waiting for its units.
MOVING = [
    s.value
    for s in TransferStatus
    if s not in (TransferStatus.RECEIVED, TransferStatus.CANCELLED, TransferStatus.CLOSED)
]


async def purge_reservations(engine: AsyncEngine, before: datetime, chunk: int = 500) -> int:
    """Deletes finished reservations last changed before `before`, a chunk per short
    transaction; how many went."""
    needed = exists().where(
        transfers.c.status.in_(MOVING),
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
        if len(ids) < chunk:
            return removed
