"""Transfers between locations, each step one transaction with the levels it moves at both
ends (omni.stock.domain.transfers). Locks: the transfer first, then its reservation, then the
order's reservation it was made for (if so), then the levels in key order, as every transfer
step takes them (and a release of that order, which locks its transfers first)."""

from __future__ import annotations

from omni.platform.auth import current_caller
from omni.platform.clock import new_id, utcnow
from omni.platform.errors import NotFound
from omni.platform.idempotency import Saved, once
from omni.platform.unit_of_work import in_transaction
from omni.stock.domain import commands
from omni.stock.domain.book import LevelBook
from omni.stock.domain.model import Reservation
from omni.stock.domain.transfers import HOLD_PREFIX, Transfer, TransferLine
from omni.stock.service_layer.handlers import require_locations
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork, keys


async def create_transfer(uow: UnitOfWork, cmd: commands.CreateTransfer) -> Transfer:
    current_caller().require_store(cmd.origin_id)  # sent by the location it leaves
    return await _create(uow, cmd)


async def _made_before(tx: Transaction, cmd: commands.CreateTransfer, saved: Saved) -> Transfer:
    return await _get(tx, saved["transfer_id"])


@in_transaction
@once(keys, "transfer", saved=lambda t: {"transfer_id": t.id}, replay=_made_before)
async def _create(tx: Transaction, cmd: commands.CreateTransfer) -> Transfer:
    await require_locations(tx, {cmd.origin_id, cmd.destination_id})
    transfer = Transfer.draft(
        id=new_id("trf"),
        origin_id=cmd.origin_id,
        destination_id=cmd.destination_id,
        reference=cmd.reference,
        lines=[TransferLine(sku, qty) for sku, qty in cmd.lines],
        now=utcnow(),
    )
    book = await _origin_levels(tx, transfer) if cmd.ready else LevelBook()
    held = transfer.ready(book, new_id(HOLD_PREFIX), utcnow()) if cmd.ready else None
    if held is not None:
        await tx.repo.add_reservations([held])
    await tx.add_transfer(transfer, book)
    return transfer


@in_transaction
async def ready_transfer(tx: Transaction, transfer_id: str) -> Transfer:
    transfer = await _get(tx, transfer_id, lock=True)
    current_caller().require_store(transfer.origin_id)
    book = await _origin_levels(tx, transfer)
    held = transfer.ready(book, new_id(HOLD_PREFIX), utcnow())
    if held is not None:
        await tx.repo.add_reservations([held])
        await tx.save_transfer(transfer, book)
    return transfer


@in_transaction
async def ship_transfer(tx: Transaction, transfer_id: str) -> Transfer:
    transfer = await _get(tx, transfer_id, lock=True)
    current_caller().require_store(transfer.origin_id)
    held, book = await _held(tx, transfer, both_ends=True)
    if transfer.ship(book, held, utcnow()):
        assert held is not None
        await tx.repo.save_reservation(held)
        await tx.save_transfer(transfer, book)
    return transfer


async def _received_before(
    tx: Transaction, cmd: commands.ReceiveTransfer, saved: Saved
) -> Transfer:
    transfer = await _get(tx, cmd.transfer_id)
    current_caller().require_store(transfer.destination_id)
    return transfer


@in_transaction
@once(keys, "transfer_receive", saved=lambda t: {"transfer_id": t.id}, replay=_received_before)
async def receive_transfer(tx: Transaction, cmd: commands.ReceiveTransfer) -> Transfer:
    transfer = await _get(tx, cmd.transfer_id, lock=True)
    current_caller().require_store(transfer.destination_id)  # received where it arrives
    order = await _order_of(tx, transfer)
    book = await tx.locked_book((sku, transfer.destination_id) for sku, _, _ in cmd.lines)
    transfer.receive(book, cmd.lines, cmd.actor or current_caller().subject, utcnow(), order)
    await _save(tx, transfer, book, order)
    return transfer


@in_transaction
async def cancel_transfer(tx: Transaction, cmd: commands.CancelTransfer) -> Transfer:
    transfer = await _get(tx, cmd.transfer_id, lock=True)
    current_caller().require_store(transfer.origin_id)
    held = await _hold_of(tx, transfer)
    order = await _order_of(tx, transfer)
    book = await tx.locked_book((line.sku, transfer.origin_id) for line in transfer.lines)
    if transfer.cancel(book, held, cmd.reason, utcnow(), order):
        if held is not None:
            await tx.repo.save_reservation(held)
        await _save(tx, transfer, book, order)
    return transfer


@in_transaction
async def close_transfer(tx: Transaction, cmd: commands.CancelTransfer) -> Transfer:
    """What has not arrived will not: given up where it was expected."""
    transfer = await _get(tx, cmd.transfer_id, lock=True)
    current_caller().require_store(transfer.destination_id)
    order = await _order_of(tx, transfer)
    levels = [(line.sku, transfer.destination_id) for line in transfer.lines]
    book = LevelBook(await tx.repo.lock_levels(levels))
    if transfer.close(book, cmd.reason, current_caller().subject, utcnow(), order):
        await _save(tx, transfer, book, order)
    return transfer


async def _hold_of(tx: Transaction, transfer: Transfer) -> Reservation | None:
    """Its reservation at the origin, locked (None before it is ready)."""
    if not transfer.reservation_id:
        return None
    found = await tx.repo.get_reservations([transfer.reservation_id], lock=True)
    return found[transfer.reservation_id]


async def _order_of(tx: Transaction, transfer: Transfer) -> Reservation | None:
    """The order's reservation the transfer was made for, locked; None for any other."""
    if not transfer.for_reservation_id:
        return None
    found = await tx.repo.get_reservations([transfer.for_reservation_id], lock=True)
    return found[transfer.for_reservation_id]


async def _save(
    tx: Transaction, transfer: Transfer, book: LevelBook, order: Reservation | None
) -> None:
    if order is not None:
        await tx.repo.save_reservation(order)
    await tx.save_transfer(transfer, book)


async def _get(tx: Transaction, transfer_id: str, *, lock: bool = False) -> Transfer:
    transfer = await tx.repo.transfer(transfer_id, lock=lock)
    if transfer is None:
        raise NotFound(f"transfer {transfer_id} does not exist")
    return transfer


async def _origin_levels(tx: Transaction, transfer: Transfer) -> LevelBook:
    levels = [(line.sku, transfer.origin_id) for line in transfer.lines]
    return LevelBook(await tx.repo.lock_levels(levels))


async def _held(
    tx: Transaction, transfer: Transfer, *, both_ends: bool
) -> tuple[Reservation | None, LevelBook]:
    """Its reservation at the origin (None before it is ready) and the levels it moves,
    locked: at the origin, and at the destination too when `both_ends`."""
    held = await _hold_of(tx, transfer)
    levels = {(line.sku, transfer.origin_id) for line in transfer.lines}
    if both_ends:
        levels |= {(line.sku, transfer.destination_id) for line in transfer.lines}
    return held, await tx.locked_book(levels)
