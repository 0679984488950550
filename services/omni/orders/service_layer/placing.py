"""PlaceOrder and stock's decisions, many at a time: one transaction serves a batch of
concurrent callers (one commit, one multi-row write), which is what keeps orders fast."""

from __future__ import annotations

import logging
from datetime import datetime

from omni.orders.adapters import tables
from omni.orders.domain import commands
from omni.orders.domain.model import OrderLine
from omni.orders.domain.order import Order
from omni.orders.domain.outgoing import ReleaseStock
from omni.orders.service_layer.unit_of_work import Transaction, keys
from omni.platform.clock import utcnow
from omni.platform.consumer import first_deliveries
from omni.platform.errors import OmniError
from omni.platform.idempotency import KeyedBatch, request_hash
from omni.platform.origin import of_batch_item
from omni.platform.outbox import attribute
from omni.platform.unit_of_work import in_transaction

log = logging.getLogger(__name__)
DECISIONS_CONSUMER = "orders-allocation"
# A new order and the id it gets if its key is new (chosen by the caller, who watches it).
Placement = tuple[commands.PlaceOrder, str]


@in_transaction
async def place_orders(tx: Transaction, placements: list[Placement]) -> list[Order | OmniError]:
    """Stores each new order PENDING with its allocate command for stock, once per key;
    a key seen before answers its order as it is now. One outcome per request, in order."""
    batch: KeyedBatch[Order] = KeyedBatch(
        keys, "place", [(cmd.idempotency_key, request_hash(cmd)) for cmd, _ in placements]
    )
    await batch.claim(tx.conn, lambda i: {"order_id": placements[i][1]})
    now = utcnow()
    placed = []
    for i in batch.todo:
        placed.append(order := _new_order(*placements[i], now))
        batch.decided(i, order, raised=order.raised)
    await tx.add(placed)
    found = await tx.repo.get_many({saved["order_id"] for saved in batch.replays.values()})
    for i, saved in batch.replays.items():
        batch.replayed(i, found[saved["order_id"]])
    return await batch.finish(tx.conn)


def _new_order(cmd: commands.PlaceOrder, order_id: str, now: datetime) -> Order:
    order = Order(
        id=order_id,
        channel=cmd.channel,
        customer_id=cmd.customer_id,
        currency=cmd.currency,
        lines=[OrderLine(sku, qty, price) for sku, qty, price in cmd.lines],
        fulfilment=cmd.fulfilment,
        created_at=now,
        updated_at=now,
        exchange_of=cmd.exchange_of,
    )
    order.placed()
    return order


@in_transaction
async def apply_decisions(
    tx: Transaction, decisions: list[commands.StockDecision]
) -> list[OmniError | None]:
    """Confirms or rejects each decided order, once per event, in one transaction."""
    outcomes: list[OmniError | None] = [None] * len(decisions)
    ids = [d.event_id for d in decisions]
    first = await first_deliveries(tx.conn, tables.processed_events, DECISIONS_CONSUMER, ids)
    orders = await tx.repo.get_many({d.order_id for d in decisions}, lock=True)
    changed: dict[str, Order] = {}
    for i, decision in enumerate(decisions):
        if not first[i]:
            continue  # handled before, or earlier in this batch
        order = orders.get(decision.order_id)
        if order is None:
            _release_orphan(tx, decision)
            attribute(tx.events[-1:], of_batch_item(i))
            continue
        try:
            _decide(order, decision)
        except OmniError as exc:  # a decision that can never apply; the rest go on
            log.error("stock's decision on order %s not applied: %s", order.id, exc)
            outcomes[i] = exc
        attribute(order.raised, of_batch_item(i))  # earlier ones keep their own
        if order.raised:
            changed[order.id] = order
    await tx.save(list(changed.values()))
    return outcomes


def _decide(order: Order, decision: commands.StockDecision) -> None:
    now = utcnow()
    if decision.reservation_id:
        order.confirm(decision.key, decision.reservation_id, decision.plan, now, decision.waiting)
    else:
        order.reject(decision.key, list(decision.short_lines), decision.reason, now)


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
