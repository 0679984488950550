"""Transactional outbox: events saved with the change, relayed to JetStream after commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import write_transaction
from omni.platform.origin import Origin
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One event to publish: its id is also its `Nats-Msg-Id`, so resends are dropped."""

    event_id: str
    subject: str
    payload: bytes
    # Where it came from (omni.platform.origin), sent as headers.
    request_id: str = ""
    traceparent: str = ""


# While a unit of work is open: where each of its events came from (by object id), for the
# events of a batch, which serves many requests at once. Outside a batch, the origin is simply
# the work running (omni.platform.origin.current).
ORIGINS: ContextVar[dict[int, Origin] | None] = ContextVar("omni_event_origins", default=None)


def attribute(events: Sequence[object], origin: Origin) -> None:
    """Marks `events` (just raised, in an open unit of work) as caused by `origin`."""
    origins = ORIGINS.get()
    if origins is not None and origin != Origin():
        for event in events:
            origins.setdefault(id(event), origin)


Publish = Callable[[Sequence[OutboxMessage]], Awaitable[None]]


async def save(conn: AsyncConnection, outbox: Table, messages: Sequence[OutboxMessage]) -> None:
    """Writes messages in the caller's transaction; they are published only if it commits."""
    if not messages:
        return
    now = utcnow()
    await conn.execute(
        insert(outbox),
        [
            {
                "event_id": m.event_id,
                "subject": m.subject,
                "payload": m.payload,
                "request_id": m.request_id or None,
                "traceparent": m.traceparent or None,
                "created_at": now,
            }
            for m in messages
        ],
    )


class OutboxRelay:
    """Publishes saved events and deletes them once JetStream has acknowledged them.

    The fast path: right after a commit, the unit of work hands over the events it saved, and
    the relay publishes them from memory (no re-reading). The table is the safety net: it is
    scanned at start, every `poll_interval`, after a failure and after NATS reconnects, for
    whatever is left (a crash, NATS down, another replica's rows). A row may so be published
    twice; JetStream drops the second copy by its `Nats-Msg-Id`, so nothing is doubled.
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
        max_handed: int = 10_000,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publish = publish
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._max_handed = max_handed
        self._handed: list[OutboxMessage] = []
        self._scan = True
        self._wake = asyncio.Event()

    def hand_over(self, messages: Sequence[OutboxMessage]) -> None:
        """Events just committed: publish them now."""
        if len(self._handed) < self._max_handed:  # beyond: the table scan will find them
            self._handed.extend(messages)
        else:
            self._scan = True
        self._wake.set()

    def scan_soon(self) -> None:
        """Look in the table now (e.g. NATS is back)."""
        self._scan = True
        self._wake.set()

    async def run(self) -> None:
        """Relays until cancelled; publishing failures back off and retry, never drop."""
        backoff = 0.1
        while True:
            timeout = self._poll_interval
            try:
                await self._relay_pending()
                backoff = 0.1
            except Exception as exc:  # NATS or database down: the rows stay for a rescan.
                reraise_if_cancelled(exc)
                log.warning("outbox relay paused: %s", exc)
                self._handed.clear()
                self._scan = True
                timeout, backoff = backoff, min(backoff * 2, self._max_backoff)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                self._scan = True
            self._wake.clear()

    async def _relay_pending(self) -> None:
        if self._scan:
            self._scan = False
            # A partial batch means the table is caught up; newer rows are in the fast path.
            while await self.relay_once() == self._batch_size:
                pass
        while self._handed:
            batch, self._handed = self._handed[: self._batch_size], self._handed[self._batch_size :]
            await self._publish_and_delete(batch)

    async def relay_once(self) -> int:
        """Publishes one batch of events found in the table; returns how many."""
        async with self._engine.connect() as conn:
            query = select(self._outbox).order_by(self._outbox.c.seq).limit(self._batch_size)
            rows = (await conn.execute(query)).all()
            await conn.rollback()
        await self._publish_and_delete(
            [
                OutboxMessage(
                    r.event_id, r.subject, r.payload, r.request_id or "", r.traceparent or ""
                )
                for r in rows
            ]
        )
        return len(rows)

    async def _publish_and_delete(self, messages: list[OutboxMessage]) -> None:
        if not messages:
            return
        await self._publish(messages)
        async with write_transaction(self._engine) as conn:
            ids = [m.event_id for m in messages]
            await conn.execute(delete(self._outbox).where(self._outbox.c.event_id.in_(ids)))

    async def pending(self) -> int:
        """How many events wait to be published (the outbox lag)."""
        async with self._engine.connect() as conn:
            count = await conn.execute(select(func.count()).select_from(self._outbox))
            return int(count.scalar_one())
