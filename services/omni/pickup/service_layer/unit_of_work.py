"""The pickup service's transactions: a repository, and what the tasks touched raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.pickup.adapters import tables
from omni.pickup.adapters.events import to_outbox
from omni.pickup.adapters.repository import PickupRepository
from omni.pickup.domain.events import Event
from omni.pickup.domain.model import PickupTask
from omni.pickup.domain.ship import ShipTask
from omni.platform import unit_of_work
from omni.platform.outbox import OutboxMessage


@dataclass
class Transaction:
    conn: AsyncConnection
    repo: PickupRepository
    events: list[Event] = field(default_factory=list)

    async def add(self, task: PickupTask) -> bool:
        added = await self.repo.add(task)
        if added:
            self._collect([task])
        return added

    async def save(self, changed: Sequence[PickupTask]) -> None:
        await self.repo.save(changed)
        self._collect(changed)

    async def add_ship_task(self, task: ShipTask) -> bool:
        added = await self.repo.add_ship_task(task)
        if added:
            self._collect([task])
        return added

    async def save_ship_tasks(self, changed: Sequence[ShipTask]) -> None:
        await self.repo.save_ship_tasks(changed)
        self._collect(changed)

    def _collect(self, touched: Sequence[PickupTask | ShipTask]) -> None:
        for task in touched:
            self.events.extend(task.events)
            task.events.clear()


class UnitOfWork(unit_of_work.UnitOfWork[Transaction, PickupRepository]):
    def __init__(
        self,
        engine: AsyncEngine,
        on_commit: Callable[[Sequence[OutboxMessage]], None] = lambda _messages: None,
    ) -> None:
        super().__init__(
            engine,
            tables.outbox,
            begin=lambda conn: Transaction(conn, PickupRepository(conn)),
            read=PickupRepository,
            to_outbox=to_outbox,
            on_commit=on_commit,
        )
