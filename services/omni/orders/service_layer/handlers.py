"""Cancelling, shipping, and following pickup and returns, each one transaction: load and
lock the order, change, save."""

from __future__ import annotations

import logging
from collections.abc import Callable

from omni.orders.adapters import tables
from omni.orders.domain import commands
from omni.orders.domain.model import CANCELLABLE, OrderStatus, PickupAt
from omni.orders.domain.order import Order
from omni.orders.service_layer.unit_of_work import Transaction, UnitOfWork
from omni.platform.auth import current_caller
from omni.platform.clock import utcnow
from omni.platform.consumer import once_per_event
from omni.platform.errors import NotFound
from omni.platform.unit_of_work import in_transaction

log = logging.getLogger(__name__)
# Events of pickup and returns this service has applied (their ids are unique).
FOLLOWED = "orders-followed"
# What other services' events ask of an order.
Followed = (
    commands.PickupOutcome
    | commands.PickupShortage
    | commands.UnitsReturned
    | commands.BackorderChanged
    | commands.ShippedByTask
    | commands.RejectedByTask
    | commands.ExchangeWithdrawn
)


async def cancel_order(uow: UnitOfWork, cmd: commands.CancelOrder) -> Order:
    def cancel(order: Order) -> None:
        current_caller().require_stores(_held_at(order))
        order.cancel(cmd.reason, utcnow())

    return await _change(uow, cmd.order_id, cancel)


def _held_at(order: Order) -> set[str]:
    """Where an order is a store's business: its pickup store, and every location still
    holding units of it (none for a ship order not allocated yet)."""
    where = {a.location_id for ln in order.lines for a in ln.allocations if a.unshipped}
    if isinstance(order.fulfilment, PickupAt):
        where.add(order.fulfilment.location_id)
    return where


async def record_shipment(uow: UnitOfWork, cmd: commands.RecordShipment) -> Order:
    current_caller().require_store(cmd.shipment.location_id)  # units leave from there
    return await _change(uow, cmd.order_id, lambda order: order.ship(cmd.shipment, utcnow()))


@in_transaction
async def _change(tx: Transaction, order_id: str, change: Callable[[Order], None]) -> Order:
    """A change of one order, as the domain decides it."""
    order = await _get(tx, order_id, lock=True)
    change(order)
    if order.raised:
        await tx.save([order])
    return order


async def _get(tx: Transaction, order_id: str, *, lock: bool = False) -> Order:
    order = await tx.repo.get(order_id, lock=lock)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order


async def follow(uow: UnitOfWork, change: Followed) -> None:
    """Collected: the units are handed over (stock commits them). Expired: cancelled.
    Shortage: stock writes the units off at the store; they are re-allocated or cancelled.
    Returned (from returns): the units count as returned. Backorder (from stock): units
    filled, cut or re-dated. A ship task's shipment is recorded; its rejection re-routes."""

    def apply(order: Order) -> None:
        now = utcnow()
        match change:
            case commands.PickupShortage():
                order.short_picked(
                    change.store_id, change.sku, change.missing, change.delivery, change.actor, now
                )
            case commands.PickupOutcome(handed_over=handed_over) if handed_over:
                order.hand_over(change.task_id, change.store_id, handed_over, now)
            case commands.PickupOutcome():
                order.cancel(change.reason, now)
            case commands.UnitsReturned():
                order.returned(change.lines, now)
            case commands.BackorderChanged():
                order.backorder_changed(change.reservation_id, change.lines, now)
            case commands.ShippedByTask() if order.status is OrderStatus.CANCELLED:
                order.shipped_after_cancel(change.shipment, change.actor, now)
            case commands.ShippedByTask():
                order.ship(change.shipment, now)
            case commands.ExchangeWithdrawn():
                left = any(a.shipped for ln in order.lines for a in ln.allocations)
                if order.status in CANCELLABLE and not left:
                    order.cancel("its exchange was withdrawn", now)
            case commands.RejectedByTask():
                order.rejected_at(
                    change.location_id,
                    change.sku,
                    change.quantity,
                    change.reason,
                    change.actor,
                    now,
                )

    await _follow(uow, change, apply)


@in_transaction
@once_per_event(tables.processed_events, FOLLOWED)
async def _follow(tx: Transaction, change: Followed, apply: Callable[[Order], None]) -> None:
    """Another service's event applied to its order."""
    order = await _get(tx, change.order_id, lock=True)
    apply(order)
    if order.raised:
        await tx.save([order])


@in_transaction
async def link_exchange(tx: Transaction, order_id: str, return_id: str, replacement: str) -> None:
    """The exchanged order names its replacement (once)."""
    order = await tx.repo.get(order_id, lock=True)
    if order is None:
        log.error("exchange %s is of unknown order %s", return_id, order_id)
        return
    order.exchanged(return_id, replacement, utcnow())
    if order.raised:
        await tx.save([order])


async def replacement_of(uow: UnitOfWork, order_id: str, return_id: str) -> str | None:
    """The replacement order an exchange of `order_id` under `return_id` was linked to."""
    async with uow.reader() as repo:
        order = await repo.get(order_id)
    links = dict(order.exchanges) if order is not None else {}
    return links.get(return_id)
