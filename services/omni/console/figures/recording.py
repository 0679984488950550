"""Applying the services' events to the read model, each exactly once.

Every handler turns one event into changes made in one transaction with the record that this
consumer handled the event (`processed_events`), so a redelivery changes nothing. Events of
one stream are handled concurrently and may arrive in any order: counters are sums (which
commute), a task's or a level's row is only replaced by a later `version`, and a timeline step
is a row of its own, sorted by when it happened.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.protobuf.message import DecodeError, Message
from nats.aio.msg import Msg
from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.common.v1 import common_pb2 as cpb
from omni.console import words
from omni.console.figures.tables import (
    levels,
    network,
    orders,
    pickups,
    processed,
    returned_units,
    sales_by_minute,
    sales_by_product,
    timeline,
)
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform import streams
from omni.platform.consumer import DurableConsumer, unhandled
from omni.platform.db import with_retries, write_transaction
from omni.platform.messaging import NatsLink
from omni.returns.v1 import messaging_pb2 as returns_msg
from omni.stock.v1 import messaging_pb2 as stock_msg
from omni.stock.v1 import stock_pb2 as spb

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)
Change = Callable[[AsyncConnection], Awaitable[Any]]
# Connections the consumers write with, and so events handled at once per stream: each event
# is one short transaction, and more would only wait on each other's locks.
WRITERS = 4
# The carrier of a pickup order's hand-over (a shipment from the store to the customer).
PICKUP_CARRIER = "customer pickup"


# The streams the read model follows, each through one durable consumer shared by replicas.
FOLLOWED = {
    "console-orders": streams.ORDERS_EVENTS,
    "console-pickup": streams.PICKUP_EVENTS,
    "console-returns": streams.RETURNS_EVENTS,
    "console-availability": streams.STOCK_AVAILABILITY,
}


class Recorder:
    """The read model's consumers: one durable consumer per stream, shared by replicas."""

    def __init__(self, engine: AsyncEngine, link: NatsLink) -> None:
        self._engine = engine
        self._link = link

    def consumers(self) -> list[DurableConsumer]:
        handlers = {
            "console-orders": self.on_order,
            "console-pickup": self.on_pickup,
            "console-returns": self.on_return,
            "console-availability": self.on_level,
        }
        return [
            DurableConsumer(
                self._link,
                stream=stream.name,
                subject=stream.subjects[0],
                durable=durable,
                handler=handlers[durable],
                batch=WRITERS,  # as many at once as there are connections to write with
            )
            for durable, stream in FOLLOWED.items()
        ]

    async def on_order(self, msg: Msg) -> None:
        event = _parse(orders_msg.OrderChanged, msg)
        if event is None:
            return
        order, kind = event.order, _kind(msg)
        changes: list[Change] = [_seen(order)]
        if kind == "confirmed":
            changes += _sold(order)
        step = order_step(kind, event)
        if step:
            changes.append(_step(event.event_id, order.id, event.occurred_at, kind, step))
        await self._once("console-orders", event.event_id, changes)

    async def on_pickup(self, msg: Msg) -> None:
        if msg.subject.startswith(streams.SHIP_TASK_EVENTS_PREFIX):
            await self._on_ship_task(msg)
            return
        event = _parse(pickup_msg.PickupChanged, msg)
        if event is None:
            return
        task, kind = event.task, _kind(msg)
        changes = [_task(task)]
        if kind == "ready":
            changes.append(_ready_at(task.id, _time(event.occurred_at)))
        step = pickup_step(kind, task)
        if step:
            changes.append(_step(event.event_id, task.order_id, event.occurred_at, kind, step))
        await self._once("console-pickup", event.event_id, changes)

    async def _on_ship_task(self, msg: Msg) -> None:
        """A ship task's steps the order's own events do not tell (picking, packed)."""
        event = _parse(pickup_msg.ShipTaskChanged, msg)
        if event is None:
            return
        task, kind = event.task, _kind(msg)
        step = ship_step(kind, task)
        if step:
            said = _step(event.event_id, task.order_id, event.occurred_at, f"ship_{kind}", step)
            await self._once("console-pickup", event.event_id, [said])

    async def on_return(self, msg: Msg) -> None:
        event = _parse(returns_msg.ReturnChanged, msg)
        if event is None:
            return
        rma, kind = event.rma, _kind(msg)
        changes: list[Change] = []
        if kind == "received":
            changes.append(_received(event))
        step = return_step(kind, event)
        if step:
            changes.append(_step(event.event_id, rma.order_id, event.occurred_at, kind, step))
        await self._once("console-returns", event.event_id, changes)

    async def on_level(self, msg: Msg) -> None:
        """The latest availability of a (location, SKU): replaced only by a later version, so
        nothing needs recording (a redelivery is not later)."""
        event = _parse(stock_msg.StockLevelChanged, msg)
        if event is None:
            return
        await self._run([_level(event.level)])

    async def _once(self, consumer: str, event_id: str, changes: list[Change]) -> None:
        async def claimed(conn: AsyncConnection) -> None:
            if await unhandled(conn, processed, consumer, [event_id]):
                for change in changes:
                    await change(conn)

        await self._run([claimed])

    async def _run(self, changes: list[Change]) -> None:
        async def work() -> None:
            async with write_transaction(self._engine) as conn:
                for change in changes:
                    await change(conn)

        await with_retries(work)


