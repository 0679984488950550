"""Transactional outbox: events saved with the change, relayed to JetStream after commit."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Insert, Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform.clock import utcnow
from omni.platform.db import one_of, write_transaction
from omni.platform.driver import run
from omni.platform.origin import Origin
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)
_now = time.monotonic


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
    await run(
        conn,
        _inserting(outbox),
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


@functools.cache
def _inserting(outbox: Table) -> Insert:
    """Built once per table: SQLAlchemy reuses its compiled form."""
    return insert(outbox)


class OutboxRelay:
    """Publishes saved events and deletes them once JetStream has acknowledged them.

    The fast path: right after a commit, the unit of work hands over the events it saved, and
    the relay publishes them from memory (no re-reading). The table is the safety net: it is
    scanned at start, every `poll_interval`, after a failure and after NATS reconnects, for
    whatever is left (a crash, NATS down, another replica's rows). A row may so be published
    twice; JetStream drops the second copy by its `Nats-Msg-Id`, so nothing is doubled.

    Rows of acknowledged events are deleted together, every `delete_interval` (or every
    `batch_size` events): one DELETE per publish cost a busy stock replica about 4% of its
    Reserve throughput. Until then they still count as pending, and the table is never
    scanned before they are gone, so they are not sent again.
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
        delete_interval: float = 0.1,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publish = publish
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._max_handed = max_handed
        self._delete_interval = delete_interval
        self._handed: list[OutboxMessage] = []
        self._acked: list[str] = []  # published, rows not yet deleted
        self._acked_since = 0.0
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
            try:
                await self._relay_pending()
                backoff = 0.1
                timeout = self._poll_interval
                if self._acked:
                    due = self._acked_since + self._delete_interval - _now()
                    timeout = min(timeout, max(0.0, due))
            except Exception as exc:  # NATS or database down: the rows stay for a rescan.
                reraise_if_cancelled(exc)
                log.warning("outbox relay paused: %s", exc)
                self._handed.clear()
                self._scan = True
                timeout, backoff = backoff, min(backoff * 2, self._max_backoff)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                # A quiet spell: look in the table (unless this was the wait for the deletes).
                self._scan = self._scan or not self._acked
            self._wake.clear()

    async def _relay_pending(self) -> None:
        if self._scan:
            self._scan = False
            # A partial batch means the table is caught up; newer rows are in the fast path.
            while await self.relay_once() == self._batch_size:
                pass
        while self._handed:
            batch, self._handed = self._handed[: self._batch_size], self._handed[self._batch_size :]
            await self._publish(batch)
            self._note_acked(batch)
        if len(self._acked) >= self._batch_size or (
            self._acked and _now() >= self._acked_since + self._delete_interval
        ):
            await self._delete_acked()

    async def relay_once(self) -> int:
        """Publishes one batch of events found in the table; returns how many."""
        await self._delete_acked()  # else the scan would find them and send them again
        async with self._engine.connect() as conn:
            query = select(self._outbox).order_by(self._outbox.c.seq).limit(self._batch_size)
            rows = (await conn.execute(query)).all()
            await conn.rollback()
        messages = [
            OutboxMessage(r.event_id, r.subject, r.payload, r.request_id or "", r.traceparent or "")
            for r in rows
        ]
        if messages:
            await self._publish(messages)
            self._note_acked(messages)
            await self._delete_acked()
        return len(rows)

    def _note_acked(self, messages: Sequence[OutboxMessage]) -> None:
        if not self._acked:
            self._acked_since = _now()
        self._acked.extend(m.event_id for m in messages)

    async def _delete_acked(self) -> None:
        """Deletes the rows of acknowledged events; on failure they wait for the next try."""
        ids, self._acked = self._acked, []
        if not ids:
            return
        try:
            async with write_transaction(self._engine) as conn:
                matching = one_of(conn.dialect, self._outbox.c.event_id, ids)
                await conn.execute(delete(self._outbox).where(matching))
        except BaseException:
            self._acked = ids + self._acked
            raise

    async def pending(self) -> int:
        """How many events wait to be published (the outbox lag), counting for up to
        `delete_interval` those just published."""
        async with self._engine.connect() as conn:
            count = await conn.execute(select(func.count()).select_from(self._outbox))
            return int(count.scalar_one())
