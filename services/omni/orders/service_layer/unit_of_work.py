"""The orders service's transactions: a repository, and what the orders touched raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.orders.adapters import tables
from omni.orders.adapters.events import to_outbox
from omni.orders.adapters.repository import OrderRepository
from omni.orders.domain.events import Event
from omni.orders.domain.order import Order
from omni.orders.domain.outgoing import Command
from omni.platform import unit_of_work
from omni.platform.idempotency import Keys
from omni.platform.outbox import OutboxMessage

keys = Keys(tables.idempotency_keys)


@dataclass
class Transaction:
    conn: AsyncConnection
    repo: OrderRepository
    events: list[Event | Command] = field(default_factory=list)  # for the outbox, in order

    async def add(self, new: Sequence[Order]) -> None:
        await self.repo.add(new)
        self._collect(new)

    async def save(self, changed: Sequence[Order]) -> None:
        await self.repo.save(changed)
        self._collect(changed)

    def _collect(self, touched: Sequence[Order]) -> None:
        for order in touched:
            self.events.extend(order.raised)
            order.events.clear()
            order.commands.clear()


class UnitOfWork(unit_of_work.UnitOfWork[Transaction, OrderRepository]):
    def __init__(
        self,
        engine: AsyncEngine,
        on_commit: Callable[[Sequence[OutboxMessage]], None] = lambda _messages: None,
    ) -> None:
        super().__init__(
            engine,
            tables.outbox,
            begin=lambda conn: Transaction(conn, OrderRepository(conn)),
            read=OrderRepository,
            to_outbox=to_outbox,
            on_commit=on_commit,
        )