def _parse(kind: type[M], msg: Msg) -> M | None:
    """The event, or None (logged: a malformed message cannot be counted, and is dropped)."""
    try:
        event = kind.FromString(msg.data)
    except DecodeError:
        log.error("read model: %s is not a %s; dropped", msg.subject, kind.__name__)
        return None
    if not getattr(event, "event_id", "x"):
        log.error("read model: %s has no event id; dropped", msg.subject)
        return None
    return event


def _kind(msg: Msg) -> str:
    return msg.subject.rsplit(".", 1)[-1]


def _time(ts: Any) -> datetime:
    """The event's time; now, if it carries none (or one out of range)."""
    return words.when(ts) or datetime.now(UTC)


def _name(enum: Any, value: int, prefix: str) -> str:
    """An enum value's name without its prefix; a value this console does not know yet (a
    newer service's) by its number, rather than failing on the event."""
    try:
        return str(enum.Name(value)).removeprefix(prefix)
    except ValueError:
        return f"UNKNOWN_{value}"


def _channel(channel: int) -> str:
    return _name(cpb.Channel, channel, "CHANNEL_")


def _text(value: str, length: int) -> str:
    """Text as a column holds it: no NUL (PostgreSQL refuses it), cut to the column's length."""
    return value.replace("\x00", "")[:length]


# Statements, each for one kind of change


def _insert(conn: AsyncConnection, table: Table) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def _seen(order: opb.Order) -> Change:
    """The order's channel and when it was placed (the same in every event of it)."""
    row = {
        "order_id": _text(order.id, 64),
        "channel": _channel(order.channel),
        "placed_at": _time(order.created_at),
    }

    async def change(conn: AsyncConnection) -> None:
        await conn.execute(_insert(conn, orders).values(row).on_conflict_do_nothing())

    return change


def _adding(table: Table, keys: dict[str, Any], amounts: dict[str, int]) -> Change:
    """Adds `amounts` to the row at `keys` (created at zero)."""

    async def change(conn: AsyncConnection) -> None:
        stmt = _insert(conn, table).values({**keys, **amounts})
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: table.c[c] + stmt.excluded[c] for c in amounts},
            )
        )

    return change


def _currency(order: opb.Order) -> str:
    return _text(order.currency, 3)


def _sold(order: opb.Order) -> list[Change]:
    """A confirmed order: its value (GMV: gross, before cancellations and returns) counted in
    the minute it was placed, and each product's units and revenue on that day."""
    placed = _time(order.created_at)
    minute = placed.replace(second=0, microsecond=0)
    changes = [
        _adding(
            sales_by_minute,
            {"minute": minute, "channel": _channel(order.channel), "currency": _currency(order)},
            {"orders": 1, "amount": order.total},
        )
    ]
    units: Counter[str] = Counter()
    revenue: Counter[str] = Counter()
    for line in order.lines:
        units[line.sku] += line.quantity
        revenue[line.sku] += line.quantity * line.unit_price
    # Rows always taken in one order (the minute's, then products by SKU): two orders with the
    # same products in other orders never wait on each other in a cycle (a deadlock).
    for sku in sorted(units):
        keys = {"day": placed.date(), "sku": _text(sku, 64), "currency": _currency(order)}
        changes.append(
            _adding(sales_by_product, keys, {"units": units[sku], "amount": revenue[sku]})
        )
    return changes


def _latest(table: Table, row: dict[str, Any], keys: tuple[str, ...]) -> Change:
    """Inserts the row, or replaces the stored one if `row` has a later `version`."""

    async def change(conn: AsyncConnection) -> None:
        stmt = _insert(conn, table).values(row)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: stmt.excluded[c] for c in row if c not in keys},
                where=table.c.version < stmt.excluded.version,
            )
        )

    return change


def _level(level: spb.StockLevel) -> Change:
    """The level, if later than the one kept, and the SKU's network total moved by as much."""
    where, sku = _text(level.location_id, 64), _text(level.sku, 64)
    key = and_(levels.c.location_id == where, levels.c.sku == sku)

    async def change(conn: AsyncConnection) -> None:
        placeholder = {"location_id": where, "sku": sku}
        await conn.execute(
            _insert(conn, levels)
            .values(**placeholder, available=0, version=-1)
            .on_conflict_do_nothing()
        )
        kept = select(levels.c.available, levels.c.version).where(key).with_for_update()
        available, version = (await conn.execute(kept)).one()
        if version >= level.version:
            return  # an older change, arriving late
        await conn.execute(
            update(levels).where(key).values(available=level.available, version=level.version)
        )
        moved = {"available": level.available - available}
        await _adding(network, {"sku": sku}, moved)(conn)

    return change


