"""Conversions between the returns domain and its protobuf messages (the wire)."""

from __future__ import annotations

from omni.platform.channels import Channel
from omni.platform.wire import CHANNELS, timestamp
from omni.returns.domain.model import Condition, Received, Return, ReturnStatus
from omni.returns.v1 import returns_pb2 as pb

# The wire enums are named after the domain's: RETURN_STATUS_<X>, CONDITION_<X>.
STATUSES = {s: getattr(pb, f"RETURN_STATUS_{s.value}") for s in ReturnStatus}
STATUSES_FROM_PROTO = {v: k for k, v in STATUSES.items()}
CONDITIONS = {c: getattr(pb, f"CONDITION_{c.value}") for c in Condition}
CONDITIONS_FROM_PROTO = {v: k for k, v in CONDITIONS.items()}


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
    )
    if rma.override:
        msg.override.CopyFrom(
            pb.Override(manager_id=rma.override.manager_id, reason=rma.override.reason)
        )
    return msg


def received_to_proto(received: Received) -> pb.ReceivedLine:
    return pb.ReceivedLine(
        sku=received.sku,
        quantity=received.quantity,
        condition=CONDITIONS[received.condition],
        scan_id=received.scan_id,
    )
