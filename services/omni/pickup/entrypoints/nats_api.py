"""Orders' events, consumed durably: confirmed and cancelled pickup orders (pickup tasks),
and the units any order gives locations to ship (ship tasks)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as orders_pb
from omni.pickup.domain import commands
from omni.pickup.service_layer import handlers, shipping
from omni.pickup.service_layer.unit_of_work import UnitOfWork
from omni.platform import streams
from omni.platform.consumer import DurableConsumer
from omni.platform.messaging import NatsLink

log = logging.getLogger(__name__)

# What an order event asks of the pickup service: the work to do, or None.
Handle = Callable[[str, orders_pb.Order], Awaitable[None] | None]

# Published to, and consumed from: declared here too so the order of start-up is free.
STREAMS = [streams.PICKUP_EVENTS, streams.ORDERS_EVENTS]


def task_for(event_id: str, order: orders_pb.Order) -> commands.OpenTask | None:
    """The task a pickup order calls for (None for a ship order): its store's units."""
    if order.WhichOneof("fulfilment") != "pickup":
        return None
    store = order.pickup.location_id
    lines = tuple(
        (ln.sku, sum(a.quantity for a in ln.allocations if a.location_id == store), ln.unit_price)
        for ln in order.lines
    )
    return commands.OpenTask(
        event_id=event_id,
        order_id=order.id,
        store_id=store,
        customer_id=order.customer_id,
        currency=order.currency,
        lines=tuple(line for line in lines if line[1] > 0),
        replacement=bool(order.exchange_return_id),
    )


def _waits_for_supply(order: orders_pb.Order) -> bool:
    return any(a.backordered for ln in order.lines for a in ln.allocations)


def units_brought(event_id: str, order: orders_pb.Order) -> commands.BringUnits | None:
    """What a pickup order says of units brought to its store by transfer, per SKU: still
    coming (being re-allocated there, or on their way) and arrived. None for a ship order."""
    task = task_for(event_id, order)
    if task is None:
        return None
    lines = []
    for ln in order.lines:
        to_store = [
            a
            for a in ln.allocations
            if a.location_id == task.store_id and a.delivery == orders_pb.DELIVERY_SHIP_TO_STORE
        ]
        coming = ln.reallocating_to_store + sum(a.backordered for a in to_store)
        lines.append((ln.sku, coming, ln.brought_to_store))
    opened = None if _waits_for_supply(order) else task
    return commands.BringUnits(
        event_id, order.id, order.version, order.shortages, tuple(lines), opened
    )


def ship_work(order: orders_pb.Order) -> commands.FollowOrder:
    """The units an order gives each location to ship (ship orders; for pickup orders, units
    re-allocated to ship to the customer's home): per location and SKU, units there (not
    waiting for supply; those rejected there included), unit price, units shipped."""
    pickup = order.WhichOneof("fulfilment") == "pickup"
    work: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for ln in order.lines:
        for a in ln.allocations:
            ships = a.delivery == orders_pb.DELIVERY_SHIP_TO_HOME or (
                not pickup and a.delivery != orders_pb.DELIVERY_SHIP_TO_STORE
            )
            if ships:
                units = work[a.location_id].setdefault(ln.sku, [0, ln.unit_price, 0])
                units[0] += a.quantity - a.backordered
                units[2] += a.shipped
        for r in ln.rejections:
            work[r.location_id].setdefault(ln.sku, [0, ln.unit_price, 0])[0] += r.quantity
    return commands.FollowOrder(
        order_id=order.id,
        order_version=order.version,
        currency=order.currency,
        ship_to_region="" if pickup else order.ship.region,
        cancelled=order.status == orders_pb.ORDER_STATUS_CANCELLED,
        work=tuple(
            (loc, tuple((sku, u[0], u[1], u[2]) for sku, u in sorted(lines.items())))
            for loc, lines in sorted(work.items())
        ),
    )


class PickupNatsApi:
    def __init__(self, uow: UnitOfWork, link: NatsLink) -> None:
        self._uow = uow
        self._link = link

    def consumers(self) -> list[DurableConsumer]:
        def opened(event_id: str, order: orders_pb.Order) -> Awaitable[None] | None:
            # Opened once every unit is at the store (at confirmation, or when the last
            # backordered ones arrive); a cancelled order never confirmed had no task.
            task = task_for(event_id, order)
            if task is None or _waits_for_supply(order):
                return None
            return handlers.open_task(self._uow, task)

        def brought(event_id: str, order: orders_pb.Order) -> Awaitable[None] | None:
            units = units_brought(event_id, order)
            return None if units is None else handlers.bring_units(self._uow, units)

        def cancelled(event_id: str, order: orders_pb.Order) -> Awaitable[None] | None:
            task = task_for(event_id, order)
            if task is None or not (task.lines or order.reservation_id):
                return None
            return handlers.cancel_task(self._uow, commands.CancelTask(event_id, task))

        handlers_by_event: dict[str, Handle] = {
            "confirmed": opened,
            # Units missing at the store and brought there by transfer; backordered units
            # that arrive (a task opens once nothing waits).
            "shortage": brought,
            "reallocated": brought,
            "backorder": brought,
            "cancelled": cancelled,
        }

        def ships(event_id: str, order: orders_pb.Order) -> Awaitable[None] | None:
            work = ship_work(order)
            return shipping.follow_order(self._uow, work) if work.work else None

        # Every change of what locations have to ship: new units (confirmed, re-allocated,
        # backordered ones filled), units gone (rejected, shipped by a desk, cancelled).
        shipping_events = ["confirmed", "reallocated", "backorder", "shipped"]
        shipping_events += ["line_rejected", "cancelled"]
        return [
            DurableConsumer(
                self._link,
                stream=streams.ORDERS_EVENTS.name,
                subject=streams.ORDERS_EVENTS_PREFIX + name,
                durable=f"pickup-orders-{name}",
                handler=self._handler(handle),
            )
            for name, handle in handlers_by_event.items()
        ] + [
            DurableConsumer(
                self._link,
                stream=streams.ORDERS_EVENTS.name,
                subject=streams.ORDERS_EVENTS_PREFIX + name,
                durable=f"pickup-ship-{name}",
                handler=self._handler(ships),
            )
            for name in shipping_events
        ]

    @staticmethod
    def _handler(handle: Handle) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            try:
                event = orders_msg.OrderChanged.FromString(msg.data)
            except DecodeError:
                log.error("ignoring an undecodable message on %s", msg.subject)
                return
            work = handle(event.event_id, event.order)
            if work is not None:
                await work

        return on_message
