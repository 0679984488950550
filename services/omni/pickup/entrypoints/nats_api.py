"""Confirmed and cancelled pickup orders, consumed durably from orders.events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as orders_pb
from omni.pickup.domain import commands
from omni.pickup.service_layer import handlers
from omni.pickup.service_layer.unit_of_work import UnitOfWork
from omni.platform import streams
from omni.platform.consumer import DurableConsumer
from omni.platform.messaging import NatsLink

log = logging.getLogger(__name__)

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
    )


def _waits_for_supply(order: orders_pb.Order) -> bool:
    return any(a.backordered for ln in order.lines for a in ln.allocations)


class PickupNatsApi:
    def __init__(self, uow: UnitOfWork, link: NatsLink) -> None:
        self._uow = uow
        self._link = link

    def consumers(self) -> list[DurableConsumer]:
        def open_task(task: commands.OpenTask) -> Awaitable[None]:
            return handlers.open_task(self._uow, task)

        handlers_by_event: dict[
            str, tuple[Callable[[commands.OpenTask], Awaitable[None]], bool]
        ] = {
            # Opened once every unit is at the store: at confirmation, or when the last
            # backordered ones arrive.
            "confirmed": (open_task, True),
            "backorder": (open_task, True),
            "cancelled": (
                lambda task: handlers.cancel_task(
                    self._uow, commands.CancelTask(task.event_id, task)
                ),
                False,
            ),
        }
        return [
            DurableConsumer(
                self._link,
                stream=streams.ORDERS_EVENTS.name,
                subject=streams.ORDERS_EVENTS_PREFIX + name,
                durable=f"pickup-orders-{name}",
                handler=self._handler(handle, when_ready),
            )
            for name, (handle, when_ready) in handlers_by_event.items()
        ]

    @staticmethod
    def _handler(
        handle: Callable[[commands.OpenTask], Awaitable[None]], when_ready: bool
    ) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            try:
                event = orders_msg.OrderChanged.FromString(msg.data)
            except DecodeError:
                log.error("ignoring an undecodable message on %s", msg.subject)
                return
            task = task_for(event.event_id, event.order)
            if when_ready and _waits_for_supply(event.order):
                return  # backordered units are not at the store yet: nothing to pick
            # A cancelled order that was never confirmed (no reservation) had no task.
            if task is not None and (task.lines or event.order.reservation_id):
                await handle(task)

        return on_message
