"""Turns what an order raised into outbox messages: its own events, and commands for stock."""

from __future__ import annotations

from omni.common.v1 import common_pb2 as cpb
from omni.orders import convert
from omni.orders.domain.events import OrderChanged
from omni.orders.domain.model import Fulfilment, NearLocation, PickupAt
from omni.orders.domain.outgoing import (
    AllocateStock,
    Command,
    CommitStock,
    CorrectStock,
    ReleaseStock,
    WriteOffStock,
)
from omni.orders.v1 import messaging_pb2 as msg
from omni.platform.channels import Channel
from omni.platform.clock import new_id, utcnow
from omni.platform.outbox import OutboxMessage
from omni.platform.streams import ORDERS_EVENTS_PREFIX, STOCK_COMMAND
from omni.platform.wire import CHANNELS, REJECTION_REASONS
from omni.stock.v1 import stock_pb2 as stock_pb


def to_outbox(event: OrderChanged | Command) -> OutboxMessage:
    """The subject and payload for one event or command, with a fresh message id."""
    event_id = new_id("evt")
    match event:
        case OrderChanged(order, change, shipment, refund_due):
            payload = msg.OrderChanged(
                event_id=event_id,
                occurred_at=convert.timestamp(utcnow()),
                order=convert.order_to_proto(order),
                refund_due=refund_due,
            )
            if shipment is not None:
                payload.shipment.CopyFrom(convert.shipment_to_proto(shipment))
            return OutboxMessage(
                event_id, ORDERS_EVENTS_PREFIX + change.value, payload.SerializeToString()
            )
        case AllocateStock(order_id, key, lines, fulfilment, channel, excluded):
            request = stock_pb.AllocateRequest(
                idempotency_key=key,
                reference=order_id,
                lines=[stock_pb.AllocateLine(sku=sku, quantity=qty) for sku, qty in lines],
                channel=CHANNELS[Channel(channel)] if channel else cpb.CHANNEL_UNSPECIFIED,
                exclude_location_ids=excluded,
            )
            _fulfilment_to_stock(fulfilment, request)
            return _command(event_id, "allocate", request.SerializeToString())
        case ReleaseStock(reservation_id, lines, key):
            release = stock_pb.ReleaseRequest(
                reservation_id=reservation_id,
                lines=_stock_lines(lines or ()),
                idempotency_key=key,
            )
            return _command(event_id, "release", release.SerializeToString())
        case CommitStock(reservation_id, lines, key):
            commit = stock_pb.CommitRequest(
                reservation_id=reservation_id, lines=_stock_lines(lines), idempotency_key=key
            )
            return _command(event_id, "commit", commit.SerializeToString())
        case CorrectStock(sku, location_id, quantity, reason, key, actor, note):
            correct = stock_pb.CorrectStockRequest(
                sku=sku,
                location_id=location_id,
                quantity=quantity,
                reason=REJECTION_REASONS[reason] if reason else cpb.REJECTION_REASON_UNSPECIFIED,
                idempotency_key=key,
                actor=actor,
                note=note,
            )
            return _command(event_id, "correct", correct.SerializeToString())
        case WriteOffStock(reservation_id, lines, key, actor, reason):
            write_off = stock_pb.WriteOffRequest(
                reservation_id=reservation_id,
                lines=_stock_lines(lines),
                idempotency_key=key,
                actor=actor,
                reason=REJECTION_REASONS[reason],
            )
            return _command(event_id, "write_off", write_off.SerializeToString())


def _command(event_id: str, name: str, payload: bytes) -> OutboxMessage:
    return OutboxMessage(event_id, STOCK_COMMAND.format(name), payload)


def _stock_lines(lines: tuple[tuple[str, str, int], ...]) -> list[stock_pb.CommitLine]:
    return [stock_pb.CommitLine(sku=s, location_id=loc, quantity=q) for s, loc, q in lines]


def _fulfilment_to_stock(
    fulfilment: Fulfilment | NearLocation, request: stock_pb.AllocateRequest
) -> None:
    """Sets an AllocateRequest's fulfilment from an order's (or a re-allocation's)."""
    if isinstance(fulfilment, PickupAt):
        request.pickup.location_id = fulfilment.location_id
    elif isinstance(fulfilment, NearLocation):
        request.near.location_id = fulfilment.location_id
        request.near.by_transfer = fulfilment.by_transfer
    else:
        request.ship.CopyFrom(
            cpb.ShipTo(
                region=fulfilment.region,
                latitude=fulfilment.latitude,
                longitude=fulfilment.longitude,
            )
        )
