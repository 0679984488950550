"""One write transaction: a repository on it, events gathered and saved to the outbox with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform import outbox
from omni.platform.db import write_transaction
from omni.platform.outbox import OutboxMessage
from omni.stock.adapters import tables
from omni.stock.adapters.events import to_outbox
from omni.stock.adapters.repository import StockRepository
from omni.stock.domain.book import LevelBook
from omni.stock.domain.events import Event, StockLevelChanged


@dataclass
class Transaction:
    conn: AsyncConnection
    repo: StockRepository
    events: list[Event] = field(default_factory=list)

    def record(self, *events: Event) -> None:
        self.events.extend(events)

    async def save_book(self, book: LevelBook) -> None:
        """Saves changed levels and their ledger rows, and one event per changed level."""
        await self.repo.save_changes(book.changes, book.changed_levels())
        for key, movements in book.movements_by_level().items():
            self.events.append(StockLevelChanged(book.snapshot(key), tuple(movements)))


class UnitOfWork:
    """Opens transactions on the stock database; tells the relay after each commit."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_commit: Callable[[Sequence[OutboxMessage]], None] = lambda _messages: None,
    ) -> None:
        self.engine = engine
        self._on_commit = on_commit

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Commits the body's changes and their events together, or neither."""
        async with write_transaction(self.engine) as conn:
            tx = Transaction(conn, StockRepository(conn))
            yield tx
            messages = [to_outbox(e) for e in tx.events]
            await outbox.save(conn, tables.outbox, messages)
        if messages:
            self._on_commit(messages)  # committed: they may be published now

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[StockRepository]:
        """A read-only view (no locks taken)."""
        async with self.engine.connect() as conn:
            yield StockRepository(conn)
            await conn.rollback()
