"""The read models returns keeps: orders from orders.events, locations from stock.events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as orders_pb
from omni.platform import streams
from omni.platform.consumer import DurableConsumer
from omni.platform.errors import Unavailable
from omni.platform.messaging import NatsLink
from omni.platform.tasks import reraise_if_cancelled
from omni.returns.domain.commands import FollowReplacement
from omni.returns.domain.model import KnownLocation, KnownOrder, ReplacementState, SoldLine
from omni.returns.service_layer import handlers
from omni.returns.service_layer.unit_of_work import UnitOfWork
from omni.stock.v1 import messaging_pb2 as stock_msg

log = logging.getLogger(__name__)

STREAMS = [
    streams.RETURNS_EVENTS,
    streams.ORDERS_EVENTS,
    streams.STOCK_EVENTS,
    streams.STOCK_COMMANDS,
]
ORDERS_DURABLE = "returns-orders"
GET_ORDER_SUBJECT = streams.ORDERS_GET_REQUEST  # answered by the orders service
LOCATIONS_DURABLE = "returns-locations"


def known_order(order: orders_pb.Order) -> KnownOrder:
    """What returns needs of an order: prices, and how much of each line left when."""
    shipped_at: dict[str, datetime] = {}
    for shipment in order.shipments:
        at = shipment.shipped_at.ToDatetime(tzinfo=UTC) if shipment.HasField("shipped_at") else None
        for line in shipment.lines:
            if at is not None:
                shipped_at[line.sku] = max(at, shipped_at.get(line.sku, at))
    lines = tuple(
        SoldLine(
            ln.sku,
            ln.unit_price,
            sum(a.shipped for a in ln.allocations),
            shipped_at.get(ln.sku),
        )
        for ln in order.lines
    )
    return KnownOrder(order.id, order.customer_id, order.currency, lines, order.version)


_STATES = {
    orders_pb.ORDER_STATUS_PENDING: ReplacementState.PENDING,
    orders_pb.ORDER_STATUS_REJECTED: ReplacementState.REJECTED,
    orders_pb.ORDER_STATUS_CANCELLED: ReplacementState.CANCELLED,
}


def replacement_of(order: orders_pb.Order) -> FollowReplacement | None:
    """What an exchange's replacement order says of its exchange (None for other orders)."""
    if not order.exchange_return_id:
        return None
    state = _STATES.get(order.status, ReplacementState.CONFIRMED)  # confirmed, or further on
    # What left, by its shipments (those sent after a cancellation too), and what will not:
    # units cancelled, or, once the order is cancelled, every unit that had not left.
    sent: dict[str, int] = {}
    for shipment in order.shipments:
        for line in shipment.lines:
            sent[line.sku] = sent.get(line.sku, 0) + line.quantity
    cancelled = tuple(
        (ln.sku, units)
        for ln in order.lines
        if (
            units := ln.quantity - sent.get(ln.sku, 0)
            if state is ReplacementState.CANCELLED
            else ln.cancelled
        )
        > 0
    )
    return FollowReplacement(
        order.exchange_return_id,
        order.id,
        order.version,
        state,
        cancelled,
        tuple(sent.items()),
    )


class ReturnsNatsApi:
    def __init__(self, uow: UnitOfWork, link: NatsLink) -> None:
        self._uow = uow
        self._link = link

    def consumers(self) -> list[DurableConsumer]:
        return [
            self._consumer(
                streams.ORDERS_EVENTS.name,
                streams.ORDERS_EVENTS_PREFIX + ">",
                ORDERS_DURABLE,
                self._on_order,
            ),
            self._consumer(
                streams.STOCK_EVENTS.name,
                streams.STOCK_EVENTS_PREFIX + "location_changed",
                LOCATIONS_DURABLE,
                self._on_location,
            ),
        ]

    def _consumer(
        self, stream: str, subject: str, durable: str, handler: Callable[[Msg], Awaitable[None]]
    ) -> DurableConsumer:
        return DurableConsumer(
            self._link, stream=stream, subject=subject, durable=durable, handler=handler
        )

    async def caught_up(self, stream: str, durable: str) -> bool:
        """Every message published so far has been handled (False if NATS cannot say)."""
        try:
            info = await self._link.js.consumer_info(stream, durable)
        except Exception as exc:
            reraise_if_cancelled(exc)
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def fetch_order(self, order_id: str) -> KnownOrder | None:
        """Asks the orders service for an order its events may not have brought yet."""
        request = orders_pb.GetOrderRequest(id=order_id).SerializeToString()
        try:
            if self._link.nc is None:
                raise ConnectionError("not connected to NATS yet")
            reply = await self._link.nc.request(GET_ORDER_SUBJECT, request, timeout=2.0)
        except Exception as exc:
            reraise_if_cancelled(exc)
            raise Unavailable(
                f"cannot check order {order_id} with the orders service right now; retry"
            ) from exc
        found = orders_pb.GetOrderResponse.FromString(reply.data)
        return known_order(found.order) if found.HasField("order") else None

    async def locations_caught_up(self) -> bool:
        return await self.caught_up(streams.STOCK_EVENTS.name, LOCATIONS_DURABLE)

    async def _on_order(self, msg: Msg) -> None:
        try:
            event = orders_msg.OrderChanged.FromString(msg.data)
        except DecodeError:
            log.error("ignoring an undecodable message on %s", msg.subject)
            return
        await handlers.learn_order(self._uow, known_order(event.order))
        replacement = replacement_of(event.order)
        if replacement is not None:
            await handlers.follow_replacement(self._uow, replacement)

    async def _on_location(self, msg: Msg) -> None:
        try:
            event = stock_msg.LocationChanged.FromString(msg.data)
        except DecodeError:
            log.error("ignoring an undecodable message on %s", msg.subject)
            return
        location = event.location
        await handlers.learn_location(
            self._uow, KnownLocation(location.id, location.accepts_returns)
        )
