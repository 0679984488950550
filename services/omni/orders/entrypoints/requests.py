"""Checks each request and turns it into a command; every failure is an InvalidArgument."""

from __future__ import annotations

import re
from datetime import datetime

from omni.orders import convert
from omni.orders.domain import commands
from omni.orders.domain.model import Fulfilment, PickupAt, Shipment, ShipTo
from omni.orders.v1 import orders_pb2 as pb
from omni.platform import validation as check
from omni.platform.clock import utcnow
from omni.platform.errors import InvalidArgument
from omni.platform.wire import channel, required_channel, time_from

_CURRENCY = re.compile(r"[A-Z]{3}")  # fullmatch: "$" would let "EUR\n" pass


EXCHANGE_KEY_PREFIX = "exchange:"  # the keys of exchanges' replacement orders


def place_order(msg: pb.PlaceOrderRequest, *, exchange: bool = False) -> commands.PlaceOrder:
    check.lines("lines", msg.lines)
    lines = tuple(
        (
            check.identifier(f"lines[{i}].sku", ln.sku),
            check.quantity(f"lines[{i}].quantity", ln.quantity),
            check.non_negative(
                f"lines[{i}].unit_price", ln.unit_price, maximum=check.MAX_UNIT_PRICE
            ),
        )
        for i, ln in enumerate(msg.lines)
    )
    check.each_once("SKU", [sku for sku, _, _ in lines])
    if sum(qty * price for _, qty, price in lines) > check.MAX_ORDER_TOTAL:
        raise InvalidArgument(
            f"the order's total may be at most {check.MAX_ORDER_TOTAL} minor units"
        )
    if not _CURRENCY.fullmatch(msg.currency):
        raise InvalidArgument(
            "currency must be an ISO 4217 code of three capital letters, "
            f"got {check.quoted(msg.currency)}"
        )
    key = check.identifier("idempotency_key", msg.idempotency_key)
    if key.startswith(EXCHANGE_KEY_PREFIX) and not exchange:
        raise InvalidArgument(
            f"idempotency keys starting {EXCHANGE_KEY_PREFIX!r} are kept for exchanges"
        )
    return commands.PlaceOrder(
        idempotency_key=key,
        channel=required_channel(msg.channel).value,  # a str, as the command (and its hash) had
        customer_id=check.identifier("customer_id", msg.customer_id),
        currency=msg.currency,
        lines=lines,
        fulfilment=_fulfilment(msg),
    )


def _fulfilment(msg: pb.PlaceOrderRequest) -> Fulfilment:
    which = msg.WhichOneof("fulfilment")
    if which == "pickup":
        return PickupAt(check.identifier("pickup.location_id", msg.pickup.location_id))
    if which == "ship":
        ship = msg.ship
        has_lat, has_long = ship.HasField("latitude"), ship.HasField("longitude")
        if has_lat != has_long:
            raise InvalidArgument("give both ship.latitude and ship.longitude, or neither")
        return ShipTo(
            check.identifier("ship.region", ship.region),
            check.coordinate("ship.latitude", ship.latitude if has_lat else None, 90),
            check.coordinate("ship.longitude", ship.longitude if has_long else None, 180),
        )
    raise InvalidArgument("a fulfilment is required: ship (a destination) or pickup (a store)")


def status(value: int) -> str:
    if value == pb.ORDER_STATUS_UNSPECIFIED:
        return ""
    if value not in convert.STATUSES_FROM_PROTO:
        raise InvalidArgument(f"status {value} is not an OrderStatus")
    return convert.STATUSES_FROM_PROTO[value].value


def list_orders(msg: pb.ListOrdersRequest) -> commands.ListOrders:
    size = check.page_size(msg.page_size)
    wanted = channel(msg.channel)
    placed_from = _moment("placed_from", msg, "placed_from")
    placed_before = _moment("placed_before", msg, "placed_before")
    if placed_from and placed_before and placed_before <= placed_from:
        raise InvalidArgument("placed_before must come after placed_from")
    return commands.ListOrders(
        customer_id=check.optional_identifier("customer_id", msg.customer_id),
        channel=wanted.value if wanted else "",
        status=status(msg.status),
        page_size=size,
        page_token=check.text("page_token", msg.page_token),
        placed_from=placed_from,
        placed_before=placed_before,
    )


def _moment(name: str, msg: pb.ListOrdersRequest, field: str) -> datetime | None:
    """A timestamp field, if set; one no calendar holds is refused."""
    return time_from(name, getattr(msg, field)) if msg.HasField(field) else None


def cancel_order(msg: pb.CancelOrderRequest) -> commands.CancelOrder:
    return commands.CancelOrder(
        order_id=check.identifier("id", msg.id), reason=check.text("reason", msg.reason)
    )


def record_shipment(msg: pb.RecordShipmentRequest) -> commands.RecordShipment:
    check.lines("lines", msg.lines)
    lines = tuple(
        (
            check.identifier(f"lines[{i}].sku", ln.sku),
            check.quantity(f"lines[{i}].quantity", ln.quantity),
        )
        for i, ln in enumerate(msg.lines)
    )
    check.each_once("SKU", [sku for sku, _ in lines])
    shipment = Shipment(
        id=check.identifier("shipment_id", msg.shipment_id),
        location_id=check.identifier("location_id", msg.location_id),
        lines=lines,
        carrier=check.text("carrier", msg.carrier),
        tracking_number=check.text("tracking_number", msg.tracking_number),
        shipped_at=utcnow(),
    )
    return commands.RecordShipment(check.identifier("order_id", msg.order_id), shipment)
