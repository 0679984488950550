"""The real stock service layer on a fresh SQLite database, driven synchronously for Hypothesis."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import uvloop

from omni.platform import migrations
from omni.platform.db import create_engine
from omni.stock.app import MIGRATIONS
from omni.stock.domain.commands import CreateLocation
from omni.stock.domain.model import Location, LocationKind, Movement, Reservation, StockLevel
from omni.stock.service_layer import handlers, queries
from omni.stock.service_layer.allocation import Request
from omni.stock.service_layer.services import StockServices
from omni.stock.service_layer.unit_of_work import UnitOfWork

T = TypeVar("T")
Key = tuple[str, str]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def make_template(folder: Path, locations: Sequence[str]) -> Path:
    """A migrated stock database holding `locations`, copied for every example (migrating
    costs far more than copying)."""

    async def build(path: Path) -> None:
        await migrations.upgrade(sqlite_url(path), MIGRATIONS)
        engine = create_engine(sqlite_url(path))
        try:
            uow = UnitOfWork(engine)
            for loc in locations:
                where = Location(loc, loc, LocationKind.WAREHOUSE, ships=True)
                await handlers.create_location(uow, CreateLocation(where))
        finally:
            await engine.dispose()  # the last connection closed: the WAL is folded into the file

    path = folder / "template.db"
    # A runner of our own: asyncio.run would also reset the thread's event loop (pytest's).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(build(path))
    return path


@dataclass(frozen=True, slots=True)
class State:
    """What the service holds: each level with its availability, network availability per
    SKU, the ledger rows written since the last look (per key), and the reservations."""

    levels: list[tuple[StockLevel, int]]
    network: dict[str, int]
    movements: dict[Key, list[tuple[int, Movement]]]
    reservations: dict[str, Reservation]


class StockUnderTest:
    """The stock service layer as the composition root wires it (unit of work, the reservation
    batcher, handlers, scans, the expiry sweep), without gRPC or NATS, on its own event loop."""

    def __init__(self, template: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="example-", dir=template.parent))
        shutil.copy(template, self.folder / "stock.db")
        self.runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        self.engine = create_engine(sqlite_url(self.folder / "stock.db"))
        self.uow = UnitOfWork(self.engine)
        self.services = StockServices(self.uow)
        self.run(self._start())

    async def _start(self) -> None:
        self.services.start()  # its worker task lives on this runner's loop

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(work)

    def call(self, handler: Callable[[UnitOfWork, Any], Coroutine[Any, Any, T]], command: Any) -> T:
        return self.run(handler(self.uow, command))

    def reserve(self, requests: Sequence[Request]) -> list[Reservation | BaseException]:
        """Submits the requests together, as concurrent callers do: they share batches."""

        async def together() -> list[Reservation | BaseException]:
            calls = [self.services.reserve(r) for r in requests]
            return await asyncio.gather(*calls, return_exceptions=True)

        return self.run(together())

    def sweep(self, now: datetime) -> int:
        """What the expiry task does each interval, at the given time; how many expired."""

        async def expire() -> int:
            total = 0
            while (done := await handlers.expire_due(self.uow, now)) > 0:
                total += done
            return total

        return self.run(expire())

    def state(
        self, skus: list[str], keys: list[Key], after: dict[Key, int], reservation_ids: list[str]
    ) -> State:
        """Everything the checks compare, read after a step; ledger rows after `after`."""

        async def read() -> State:
            seen = await queries.availability(self.uow, skus, [])
            # One reader for the rest: what queries.movements (ListMovements) and
            # GetReservation read, without a connection each.
            async with self.uow.reader() as repo:
                movements = {}
                for sku, loc in keys:
                    rows = await repo.list_movements(sku, loc, after[(sku, loc)], 100_000)
                    movements[(sku, loc)] = [(row_id, movement) for row_id, _, movement in rows]
                found = await repo.get_reservations(reservation_ids) if reservation_ids else {}
            return State(seen.levels, seen.network, movements, found)

        return self.run(read())

    def close(self) -> None:
        async def stop() -> None:
            await self.services.stop()
            await self.engine.dispose()

        try:
            self.run(stop())
        finally:
            self.runner.close()
            shutil.rmtree(self.folder, ignore_errors=True)
