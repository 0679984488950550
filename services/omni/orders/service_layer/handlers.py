"""One handler per orders command, each one transaction: load and lock, decide, save."""

from __future__ import annotations

import logging
from collections.abc import Callable

from omni.orders.adapters import tables
from omni.orders.domain import commands
from omni.orders.domain.events import ReleaseStock
from omni.orders.domain.model import Order, OrderLine
from omni.orders.service_layer.unit_of_work import Transaction, UnitOfWork, keys
from omni.platform.clock import new_id, utcnow
from omni.platform.consumer import first_time
from omni.platform.db import with_retries
from omni.platform.errors import NotFound
from omni.platform.idempotency import request_hash

log = logging.getLogger(__name__)
DECISIONS_CONSUMER = "orders-allocation"


async def place_order(uow: UnitOfWork, cmd: commands.PlaceOrder) -> Order:
    """Stores the order PENDING with its allocate command for stock; once per key."""

    async def work() -> Order:
        async with uow.transaction() as tx:
            [answer] = await keys.claim(
                tx.conn, "place", [(cmd.idempotency_key, request_hash(cmd))]
            )
            if isinstance(answer, Exception):
                raise answer
            if answer.stored is not None:
                return await _get(tx, answer.stored["order_id"])
            now = utcnow()
            order = Order(
                id=new_id("ord"),
                channel=cmd.channel,
                customer_id=cmd.customer_id,
                currency=cmd.currency,
                lines=[OrderLine(sku, qty, price) for sku, qty, price in cmd.lines],
                fulfilment=cmd.fulfilment,
                created_at=now,
                updated_at=now,
            )
            order.placed()
            await tx.add(order)
            await keys.store(tx.conn, {answer.key: {"order_id": order.id}})
            return order

    return await with_retries(work)


async def apply_decision(uow: UnitOfWork, decision: commands.StockDecision) -> None:
    """Stock allocated (or could not allocate) an order: confirm or reject it, once."""

    async def work() -> None:
        async with uow.transaction() as tx:
            if not await first_time(
                tx.conn, tables.processed_events, DECISIONS_CONSUMER, decision.event_id
            ):
                return
            order = await tx.repo.get(decision.order_id, lock=True)
            if order is None:
                _release_orphan(tx, decision)
                return
            now = utcnow()
            if decision.reservation_id:
                order.confirm(decision.reservation_id, list(decision.plan), now)
            else:
                order.reject(list(decision.short_lines), decision.reason, now)
            if order.events:
                await tx.save(order)

    await with_retries(work)


def _release_orphan(tx: Transaction, decision: commands.StockDecision) -> None:
    """Stock holds units for an order this service never stored: give them back."""
    if decision.reservation_id:
        log.warning(
            "reservation %s is for unknown order %s; releasing it",
            decision.reservation_id,
            decision.order_id,
        )
        key = f"orphan:{decision.reservation_id}"
        tx.events.append(ReleaseStock(decision.reservation_id, None, key))


async def cancel_order(uow: UnitOfWork, cmd: commands.CancelOrder) -> Order:
    return await _change(uow, cmd.order_id, lambda order: order.cancel(cmd.reason, utcnow()))


async def record_shipment(uow: UnitOfWork, cmd: commands.RecordShipment) -> Order:
    return await _change(uow, cmd.order_id, lambda order: order.ship(cmd.shipment, utcnow()))


async def _change(uow: UnitOfWork, order_id: str, change: Callable[[Order], None]) -> Order:
    async def work() -> Order:
        async with uow.transaction() as tx:
            order = await _get(tx, order_id, lock=True)
            change(order)
            if order.events:
                await tx.save(order)
            return order

    return await with_retries(work)


async def _get(tx: Transaction, order_id: str, *, lock: bool = False) -> Order:
    order = await tx.repo.get(order_id, lock=lock)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order
