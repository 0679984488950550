"""The returns service's transactions: a repository, and what the returns touched raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform import unit_of_work
from omni.platform.idempotency import Keys
from omni.platform.outbox import OutboxMessage
from omni.returns.adapters import tables
from omni.returns.adapters.events import to_outbox
from omni.returns.adapters.repository import ReturnsRepository
from omni.returns.domain.events import Event
from omni.returns.domain.model import Return
from omni.returns.domain.outgoing import Command

keys = Keys(tables.idempotency_keys)


@dataclass
class Transaction:
    conn: AsyncConnection
    repo: ReturnsRepository
    events: list[Event | Command] = field(default_factory=list)  # for the outbox, in order

    async def add(self, rma: Return) -> None:
        await self.repo.add(rma)
        self._collect(rma)

    async def save(self, rma: Return) -> None:
        await self.repo.save([rma])
        self._collect(rma)

    def _collect(self, rma: Return) -> None:
        self.events.extend(rma.events)
        self.events.extend(rma.commands)
        rma.events.clear()
        rma.commands.clear()


class UnitOfWork(unit_of_work.UnitOfWork[Transaction, ReturnsRepository]):
    def __init__(
        self,
        engine: AsyncEngine,
        on_commit: Callable[[Sequence[OutboxMessage]], None] = lambda _messages: None,
    ) -> None:
        super().__init__(
            engine,
            tables.outbox,
            begin=lambda conn: Transaction(conn, ReturnsRepository(conn)),
            read=ReturnsRepository,
            to_outbox=to_outbox,
            on_commit=on_commit,
        )
