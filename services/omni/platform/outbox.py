"""Transactional outbox: events saved with the change, relayed to JetStream after commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import write_transaction
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One event to publish: its id is also its `Nats-Msg-Id`, so resends are dropped."""

    event_id: str
    subject: str
    payload: bytes


Publish = Callable[[Sequence[OutboxMessage]], Awaitable[None]]


async def save(conn: AsyncConnection, outbox: Table, messages: Sequence[OutboxMessage]) -> None:
    """Writes messages in the caller's transaction; they are published only if it commits."""
    if not messages:
        return
    now = utcnow()
    await conn.execute(
        insert(outbox),
        [
            {"event_id": m.event_id, "subject": m.subject, "payload": m.payload, "created_at": now}
            for m in messages
        ],
    )


class OutboxRelay:
    """Publishes saved events in order and deletes them once JetStream has acknowledged them.

    Woken by `notify()` right after a commit, and polls as a safety net (events written by
    another replica, or left after NATS was down). Several replicas may relay the same row at
    once: JetStream drops the second copy by its `Nats-Msg-Id`, so nothing is doubled.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        publish: Publish,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publish = publish
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.published = 0

    def notify(self) -> None:
        """Tells the relay that new events were committed."""
        self._wake.set()

    async def run(self) -> None:
        """Relays until cancelled; publishing failures back off and retry, never drop."""
        backoff = 0.1
        while True:
            try:
                while await self.relay_once():
                    pass
                backoff = 0.1
                timeout = self._poll_interval
            except Exception as exc:  # NATS or database down: keep the rows, try again later.
                reraise_if_cancelled(exc)
                log.warning("outbox relay paused: %s", exc)
                timeout = backoff
                backoff = min(backoff * 2, self._max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publishes one batch of pending events; returns how many were published."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(self._outbox).order_by(self._outbox.c.seq).limit(self._batch_size)
                )
            ).all()
            await conn.rollback()
        if not rows:
            return 0
        await self._publish([OutboxMessage(r.event_id, r.subject, r.payload) for r in rows])
        async with write_transaction(self._engine) as conn:
            seqs = [r.seq for r in rows]
            await conn.execute(delete(self._outbox).where(self._outbox.c.seq.in_(seqs)))
        self.published += len(rows)
        return len(rows)

    async def pending(self) -> int:
        """How many events wait to be published (the outbox lag)."""
        async with self._engine.connect() as conn:
            count = await conn.execute(select(func.count()).select_from(self._outbox))
            return int(count.scalar_one())
