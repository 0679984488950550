"""The stock service's transactions: a repository, and the level changes turned into events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform import unit_of_work
from omni.platform.idempotency import Keys
from omni.platform.outbox import OutboxMessage
from omni.stock.adapters import tables
from omni.stock.adapters.events import to_outbox
from omni.stock.adapters.repository import StockRepository
from omni.stock.domain.book import Key, LevelBook
from omni.stock.domain.channels import ChannelView
from omni.stock.domain.events import (
    BackorderChanged,
    ChannelViewChanged,
    Event,
    LocationChanged,
    ReservationChanged,
    StockLevelChanged,
)
from omni.stock.domain.model import Location, Reservation, ReservationStatus
from omni.stock.domain.purchasing import PurchaseOrder
from omni.stock.domain.transfers import Transfer, TransferStatus

keys = Keys(tables.idempotency_keys)
ENDED = (ReservationStatus.RELEASED, ReservationStatus.EXPIRED)


def _given_up(reservation: Reservation, location_id: str) -> bool:
    """Whether an allocation gave up the place it took at a location: nothing of it there is
    held, waited for or shipped; for a transfer's origin (no line there), it ended (a
    transfer that shipped kept its place already)."""
    here = [line for line in reservation.lines if line.location_id == location_id]
    if not here:
        return reservation.status in ENDED
    return all(line.outstanding == 0 and line.committed == 0 for line in here)


@dataclass
class Transaction:
    conn: AsyncConnection
    repo: StockRepository
    events: list[Event] = field(default_factory=list)

    async def add_purchase_order(self, po: PurchaseOrder, book: LevelBook) -> None:
        """Saves a new purchase order with the levels it made incoming, and its events."""
        await self.repo.add_purchase_order(po)
        await self._saved(po, book)

    async def save_purchase_order(self, po: PurchaseOrder, book: LevelBook) -> None:
        await self.repo.save_purchase_order(po)
        await self._saved(po, book)

    async def add_transfer(self, transfer: Transfer, book: LevelBook) -> None:
        await self.repo.add_transfer(transfer)
        await self._saved(transfer, book)

    async def add_transfers(self, transfers: list[Transfer]) -> None:
        """Saves new transfers and their events (the levels they moved are in a book saved
        by the caller: an allocation's, which made them)."""
        for transfer in transfers:
            await self.repo.add_transfer(transfer)
            self.events.extend(transfer.events)
            transfer.events.clear()

    async def save_transfer(self, transfer: Transfer, book: LevelBook) -> None:
        """Saves a changed transfer, the levels it moved and its events (its reservation at
        the origin is saved by the caller, with the repository). A transfer made for an order
        keeps the place its order took at the origin once it ships, and gives it back if it
        is cancelled (omni.stock.service_layer.allocation.Sourcing)."""
        await self.repo.save_transfer(transfer)
        await self._saved(transfer, book)
        if transfer.for_reservation_id and transfer.status in (
            TransferStatus.IN_TRANSIT,
            TransferStatus.CANCELLED,
        ):
            charges = await self.repo.charges([transfer.for_reservation_id])
            mine = [c for c in charges if c[1] == transfer.origin_id]
            if transfer.status is TransferStatus.CANCELLED:
                await self.give_back(mine)
            else:
                await self.repo.drop_charges(mine)  # the place is used: shipped

    async def _saved(self, aggregate: PurchaseOrder | Transfer, book: LevelBook) -> None:
        await self.save_book(book)
        self.events.extend(aggregate.events)
        aggregate.events.clear()

    # Locations and channel views are plain records, not aggregates: each one saved is
    # announced whole, so that every service's copy of it stays the same.
    async def add_location(self, location: Location) -> bool:
        """False if the id is taken."""
        added = await self.repo.add_location(location)
        if added:
            self.events.append(LocationChanged(location))
        return added

    async def update_location(self, location: Location) -> Location | None:
        """The location as stored now (its capacity and pause kept); None if there is no such
        location."""
        if not await self.repo.update_location(location):
            return None
        return await self._announce(location.id)

    async def set_capacity(self, location_id: str, changes: dict[str, object]) -> Location | None:
        """The location with its new capacity and/or pause; None if there is no such one."""
        if not await self.repo.set_capacity(location_id, changes):
            return None
        return await self._announce(location_id)

    async def _announce(self, location_id: str) -> Location:
        stored = (await self.repo.locations([location_id]))[location_id]
        self.events.append(LocationChanged(stored))
        return stored

    async def set_channel_view(self, view: ChannelView) -> None:
        await self.repo.set_channel_view(view)
        self.events.append(ChannelViewChanged(view))

    async def locked_book(self, keys: Iterable[Key]) -> LevelBook:
        """The levels of `keys`, created at zero where new, locked (in key order)."""
        wanted = set(keys)
        await self.repo.ensure_levels(wanted)
        return LevelBook(await self.repo.lock_levels(wanted))

    async def save_book(self, book: LevelBook) -> None:
        """Saves changed levels and their ledger rows, and one event per changed level; then
        the reservations' changes the book recorded (the reservations are saved by the
        caller, with the repository), and gives back the places of ship orders given up.
        Locks in this order: levels, presale policies, the locations' days (as allocation)."""
        # Only a reservation that gave up a location (or ended) may have a place to give
        # back: a commit, the common change, costs no read of the charges.
        changed = {
            e.reservation.id: e.reservation
            for e in book.events
            if isinstance(e, ReservationChanged | BackorderChanged)
            and (
                e.reservation.status in ENDED
                or any(_given_up(e.reservation, ln.location_id) for ln in e.reservation.lines)
            )
        }
        await self.repo.save_changes(book.changes, book.changed_levels())
        await self.repo.count_waiting(book.waiting)
        book.waiting.clear()
        for key, movements in book.movements_by_level().items():
            self.events.append(StockLevelChanged(book.snapshot(key), tuple(movements)))
        self.events.extend(book.events)
        book.events.clear()
        if changed:
            charges = await self.repo.charges(list(changed))
            await self.give_back([c for c in charges if _given_up(changed[c[0]], c[1])])

    async def give_back(self, charges: list[tuple[str, str, str]]) -> None:
        """Places ship orders took in their locations' day, given back (their charges gone)."""
        by_day: dict[str, Counter[str]] = {}
        for _, loc, day in charges:
            by_day.setdefault(day, Counter())[loc] += 1
        for day, given in sorted(by_day.items()):
            taken = await self.repo.lock_load(given, day)
            await self.repo.save_load(
                day, {loc: max(0, taken[loc] - n) for loc, n in given.items()}
            )
        await self.repo.drop_charges(charges)


class UnitOfWork(unit_of_work.UnitOfWork[Transaction, StockRepository]):
    def __init__(
        self,
        engine: AsyncEngine,
        on_commit: Callable[[Sequence[OutboxMessage]], None] = lambda _messages: None,
    ) -> None:
        super().__init__(
            engine,
            tables.outbox,
            begin=lambda conn: Transaction(conn, StockRepository(conn)),
            read=StockRepository,
            to_outbox=to_outbox,
            on_commit=on_commit,
        )
