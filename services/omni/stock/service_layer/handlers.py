"""One handler per stock command, each one transaction: load and lock, decide, save, commit."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict
from datetime import datetime
from typing import TypeVar

from omni.platform.auth import current_caller
from omni.platform.clock import utcnow
from omni.platform.errors import AlreadyExists, FailedPrecondition, NotFound
from omni.platform.idempotency import Saved, once
from omni.platform.unit_of_work import in_transaction
from omni.platform.validation import listed
from omni.stock.domain import book as ops
from omni.stock.domain import commands
from omni.stock.domain.channels import ChannelView
from omni.stock.domain.model import (
    Location,
    MovementKind,
    Reservation,
    StockLevel,
)
from omni.stock.domain.transfers import Transfer, TransferStatus, is_transfer_hold
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork, keys

Cmd = TypeVar("Cmd")
Settle = TypeVar("Settle", commands.Release, commands.Commit, commands.WriteOff)


async def create_location(uow: UnitOfWork, cmd: commands.CreateLocation) -> Location:
    return await _save_location(uow, cmd.location, create=True)


async def update_location(uow: UnitOfWork, cmd: commands.UpdateLocation) -> Location:
    return await _save_location(uow, cmd.location, create=False)


@in_transaction
async def _save_location(tx: Transaction, location: Location, *, create: bool) -> Location:
    if create:
        if not await tx.add_location(location):
            raise AlreadyExists(f"location {location.id} already exists")
        return location
    stored = await tx.update_location(location)
    if stored is None:
        raise NotFound(f"location {location.id} does not exist")
    return stored


async def set_location_capacity(
    uow: UnitOfWork, cmd: commands.SetLocationCapacity
) -> tuple[Location, int]:
    """The location with its new capacity and/or pause, and the ship orders it took today."""
    current_caller().require_store(cmd.location_id)  # a store's manager: their own store
    return await _set_capacity(uow, cmd)


@in_transaction
async def _set_capacity(tx: Transaction, cmd: commands.SetLocationCapacity) -> tuple[Location, int]:
    changes: dict[str, object] = {}
    if cmd.daily_capacity != commands.UNCHANGED:
        changes["daily_capacity"] = cmd.daily_capacity
    if cmd.paused is not None:
        changes["paused"] = cmd.paused
    stored = await tx.set_capacity(cmd.location_id, changes)
    if stored is None:
        raise NotFound(f"location {cmd.location_id} does not exist")
    taken = await tx.repo.load_today(utcnow().date().isoformat())
    return stored, taken.get(stored.id, 0)


@in_transaction
async def set_channel_view(tx: Transaction, cmd: commands.SetChannelView) -> ChannelView:
    await tx.set_channel_view(cmd.view)
    return cmd.view


async def _level_again(tx: Transaction, cmd: Cmd, saved: Saved) -> StockLevel:
    return StockLevel.restored(saved)


def _levels_saved(levels: list[StockLevel]) -> Saved:
    return {"levels": [asdict(level) for level in levels]}


async def _levels_again(tx: Transaction, cmd: Cmd, saved: Saved) -> list[StockLevel]:
    return [StockLevel.restored(level) for level in saved["levels"]]


async def _reservation_again(tx: Transaction, cmd: Settle, saved: Saved) -> Reservation:
    """Settled before: the reservation as it is now."""
    res = (await _lock_reservation(tx, cmd.reservation_id))[0]
    _require_at_store(res, cmd.lines)
    return res


def _reservation_saved(res: Reservation) -> Saved:
    return {"reservation_id": res.id}


async def receive_stock(uow: UnitOfWork, cmd: commands.ReceiveStock) -> StockLevel:
    current_caller().require_store(cmd.location_id)
    return await _receive(uow, cmd)


@in_transaction
@once(keys, "receive", saved=asdict, replay=_level_again)
async def _receive(tx: Transaction, cmd: commands.ReceiveStock) -> StockLevel:
    move = {"on_hand": cmd.quantity, "reference": cmd.reference, "actor": cmd.actor}
    return await _change_level(tx, cmd.sku, cmd.location_id, MovementKind.RECEIPT, move)


async def adjust_stock(uow: UnitOfWork, cmd: commands.AdjustStock) -> StockLevel:
    current_caller().require_store(cmd.location_id)
    return await _adjust(uow, cmd)


@in_transaction
@once(keys, "adjust", saved=asdict, replay=_level_again)
async def _adjust(tx: Transaction, cmd: commands.AdjustStock) -> StockLevel:
    move = {"on_hand": cmd.delta, "reference": cmd.reason, "actor": cmd.actor}
    return await _change_level(tx, cmd.sku, cmd.location_id, MovementKind.ADJUSTMENT, move)


@in_transaction
@once(keys, "correct", saved=asdict, replay=_level_again)
async def correct_stock(tx: Transaction, cmd: commands.CorrectStock) -> StockLevel:
    """Units no reservation holds that left, or are not there, all the same (from orders)."""
    await require_locations(tx, {cmd.location_id})
    key = (cmd.sku, cmd.location_id)
    book = await tx.locked_book([key])
    note = {"reference": cmd.note, "actor": cmd.actor}
    ops.correct(book, key, cmd.quantity, cmd.reason, note)
    await tx.save_book(book)
    return book.level(*key)


@in_transaction
async def set_safety_stock(tx: Transaction, cmd: commands.SetSafetyStock) -> StockLevel:
    current_caller().require_store(cmd.location_id)

    def delta(level: StockLevel) -> dict[str, object] | None:
        change = cmd.safety_stock - level.safety_stock
        if not change:
            return None  # already so: no movement
        return {"safety_stock": change, "reference": "safety stock", "actor": cmd.actor}

    return await _change_level(tx, cmd.sku, cmd.location_id, MovementKind.ADJUSTMENT, delta)


async def _change_level(
    tx: Transaction,
    sku: str,
    location_id: str,
    kind: MovementKind,
    movement: dict[str, object] | Callable[[StockLevel], dict[str, object] | None],
) -> StockLevel:
    """Locks one level (created at zero if new, at a location that exists), makes one
    movement of it (given, or worked out from the level; none if it changes nothing) and
    answers the level after."""
    await require_locations(tx, {location_id})
    book = await tx.locked_book([(sku, location_id)])
    level = book.level(sku, location_id)
    deltas = movement(level) if callable(movement) else movement
    if deltas is not None:
        book.apply(sku, location_id, kind, **deltas)
    await tx.save_book(book)
    return level


@in_transaction
@once(keys, "restock", saved=_levels_saved, replay=_levels_again)
async def restock(tx: Transaction, cmd: commands.Restock) -> list[StockLevel]:
    """Returned units back on hand (or counted damaged) at a location."""
    await require_locations(tx, {cmd.location_id})
    book = await tx.locked_book((sku, cmd.location_id) for sku, _, _ in cmd.lines)
    for sku, qty, damaged in cmd.lines:
        kind = MovementKind.DAMAGE if damaged else MovementKind.RESTOCK
        delta = {"damaged": qty} if damaged else {"on_hand": qty}
        book.apply(sku, cmd.location_id, kind, reference=cmd.reference, actor=cmd.actor, **delta)
    await tx.save_book(book)
    return book.changed_levels()


@in_transaction
@once(keys, "release", saved=_reservation_saved, replay=_reservation_again)
async def release(tx: Transaction, cmd: commands.Release) -> Reservation:
    """Gives back what the reservation still holds, or the lines named (nothing, if it holds
    nothing any more). Transfers made to bring it units it no longer waits for are cancelled
    if they have not left (locked first, as their own steps lock them)."""
    bringing = await tx.repo.transfers_for(cmd.reservation_id, lock=True)
    bringing = [t for t in bringing if t.status is TransferStatus.READY_TO_SHIP]
    res, book = await _lock_reservation(tx, cmd.reservation_id, _transfer_keys(bringing))
    _require_at_store(res, cmd.lines)
    requested = ops.merge_lines(cmd.lines) if cmd.lines is not None else None
    ops.release(book, res, requested)
    cancelled = await _cancel_unwanted(tx, book, res, bringing)
    saved = await _saved_reservation(tx, res, book)
    for transfer in cancelled:  # after the book: the locks in save_book's order
        await tx.save_transfer(transfer, ops.LevelBook())
    return saved


async def _cancel_unwanted(
    tx: Transaction, book: ops.LevelBook, res: Reservation, bringing: list[Transfer]
) -> list[Transfer]:
    """Cancels the transfers bringing units `res` no longer has coming (their levels in
    `book`; the transfers are the caller's to save)."""
    waits = {line.sku for line in res.lines if line.coming}
    unwanted = [t for t in bringing if not waits & {line.sku for line in t.lines}]
    if not unwanted:
        return []
    holds = await tx.repo.get_reservations([t.reservation_id for t in unwanted], lock=True)
    for transfer in unwanted:
        held = holds[transfer.reservation_id]
        transfer.cancel(book, held, f"its order {res.reference} no longer wants it", utcnow(), res)
        await tx.repo.save_reservation(held)
    return unwanted


def _transfer_keys(moving: list[Transfer]) -> set[ops.Key]:
    ends = [(t, loc) for t in moving for loc in (t.origin_id, t.destination_id)]
    return {(line.sku, loc) for t, loc in ends for line in t.lines}


@in_transaction
@once(keys, "commit", saved=_reservation_saved, replay=_reservation_again)
async def commit(tx: Transaction, cmd: commands.Commit) -> Reservation:
    """Hands over what the reservation holds, or the lines named."""
    res, book = await _lock_reservation(tx, cmd.reservation_id)
    _require_at_store(res, cmd.lines)
    ops.commit(book, res, ops.merge_lines(cmd.lines) if cmd.lines is not None else None)
    return await _saved_reservation(tx, res, book)


@in_transaction
@once(keys, "write_off", saved=_reservation_saved, replay=_reservation_again)
async def write_off(tx: Transaction, cmd: commands.WriteOff) -> Reservation:
    """Held units found missing: written off the level and the reservation."""
    res, book = await _lock_reservation(tx, cmd.reservation_id)
    _require_at_store(res, cmd.lines)
    ops.write_off(book, res, ops.merge_lines(cmd.lines), cmd.actor, cmd.reason)
    return await _saved_reservation(tx, res, book)


async def _saved_reservation(tx: Transaction, res: Reservation, book: ops.LevelBook) -> Reservation:
    if book.events:  # the reservation changed (a release of nothing changes nothing)
        await tx.repo.save_reservation(res)
        await tx.save_book(book)
    return res


@in_transaction
async def reject_allocation(tx: Transaction, reference: str, key: str, reason: str) -> None:
    """Announces an allocation refused outright (no short lines, a reason)."""
    book = ops.LevelBook()
    ops.refuse_allocation(book, reference, key, reason)
    await tx.save_book(book)


@in_transaction
async def expire_due(tx: Transaction, now: datetime, limit: int = 200) -> int:
    """Releases reservations whose time ran out; returns how many. Safe on every replica."""
    ids = await tx.repo.due_reservation_ids(now, limit)
    if not ids:
        return 0
    found = await tx.repo.get_reservations(ids, lock=True, skip_locked=True)
    due = [r for r in found.values() if r.is_due(now)]
    book = ops.LevelBook(await tx.repo.lock_levels(_keys(due)))
    for res in due:
        ops.release(book, res, expired=True)
        await tx.repo.save_reservation(res)
    await tx.save_book(book)
    return len(due)


async def require_locations(tx: Transaction, ids: set[str]) -> dict[str, Location]:
    """The locations, or NotFound naming those that do not exist."""
    found = await tx.repo.locations(ids)
    missing = sorted(ids - found.keys())
    if missing:
        raise NotFound(f"unknown location(s): {listed(missing, quote=False)}")
    return found


async def _lock_reservation(
    tx: Transaction, reservation_id: str, more: Collection[ops.Key] = ()
) -> tuple[Reservation, ops.LevelBook]:
    found = await tx.repo.get_reservations([reservation_id], lock=True)
    if reservation_id not in found:
        raise NotFound(f"reservation {reservation_id} does not exist")
    res = found[reservation_id]
    if is_transfer_hold(res.id):
        raise FailedPrecondition(
            f"reservation {res.id} holds the units of transfer {res.reference}: ship or "
            "cancel the transfer instead"
        )
    return res, ops.LevelBook(await tx.repo.lock_levels(_keys([res]) | set(more)))


def _require_at_store(res: Reservation, lines: tuple[tuple[str, str, int], ...] | None) -> None:
    """Store-bound staff settle only units held at their store: those of the lines named,
    or of every line of the reservation."""
    if lines is None:
        current_caller().require_stores(line.location_id for line in res.lines)
    else:
        current_caller().require_stores(loc for _, loc, _ in lines)


def _keys(items: list[Reservation]) -> set[ops.Key]:
    return {(line.sku, line.location_id) for r in items for line in r.lines}
