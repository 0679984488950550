"""What the orders service follows, consumed durably.

- stock.events: stock announces each allocation it makes (`reserved`) or refuses
  (`allocation_rejected`); those keyed `order:<id>` are this service's orders. Backordered
  units of their reservations are filled, cut or re-dated (`backorder`).
- pickup.events: a pickup order was `collected` (its units are handed over), `expired`
  (never collected: the order is cancelled, its units released), or its store came up
  `shortage` of some units (written off there; re-allocated elsewhere or cancelled). A
  location's ship task `ship.shipped` units (recorded as a shipment) or `ship.rejected` some
  (stock corrects the level as the reason says; the units are re-routed or cancelled).
- returns.events: a return was received and its `refund_issued`: the units count as returned
  (PARTIALLY_RETURNED, RETURNED).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.msg import Msg

from omni.orders import convert
from omni.orders.domain.commands import (
    BackorderChanged,
    ExchangeWithdrawn,
    PickupOutcome,
    PickupShortage,
    PlaceOrder,
    RejectedByTask,
    ShippedByTask,
    StockDecision,
    UnitsReturned,
)
from omni.orders.domain.model import Delivery, Shipment, order_id_of
from omni.orders.entrypoints import requests
from omni.orders.service_layer import handlers, queries
from omni.orders.service_layer.services import OrdersServices
from omni.orders.v1 import orders_pb2 as orders_pb
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as pickup_pb
from omni.platform import streams
from omni.platform import validation as check
from omni.platform.clock import new_id
from omni.platform.consumer import DurableConsumer
from omni.platform.errors import Conflict, InvalidArgument, NotFound, OmniError, Unavailable
from omni.platform.messaging import NatsLink
from omni.platform.tasks import reraise_if_cancelled
from omni.platform.wire import REJECTION_REASONS_FROM_PROTO, time_from
from omni.returns.v1 import messaging_pb2 as returns_msg
from omni.returns.v1 import returns_pb2 as returns_pb
from omni.stock.v1 import messaging_pb2 as stock_msg

log = logging.getLogger(__name__)
GET_ORDER_SUBJECT = streams.ORDERS_GET_REQUEST

# Published to, and consumed from: declared here too so the order of start-up is free.
STREAMS = [
    streams.ORDERS_EVENTS,
    streams.STOCK_EVENTS,
    streams.STOCK_COMMANDS,
    streams.PICKUP_EVENTS,
    streams.RETURNS_EVENTS,
]


class OrdersNatsApi:
    def __init__(self, services: OrdersServices, link: NatsLink) -> None:
        self._services = services
        self._link = link

    def consumers(self) -> list[DurableConsumer]:
        subscriptions = [
            (streams.STOCK_EVENTS, streams.STOCK_EVENTS_PREFIX + "reserved", self._on_reserved),
            (
                streams.STOCK_EVENTS,
                streams.STOCK_EVENTS_PREFIX + "allocation_rejected",
                self._on_rejected,
            ),
            (streams.STOCK_EVENTS, streams.STOCK_EVENTS_PREFIX + "backorder", self._on_backorder),
            (streams.PICKUP_EVENTS, streams.PICKUP_EVENTS_PREFIX + "collected", self._on_pickup),
            (streams.PICKUP_EVENTS, streams.PICKUP_EVENTS_PREFIX + "expired", self._on_pickup),
            (streams.PICKUP_EVENTS, streams.PICKUP_EVENTS_PREFIX + "shortage", self._on_pickup),
            *(
                (streams.PICKUP_EVENTS, streams.SHIP_TASK_EVENTS_PREFIX + name, self._on_ship_task)
                for name in ("shipped", "rejected")
            ),
            (
                streams.RETURNS_EVENTS,
                streams.RETURNS_EVENTS_PREFIX + "refund_issued",
                self._on_return,
            ),
            *(
                (streams.RETURNS_EVENTS, streams.RETURNS_EVENTS_PREFIX + name, self._on_exchange)
                for name in ("exchange_ordered", "cancelled")
            ),
        ]
        return [
            DurableConsumer(
                self._link,
                stream=stream.name,
                subject=subject,
                durable="orders-" + subject.replace(".events.", "-").replace(".", "-"),
                handler=handler,
            )
            for stream, subject, handler in subscriptions
        ]

    async def answer_lookups(self) -> None:
        """`orders.rpc.get`: a GetOrderRequest answered with a GetOrderResponse (no order if
        there is none), for services whose read model may lag (returns)."""
        assert self._link.nc is not None
        await self._link.nc.subscribe(GET_ORDER_SUBJECT, queue="orders", cb=self._on_lookup)

    async def _on_lookup(self, msg: Msg) -> None:
        reply = orders_pb.GetOrderResponse()
        try:
            order_id = check.identifier("id", orders_pb.GetOrderRequest.FromString(msg.data).id)
            reply.order.CopyFrom(
                convert.order_to_proto(await queries.get_order(self._services.uow, order_id))
            )
        except (DecodeError, InvalidArgument, NotFound):
            pass  # no such order (an id that is not well-formed names none)
        except Exception as exc:
            reraise_if_cancelled(exc)
            log.warning("order look-up failed: %s", exc)
            return  # no answer: the asker times out and retries
        if msg.reply:
            await msg.respond(reply.SerializeToString())

    async def _on_pickup(self, msg: Msg) -> None:
        """Collected (stock commits), expired (the order is cancelled), or units missing."""
        event = _parse(pickup_msg.PickupChanged, msg)
        change = pickup_change(event) if event else None
        if change is None:
            return
        try:
            await handlers.follow(self._services.uow, change)
        except (Unavailable, Conflict):
            raise
        except OmniError as exc:
            log.error("pickup event %s not applied to its order: %s", change.event_id, exc)

    async def _on_ship_task(self, msg: Msg) -> None:
        """A location's ship task shipped units (recorded, committed) or rejected some
        (re-routed)."""
        event = _parse(pickup_msg.ShipTaskChanged, msg)
        change = ship_task_change(event) if event else None
        if change is None:
            return
        try:
            await handlers.follow(self._services.uow, change)
        except (Unavailable, Conflict):
            raise
        except OmniError as exc:
            log.error("ship task event %s not applied to its order: %s", change.event_id, exc)

    async def _on_return(self, msg: Msg) -> None:
        """Units came back (sellable or damaged: what the refund is for)."""
        event = _parse(returns_msg.ReturnChanged, msg)
        if event is None:
            return
        missing = returns_pb.CONDITION_MISSING
        back = tuple((r.sku, r.quantity) for r in event.received if r.condition != missing)
        if not back:
            return  # money only (a charge for units that never came): nothing came back
        change = UnitsReturned(event.event_id, event.rma.order_id, back)
        try:
            await handlers.follow(self._services.uow, change)
        except (Unavailable, Conflict):
            raise
        except OmniError as exc:
            log.error("return %s not applied to its order: %s", event.rma.id, exc)

    async def _on_exchange(self, msg: Msg) -> None:
        """An exchange's replacement is to be placed (once, under a key of the return), or
        its return was cancelled: placed all the same (so a withdrawal that overtakes the
        order still finds it) and cancelled if nothing of it has shipped (what happens is
        the replacement's own events, which returns follows). The exchanged order names it."""
        event = _parse(returns_msg.ReturnChanged, msg)
        if event is None or not event.rma.exchange.ordered:
            return
        rma, uow = event.rma, self._services.uow
        try:
            # Linked already: that is the replacement (its key may be long forgotten).
            order_id = await handlers.replacement_of(uow, rma.order_id, rma.id)
            if order_id is None:
                placed = await self._services.place(replacement_order(rma), new_id("ord"))
                order_id = placed.id
                await handlers.link_exchange(uow, rma.order_id, rma.id, order_id)
            if msg.subject.endswith(".cancelled"):
                await handlers.follow(uow, ExchangeWithdrawn(event.event_id, order_id))
        except (Unavailable, Conflict):
            raise
        except OmniError as exc:
            log.error("exchange %s not applied to its orders: %s", rma.id, exc)

    async def _on_reserved(self, msg: Msg) -> None:
        event = _parse(stock_msg.StockReserved, msg)
        order_id = order_id_of(event.idempotency_key) if event else None
        if event is None or order_id is None:
            return  # not an order's allocation (e.g. a storefront's cart)
        res = event.reservation
        plan = tuple((ln.sku, ln.location_id, ln.quantity) for ln in res.lines)
        waiting = tuple(
            (ln.sku, ln.location_id, ln.backordered, _due(ln.expected_at))
            for ln in res.lines
            if ln.backordered
        )
        key = event.idempotency_key
        await self._decide(StockDecision(event.event_id, order_id, key, res.id, plan, waiting))

    async def _on_backorder(self, msg: Msg) -> None:
        """Backordered units of an order's reservation filled, cut or re-dated."""
        event = _parse(stock_msg.BackorderChanged, msg)
        if event is None or not event.reservation.reference:
            return
        lines = tuple(
            (ln.sku, ln.location_id, ln.filled, ln.cut, _due(ln.expected_at)) for ln in event.lines
        )
        change = BackorderChanged(
            event.event_id, event.reservation.reference, event.reservation.id, lines
        )
        try:
            await handlers.follow(self._services.uow, change)
        except (Unavailable, Conflict):
            raise
        except NotFound:
            pass  # not an order's reservation (a storefront's cart, say)
        except OmniError as exc:
            log.error("backorder event %s not applied to its order: %s", change.event_id, exc)

    async def _on_rejected(self, msg: Msg) -> None:
        event = _parse(stock_msg.AllocationRejected, msg)
        order_id = order_id_of(event.idempotency_key) if event else None
        if event is None or order_id is None:
            return
        short = tuple(convert.short_line(s) for s in event.lines)
        key = event.idempotency_key
        await self._decide(
            StockDecision(event.event_id, order_id, key, short_lines=short, reason=event.reason)
        )

    async def _decide(self, decision: StockDecision) -> None:
        """Retries what may pass later (database busy or down); logs what never will."""
        try:
            await self._services.decide(decision)
        except (Unavailable, Conflict):
            raise
        except OmniError:
            pass  # logged where it was refused


DELIVERIES = {
    pickup_pb.SHORTAGE_POLICY_SHIP_TO_STORE: Delivery.SHIP_TO_STORE,
    pickup_pb.SHORTAGE_POLICY_SHIP_TO_HOME: Delivery.SHIP_TO_HOME,
}


def pickup_change(event: pickup_msg.PickupChanged) -> PickupOutcome | PickupShortage | None:
    """What a pickup event asks of its order."""
    task = event.task
    if event.HasField("shortage"):
        short = event.shortage
        delivery = DELIVERIES.get(short.policy)  # None: cancel the units
        return PickupShortage(
            event.event_id,
            task.order_id,
            task.store_id,
            short.sku,
            short.missing,
            delivery,
            task.associate_id,
        )
    if task.status == pickup_pb.PICKUP_STATUS_COLLECTED:
        picked = tuple((ln.sku, ln.picked) for ln in task.lines if ln.picked)
        return PickupOutcome(event.event_id, task.order_id, task.id, task.store_id, picked)
    if task.status == pickup_pb.PICKUP_STATUS_EXPIRED:
        deadline = task.hold_until.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")
        reason = f"not collected from {task.store_id} by {deadline}"
        return PickupOutcome(event.event_id, task.order_id, task.id, reason=reason)
    return None


def replacement_order(rma: returns_pb.Return) -> PlaceOrder:
    """The replacement order an exchange asks for, checked as a PlaceOrder request is."""
    quantities = {ln.sku: ln.quantity for ln in rma.lines}
    exchange = rma.exchange
    request = orders_pb.PlaceOrderRequest(
        idempotency_key=requests.EXCHANGE_KEY_PREFIX + rma.id,
        channel=rma.channel,
        customer_id=rma.customer_id,
        currency=rma.currency,
        lines=[
            orders_pb.PlaceOrderLine(
                sku=r.replacement_sku, quantity=quantities.get(r.sku, 0), unit_price=r.unit_price
            )
            for r in exchange.replacements
        ],
    )
    if exchange.WhichOneof("fulfilment") == "pickup":
        request.pickup.CopyFrom(exchange.pickup)
    else:
        request.ship.CopyFrom(exchange.ship)
    placed = requests.place_order(request, exchange=True)
    return replace(placed, exchange_of=(rma.order_id, rma.id))


def ship_task_change(
    event: pickup_msg.ShipTaskChanged,
) -> ShippedByTask | RejectedByTask | None:
    """What a ship task's event asks of its order."""
    task = event.task
    if event.HasField("rejection"):
        r = event.rejection
        reason = REJECTION_REASONS_FROM_PROTO.get(r.reason)
        if reason is None:
            log.error("ship task event %s gives no rejection reason", event.event_id)
            return None
        return RejectedByTask(
            event.event_id,
            task.order_id,
            task.location_id,
            r.sku,
            r.quantity,
            reason,
            r.associate_id,
        )
    if event.HasField("shipment"):
        s = event.shipment
        shipment = Shipment(
            s.id,
            task.location_id,
            tuple((ln.sku, ln.quantity) for ln in s.lines),
            s.carrier,
            s.tracking_number,
            event.occurred_at.ToDatetime(tzinfo=UTC),
        )
        return ShippedByTask(event.event_id, task.order_id, shipment, task.associate_id)
    return None


M = TypeVar(
    "M",
    stock_msg.StockReserved,
    stock_msg.AllocationRejected,
    stock_msg.BackorderChanged,
    pickup_msg.PickupChanged,
    pickup_msg.ShipTaskChanged,
    returns_msg.ReturnChanged,
)


def _due(expected_at: Timestamp) -> datetime | None:
    """A due time stock sent, if it sent one (unset: not known)."""
    return time_from("expected_at", expected_at) if expected_at.ByteSize() else None


def _parse(message_type: type[M], msg: Msg) -> M | None:
    try:
        return message_type.FromString(msg.data)
    except DecodeError:
        log.error("ignoring an undecodable message on %s", msg.subject)
        return None
