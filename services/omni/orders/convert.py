"""Conversions between the orders domain and its protobuf messages (the wire)."""

from __future__ import annotations

from omni.common.v1 import common_pb2 as cpb
from omni.orders.domain.model import (
    Allocation,
    Delivery,
    OrderStatus,
    PickupAt,
    Shipment,
    ShipTo,
    ShortLine,
)
from omni.orders.domain.order import Order
from omni.orders.v1 import orders_pb2 as pb
from omni.platform.channels import Channel
from omni.platform.wire import CHANNELS, REJECTION_REASONS, timestamp

# The wire enum is named after the domain's: ORDER_STATUS_<X>.
STATUSES = {s: getattr(pb, f"ORDER_STATUS_{s.value}") for s in OrderStatus}
STATUSES_FROM_PROTO = {v: k for k, v in STATUSES.items()}
DELIVERIES = {d: getattr(pb, f"DELIVERY_{d.value}") for d in Delivery}


def order_to_proto(order: Order) -> pb.Order:
    msg = pb.Order(
        id=order.id,
        channel=CHANNELS[Channel(order.channel)],
        customer_id=order.customer_id,
        currency=order.currency,
        lines=[
            pb.OrderLine(
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                allocations=[_allocation_to_proto(a) for a in ln.allocations],
                cancelled=ln.cancelled,
                returned=ln.returned,
                reallocating=sum(r.quantity for r in order.reallocations if r.sku == ln.sku),
                brought_to_store=ln.brought,
                reallocating_to_store=sum(
                    r.quantity
                    for r in order.reallocations
                    if r.sku == ln.sku and r.delivery is Delivery.SHIP_TO_STORE
                ),
                rejections=[
                    pb.LineRejection(
                        location_id=r.location_id,
                        quantity=r.quantity,
                        reason=REJECTION_REASONS[r.reason],
                        associate_id=r.associate_id,
                        rejected_at=timestamp(r.at),
                    )
                    for r in ln.rejections
                ],
            )
            for ln in order.lines
        ],
        status=STATUSES[order.status],
        short_lines=[
            cpb.ShortLine(
                sku=s.sku, location_id=s.location_id, requested=s.requested, available=s.available
            )
            for s in order.short_lines
        ],
        reason=order.reason,
        reservation_id=order.reservation_id,
        shipments=[shipment_to_proto(s) for s in order.shipments],
        created_at=timestamp(order.created_at),
        updated_at=timestamp(order.updated_at),
        version=order.version,
        total=order.total,
        shortages=order.shortages,
        exchanges=[
            pb.OrderExchange(return_id=r, replacement_order_id=o) for r, o in order.exchanges
        ],
    )
    if order.exchange_of:
        msg.exchange_of_order_id, msg.exchange_return_id = order.exchange_of
    if isinstance(order.fulfilment, PickupAt):
        msg.pickup.location_id = order.fulfilment.location_id
    else:
        msg.ship.CopyFrom(ship_to_proto(order.fulfilment))
    return msg


def ship_to_proto(ship: ShipTo) -> cpb.ShipTo:
    return cpb.ShipTo(region=ship.region, latitude=ship.latitude, longitude=ship.longitude)


def shipment_to_proto(shipment: Shipment) -> pb.Shipment:
    msg = pb.Shipment(
        id=shipment.id,
        location_id=shipment.location_id,
        lines=[pb.ShipmentLine(sku=sku, quantity=qty) for sku, qty in shipment.lines],
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
    )
    if shipment.shipped_at:
        msg.shipped_at.CopyFrom(timestamp(shipment.shipped_at))
    return msg


def short_line(msg: cpb.ShortLine) -> ShortLine:
    return ShortLine(msg.sku, msg.location_id, msg.requested, msg.available)


def _allocation_to_proto(a: Allocation) -> pb.Allocation:
    msg = pb.Allocation(
        location_id=a.location_id,
        quantity=a.quantity,
        shipped=a.shipped,
        reservation_id=a.reservation_id,
        delivery=DELIVERIES[a.delivery],
        backordered=a.backordered,
    )
    if a.expected_at is not None:
        msg.expected_at.CopyFrom(timestamp(a.expected_at))
    return msg