def _task(task: ppb.PickupTask) -> Change:
    hold = words.when(task.hold_until)
    row = {
        "task_id": _text(task.id, 64),
        "order_id": _text(task.order_id, 64),
        "store_id": _text(task.store_id, 64),
        "status": _name(ppb.PickupStatus, task.status, "PICKUP_STATUS_"),
        "version": task.version,
        "created_at": _time(task.created_at),
        "hold_until": hold,
    }
    return _latest(pickups, row, ("task_id",))


def _ready_at(task_id: str, at: datetime) -> Change:
    """When the task first became READY (the earliest, whichever event arrives first)."""

    async def change(conn: AsyncConnection) -> None:
        later = or_(pickups.c.ready_at.is_(None), pickups.c.ready_at > at)
        first = and_(pickups.c.task_id == task_id, later)
        await conn.execute(update(pickups).where(first).values(ready_at=at))

    return change


def _received(event: returns_msg.ReturnChanged) -> Change:
    """Units received back, by the reason given for their line."""
    rma = event.rma
    reasons = {line.sku: line.reason for line in rma.lines}
    units: Counter[str] = Counter()
    for line in event.received:
        units[reasons.get(line.sku) or "unspecified"] += line.quantity
    rows = [
        {
            "event_id": _text(event.event_id, 64),
            "order_id": _text(rma.order_id, 64),
            "returned_via": _channel(rma.channel),
            "reason": _text(reason, 200),
            "units": count,
            "received_at": _time(event.occurred_at),
        }
        for reason, count in units.items()
    ]

    async def change(conn: AsyncConnection) -> None:
        if rows:
            await conn.execute(returned_units.insert(), rows)

    return change


def _step(event_id: str, order_id: str, ts: Any, step: str, said: str) -> Change:
    row = {"event_id": _text(event_id, 64), "order_id": _text(order_id, 64), "at": _time(ts)}
    row |= {"step": _text(step, 32), "words": _text(said, 500)}

    async def change(conn: AsyncConnection) -> None:
        await conn.execute(_insert(conn, timeline).values(row).on_conflict_do_nothing())

    return change


# A timeline's steps in words


def order_step(kind: str, event: orders_msg.OrderChanged) -> str:
    """What the order event says happened, or "" (a step another service tells better)."""
    order = event.order
    units = sum(line.quantity for line in order.lines)
    if kind == "placed":
        where = (
            f"for collection at {order.pickup.location_id}"
            if order.HasField("pickup")
            else f"to ship to {order.ship.region or 'the customer'}"
        )
        channel, total = words.channel(order.channel), words.money(order.total, order.currency)
        swap = (
            f", exchanging units of order {order.exchange_of_order_id}"
            if order.exchange_of_order_id
            else ""
        )
        return f"Placed through {channel}: {_units(units)}, {total}, {where}{swap}"
    if kind == "shipped_after_cancel":
        shipment = event.shipment
        count = sum(line.quantity for line in shipment.lines)
        return (
            f"Sent from {shipment.location_id} after the order was cancelled: {_units(count)} "
            "(the customer was refunded and gets them)"
        )
    if kind == "exchanged":
        link = order.exchanges[-1] if order.exchanges else None
        return f"Units exchanged: replacement order {link.replacement_order_id}" if link else ""
    if kind in ("confirmed", "reallocated"):
        verb = "Confirmed" if kind == "confirmed" else "Re-allocated"
        return f"{verb}: {_allocations(order)}"
    if kind == "rejected":
        return f"Rejected: {order.reason or 'not enough stock'}"
    if kind == "cancelled":
        refund = (
            f"; {words.money(event.refund_due, order.currency)} to refund"
            if event.refund_due
            else ""
        )
        return f"Cancelled: {order.reason or 'no reason given'}{refund}"
    if kind == "shipped":
        shipment = event.shipment
        count = sum(line.quantity for line in shipment.lines)
        if shipment.carrier == PICKUP_CARRIER:
            return f"Collected at {shipment.location_id}: {_units(count)}"
        carrier = f" by {shipment.carrier}" if shipment.carrier else ""
        tracking = f" ({shipment.tracking_number})" if shipment.tracking_number else ""
        return f"Shipped from {shipment.location_id}{carrier}{tracking}: {_units(count)}"
    if kind == "shortage":
        return "Units missing at the pickup store: finding them elsewhere"
    if kind == "line_rejected":
        return _rejected(event)
    if kind == "backorder":
        return _backorder(event)
    return ""  # returned: told by the returns service's received and refund_issued


