"""Turns domain events into outbox messages: a subject and a protobuf payload each."""

from __future__ import annotations

from google.protobuf.message import Message

from omni.platform.clock import new_id, utcnow
from omni.platform.outbox import OutboxMessage
from omni.platform.streams import AVAILABILITY_PREFIX, STOCK_EVENTS_PREFIX, availability_subject
from omni.stock import convert
from omni.stock.domain.events import (
    AllocationRejected,
    BackorderChanged,
    ChannelViewChanged,
    CountShortage,
    Event,
    LocationChanged,
    PresalePolicyChanged,
    PurchaseOrderChanged,
    ReservationChanged,
    SourcingRulesChanged,
    StockLevelChanged,
    StockReserved,
    TransferChanged,
)
from omni.stock.v1 import messaging_pb2 as msg
from omni.stock.v1 import stock_pb2 as pb


def to_outbox(event: Event) -> OutboxMessage:
    """The subject and payload for one event, with a fresh event id."""
    event_id = new_id("evt")
    payload: Message
    match event:
        case StockLevelChanged(level, movements):
            subject = availability_subject(level.location_id, level.sku)
            payload = changed = msg.StockLevelChanged()
            convert.level_to_proto(level, into=changed.level)
            for m in movements:
                convert.movement_to_proto(m, into=changed.movements.add())
        case StockReserved(reservation, key):
            subject = "reserved"
            payload = reserved = msg.StockReserved(idempotency_key=key)
            convert.reservation_to_proto(reservation, into=reserved.reservation)
        case AllocationRejected(reference, key, lines, reason):
            subject = "allocation_rejected"
            payload = msg.AllocationRejected(
                reference=reference,
                idempotency_key=key,
                lines=convert.short_lines_to_proto(lines),
                reason=reason,
            )
        case ReservationChanged(reservation, change):
            subject = change.value
            payload = msg.ReservationChanged()
            convert.reservation_to_proto(reservation, into=payload.reservation)
        case BackorderChanged(reservation, lines):
            subject = "backorder"
            payload = backorder = msg.BackorderChanged()
            convert.reservation_to_proto(reservation, into=backorder.reservation)
            for line in lines:
                sent = backorder.lines.add(
                    sku=line.sku, location_id=line.location_id, filled=line.filled, cut=line.cut
                )
                if line.expected_at is not None:
                    convert.set_time(sent.expected_at, line.expected_at)
        case PresalePolicyChanged(policy):
            subject = "presale_policy_changed"
            payload = msg.PresalePolicyChanged(policy=convert.presale_policy_to_proto(policy))
        case SourcingRulesChanged(channel, rules):
            subject = "sourcing_rules_changed"
            payload = msg.SourcingRulesChanged(
                rules=convert.sourcing_rules_to_proto(channel, list(rules))
            )
        case CountShortage(level, counted, short):
            subject = "count_shortage"
            payload = msg.CountShortage(
                level=convert.level_to_proto(level), counted=counted, short=short
            )
        case ChannelViewChanged(view):
            subject = "channel_view_changed"
            payload = msg.ChannelViewChanged(view=convert.channel_view_to_proto(view))
        case LocationChanged(location):
            subject = "location_changed"
            payload = msg.LocationChanged(location=convert.location_to_proto(location))
        case PurchaseOrderChanged(po, change, received, over_received, reason):
            subject = f"purchase_order.{change.value}"
            payload = changed_po = msg.PurchaseOrderChanged(
                received=convert.units_to_proto(received),
                over_received=convert.units_to_proto(over_received),
                reason=reason,
            )
            convert.purchase_order_to_proto(po, into=changed_po.purchase_order)
        case TransferChanged(transfer, change, arrivals, reason):
            subject = f"transfer.{change.value}"
            payload = moved = msg.TransferChanged(
                arrived=[
                    pb.ArrivedLine(sku=sku, accepted=accepted, rejected=rejected)
                    for sku, accepted, rejected in arrivals
                ],
                reason=reason,
            )
            convert.transfer_to_proto(transfer, into=moved.transfer)
    payload.event_id = event_id
    convert.set_time(payload.occurred_at, utcnow())
    if not subject.startswith(AVAILABILITY_PREFIX):
        subject = STOCK_EVENTS_PREFIX + subject
    return OutboxMessage(event_id, subject, payload.SerializeToString())
