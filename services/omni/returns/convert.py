"""Conversions between the returns domain and its protobuf messages (the wire)."""

from __future__ import annotations

from omni.common.v1 import common_pb2 as cpb
from omni.platform.channels import Channel
from omni.platform.wire import CHANNELS, timestamp
from omni.returns.domain.model import (
    Condition,
    Exchange,
    ExchangeStatus,
    Received,
    Return,
    ReturnStatus,
)
from omni.returns.v1 import returns_pb2 as pb

# The wire enums are named after the domain's: RETURN_STATUS_<X>, CONDITION_<X>.
STATUSES = {s: getattr(pb, f"RETURN_STATUS_{s.value}") for s in ReturnStatus}
STATUSES_FROM_PROTO = {v: k for k, v in STATUSES.items()}
CONDITIONS = {c: getattr(pb, f"CONDITION_{c.value}") for c in Condition}
CONDITIONS_FROM_PROTO = {v: k for k, v in CONDITIONS.items()}
EXCHANGE_STATUSES = {s: getattr(pb, f"EXCHANGE_STATUS_{s.value}") for s in ExchangeStatus}


def return_to_proto(rma: Return) -> pb.Return:
    msg = pb.Return(
        id=rma.id,
        order_id=rma.order_id,
        customer_id=rma.customer_id,
        channel=CHANNELS[Channel(rma.channel)],
        location_id=rma.location_id,
        status=STATUSES[rma.status],
        lines=[
            pb.ReturnLine(
                sku=ln.sku,
                quantity=ln.quantity,
                reason=ln.reason,
                sellable=ln.sellable,
                damaged=ln.damaged,
                missing=ln.missing,
                unit_price=ln.unit_price,
            )
            for ln in rma.lines
        ],
        currency=rma.currency,
        refunded=rma.refunded,
        created_at=timestamp(rma.created_at),
        updated_at=timestamp(rma.updated_at),
        version=rma.version,
        charged=rma.charged,
    )
    if rma.exchange:
        msg.exchange.CopyFrom(exchange_to_proto(rma.exchange, rma.difference))
    if rma.override:
        msg.override.CopyFrom(
            pb.Override(manager_id=rma.override.manager_id, reason=rma.override.reason)
        )
    return msg


def exchange_to_proto(exchange: Exchange, difference: int) -> pb.Exchange:
    msg = pb.Exchange(
        replacements=[
            pb.Replacement(sku=r.sku, replacement_sku=r.replacement_sku, unit_price=r.unit_price)
            for r in exchange.replacements
        ],
        advance=exchange.advance,
        status=EXCHANGE_STATUSES[exchange.status],
        replacement_order_id=exchange.replacement_order_id,
        difference=difference,
        reason=exchange.reason,
        ordered=exchange.ordered,
        withdrawing=exchange.withdrawing,
    )
    to = exchange.to
    if to.store_id:
        msg.pickup.location_id = to.store_id
    else:
        msg.ship.CopyFrom(
            cpb.ShipTo(region=to.region, latitude=to.latitude, longitude=to.longitude)
        )
    return msg


def received_to_proto(received: Received) -> pb.ReceivedLine:
    return pb.ReceivedLine(
        sku=received.sku,
        quantity=received.quantity,
        condition=CONDITIONS[received.condition],
        scan_id=received.scan_id,
    )
