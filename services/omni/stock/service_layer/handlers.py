"""One handler per stock command, each one transaction: load and lock, decide, save, commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from omni.platform.auth import current_caller
from omni.platform.errors import AlreadyExists, NotFound
from omni.platform.unit_of_work import in_transaction
from omni.platform.validation import listed
from omni.stock.domain import book as ops
from omni.stock.domain import commands
from omni.stock.domain.channels import ChannelView
from omni.stock.domain.events import (
    AllocationRejected,
    ChannelViewChanged,
    LocationChanged,
)
from omni.stock.domain.model import Location, MovementKind, Reservation, StockLevel
from omni.stock.service_layer import idempotency
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork


async def create_location(uow: UnitOfWork, cmd: commands.CreateLocation) -> Location:
    return await _save_location(uow, cmd.location, create=True)


async def update_location(uow: UnitOfWork, cmd: commands.UpdateLocation) -> Location:
    return await _save_location(uow, cmd.location, create=False)


@in_transaction
async def _save_location(tx: Transaction, location: Location, *, create: bool) -> Location:
    if create and not await tx.repo.add_location(location):
        raise AlreadyExists(f"location {location.id} already exists")
    if not create and not await tx.repo.update_location(location):
        raise NotFound(f"location {location.id} does not exist")
    tx.record(LocationChanged(location))
    return location


@in_transaction
async def set_channel_view(tx: Transaction, cmd: commands.SetChannelView) -> ChannelView:
    await tx.repo.set_channel_view(cmd.view)
    tx.record(ChannelViewChanged(cmd.view))
    return cmd.view


async def receive_stock(uow: UnitOfWork, cmd: commands.ReceiveStock) -> StockLevel:
    def receive(book: ops.LevelBook) -> None:
        book.apply(
            cmd.sku,
            cmd.location_id,
            MovementKind.RECEIPT,
            on_hand=cmd.quantity,
            reference=cmd.reference,
            actor=cmd.actor,
        )

    return await _change_level(uow, "receive", cmd, receive)


async def adjust_stock(uow: UnitOfWork, cmd: commands.AdjustStock) -> StockLevel:
    def adjust(book: ops.LevelBook) -> None:
        book.apply(
            cmd.sku,
            cmd.location_id,
            MovementKind.ADJUSTMENT,
            on_hand=cmd.delta,
            reference=cmd.reason,
            actor=cmd.actor,
        )

    return await _change_level(uow, "adjust", cmd, adjust)


async def set_safety_stock(uow: UnitOfWork, cmd: commands.SetSafetyStock) -> StockLevel:
    def set_safety(book: ops.LevelBook) -> None:
        delta = cmd.safety_stock - book.level(cmd.sku, cmd.location_id).safety_stock
        if delta:
            book.apply(
                cmd.sku,
                cmd.location_id,
                MovementKind.ADJUSTMENT,
                safety_stock=delta,
                reference="safety stock",
                actor=cmd.actor,
            )

    return await _change_level(uow, "safety", cmd, set_safety)


@in_transaction
async def _change_level(
    tx: Transaction,
    operation: str,
    cmd: commands.ReceiveStock | commands.AdjustStock | commands.SetSafetyStock,
    change: Callable[[ops.LevelBook], None],
) -> StockLevel:
    """Locks one level (creating it at zero), applies `change`, answers the new level."""
    current_caller().require_store(cmd.location_id)
    key = getattr(cmd, "idempotency_key", "")
    if key:
        [answer] = await idempotency.claim(
            tx.conn, operation, [(key, idempotency.request_hash(cmd))]
        )
        if isinstance(answer, Exception):
            raise answer
        if answer.stored is not None:
            return StockLevel(**answer.stored)
    await require_locations(tx, {cmd.location_id})
    await tx.repo.ensure_levels([(cmd.sku, cmd.location_id)])
    book = ops.LevelBook(await tx.repo.lock_levels([(cmd.sku, cmd.location_id)]))
    change(book)
    await tx.save_book(book)
    level = book.level(cmd.sku, cmd.location_id)
    if key:
        await idempotency.store(tx.conn, {idempotency.scoped(operation, key): asdict(level)})
    return level


@in_transaction
async def restock(tx: Transaction, cmd: commands.Restock) -> list[StockLevel]:
    """Returned units back on hand (or counted damaged) at a location, once per key."""
    [answer] = await idempotency.claim(
        tx.conn, "restock", [(cmd.idempotency_key, idempotency.request_hash(cmd))]
    )
    if isinstance(answer, Exception):
        raise answer
    if answer.stored is not None:
        return [StockLevel(**level) for level in answer.stored["levels"]]
    await require_locations(tx, {cmd.location_id})
    keys = [(sku, cmd.location_id) for sku, _, _ in cmd.lines]
    await tx.repo.ensure_levels(keys)
    book = ops.LevelBook(await tx.repo.lock_levels(keys))
    for sku, qty, damaged in cmd.lines:
        kind = MovementKind.DAMAGE if damaged else MovementKind.RESTOCK
        delta = {"damaged": qty} if damaged else {"on_hand": qty}
        book.apply(sku, cmd.location_id, kind, reference=cmd.reference, actor=cmd.actor, **delta)
    await tx.save_book(book)
    levels = book.changed_levels()
    stored = {"levels": [asdict(level) for level in levels]}
    await idempotency.store(tx.conn, {answer.key: stored})
    return levels


async def release(uow: UnitOfWork, cmd: commands.Release) -> Reservation:
    def give_back(book: ops.LevelBook, res: Reservation) -> None:
        requested = ops.merge_lines(cmd.lines) if cmd.lines is not None else None
        ops.release(book, res, requested)  # nothing, if it holds nothing any more

    return await _settle(uow, "release", cmd, give_back)


async def commit(uow: UnitOfWork, cmd: commands.Commit) -> Reservation:
    def hand_over(book: ops.LevelBook, res: Reservation) -> None:
        ops.commit(book, res, ops.merge_lines(cmd.lines) if cmd.lines is not None else None)

    return await _settle(uow, "commit", cmd, hand_over)


async def write_off(uow: UnitOfWork, cmd: commands.WriteOff) -> Reservation:
    def correct(book: ops.LevelBook, res: Reservation) -> None:
        ops.write_off(book, res, ops.merge_lines(cmd.lines), cmd.actor)

    return await _settle(uow, "write_off", cmd, correct)


@in_transaction
async def _settle(
    tx: Transaction,
    operation: str,
    cmd: commands.Release | commands.Commit | commands.WriteOff,
    change: Callable[[ops.LevelBook, Reservation], None],
) -> Reservation:
    """Locks a reservation and its levels, applies `change` once per idempotency key."""
    key = cmd.idempotency_key
    if key:
        [answer] = await idempotency.claim(
            tx.conn, operation, [(key, idempotency.request_hash(cmd))]
        )
        if isinstance(answer, Exception):
            raise answer
        if answer.stored is not None:  # done before: answer as it is now
            res = (await _lock_reservation(tx, cmd.reservation_id))[0]
            _require_at_store(res, cmd.lines)
            return res
    res, book = await _lock_reservation(tx, cmd.reservation_id)
    _require_at_store(res, cmd.lines)
    change(book, res)
    if book.events:  # the reservation changed (a release of nothing changes nothing)
        await tx.repo.save_reservation(res)
        await tx.save_book(book)
    if key:
        scoped = idempotency.scoped(operation, key)
        await idempotency.store(tx.conn, {scoped: {"reservation_id": res.id}})
    return res


@in_transaction
async def reject_allocation(tx: Transaction, reference: str, key: str, reason: str) -> None:
    """Announces an allocation refused outright (no short lines, a reason)."""
    tx.record(AllocationRejected(reference, key, [], reason))


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
    tx: Transaction, reservation_id: str
) -> tuple[Reservation, ops.LevelBook]:
    found = await tx.repo.get_reservations([reservation_id], lock=True)
    if reservation_id not in found:
        raise NotFound(f"reservation {reservation_id} does not exist")
    res = found[reservation_id]
    return res, ops.LevelBook(await tx.repo.lock_levels(_keys([res])))


def _require_at_store(res: Reservation, lines: tuple[tuple[str, str, int], ...] | None) -> None:
    """Store-bound staff settle only units held at their store: those of the lines named,
    or of every line of the reservation."""
    if lines is None:
        current_caller().require_stores(line.location_id for line in res.lines)
    else:
        current_caller().require_stores(loc for _, loc, _ in lines)


def _keys(items: list[Reservation]) -> set[ops.Key]:
    return {(line.sku, line.location_id) for r in items for line in r.lines}