def _allocations(order: opb.Order) -> str:
    at: defaultdict[str, int] = defaultdict(int)
    for line in order.lines:
        for allocation in line.allocations:
            at[allocation.location_id] += allocation.quantity
    said = ", ".join(f"{_units(n)} from {where}" for where, n in sorted(at.items()) if n) or "—"
    return said + _on_order(order)


def _on_order(order: opb.Order) -> str:
    """Units sold ahead of their supply, and when the first of them are due."""
    waiting = [a for line in order.lines for a in line.allocations if a.backordered]
    if not waiting:
        return ""
    units = sum(a.backordered for a in waiting)
    dates = [d for a in waiting if (d := words.when(a.expected_at)) is not None]
    due = f", due there {min(dates):%Y-%m-%d}" if dates else ""
    return f" ({_units(units)} not in stock yet{due})"


def _backorder(event: orders_msg.OrderChanged) -> str:
    order = event.order
    said = _on_order(order).strip(" ()")
    if event.refund_due:
        refund = words.money(event.refund_due, order.currency)
        cut = f"The delivery they waited for was cut: {refund} to refund"
        return cut + (f"; {said}" if said else "")
    return f"Still {said}" if said else "Every unit that was not in stock has arrived"


def _rejected(event: orders_msg.OrderChanged) -> str:
    order = event.order
    if event.refund_due:
        refund = words.money(event.refund_due, order.currency)
        return f"No other location can ship the rejected units: cancelled, {refund} to refund"
    rejections = [(r, line.sku) for line in order.lines for r in line.rejections]
    if not rejections:
        return ""
    last, sku = max(rejections, key=lambda found: found[0].rejected_at.ToNanoseconds())
    why = words.rejection_reason(last.reason)
    if order.status == opb.ORDER_STATUS_CANCELLED:
        return (
            f"{_units(last.quantity)} of {sku} rejected at {last.location_id} ({why}) after "
            "the order was cancelled: stock there corrected"
        )
    them = "it" if last.quantity == 1 else "them"
    return (
        f"{_units(last.quantity)} of {sku} rejected at {last.location_id} ({why}): "
        f"finding {them} elsewhere"
    )


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def pickup_step(kind: str, task: ppb.PickupTask) -> str:
    if kind == "picking":
        return f"Picking started at {task.store_id}"
    if kind == "ready":
        return f"Ready for collection at {task.store_id}"
    if kind == "locked":
        return f"Hand-over locked at {task.store_id} after wrong pickup codes"
    if kind == "expired":
        return f"Not collected at {task.store_id} in time"
    return ""  # placed, collected, cancelled...: the order's own events tell them


def ship_step(kind: str, task: ppb.ShipTask) -> str:
    if kind == "picking":
        return f"Picking started at {task.location_id} to ship"
    if kind == "packed":
        parcels = "1 parcel" if task.packages == 1 else f"{task.packages} parcels"
        return f"Packed at {task.location_id}: {parcels}"
    return ""  # shipped, rejected, cancelled: the order's own events tell them


def return_step(kind: str, event: returns_msg.ReturnChanged) -> str:
    rma = event.rma
    if kind == "received":
        count = sum(line.quantity for line in event.received)
        via = words.channel(rma.channel)
        return f"Returned at {rma.location_id or 'the warehouse'} through {via}: {_units(count)}"
    money = _money(event)
    if kind == "refund_issued":
        said = money or "nothing refunded: the units are exchanged"
        return said[:1].upper() + said[1:]
    if kind == "authorized":
        count = sum(line.quantity for line in rma.lines)
        swap = " to exchange" if rma.HasField("exchange") else ""
        return f"Return authorised{swap}: {_units(count)}"
    exchange = rma.exchange
    said = {
        "exchange_ordered": "Exchange: the replacement is being ordered",
        "exchange_confirmed": f"Exchange confirmed: order {exchange.replacement_order_id}",
        "exchange_failed": f"Exchange given up: {exchange.reason}",
        "exchange_cancelled": f"Exchange cancelled: {exchange.reason}",
        "exchange_updated": "Exchange: the replacement changed",
        "cancelled": "Return withdrawn: the customer keeps the goods",
    }.get(kind, "")
    return f"{said}; {money}" if said and money else said


def _money(event: returns_msg.ReturnChanged) -> str:
    """What an event asks of the payment system, in words ("" if nothing)."""
    currency = event.rma.currency
    if event.refund:
        return f"refunded {words.money(event.refund, currency)}"
    if event.charge:
        return f"charged {words.money(event.charge, currency)}"
    return ""


# Kept as long as events are (7 days), plus a day: an event replayed later was handled.
PROCESSED_KEPT = timedelta(days=8)
