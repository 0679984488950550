"""Turns what a return raised into outbox messages: its events, and restocks for stock."""

from __future__ import annotations

from omni.platform.clock import new_id, utcnow
from omni.platform.outbox import OutboxMessage
from omni.platform.streams import RETURNS_EVENTS_PREFIX, STOCK_COMMAND
from omni.platform.wire import timestamp
from omni.returns import convert
from omni.returns.domain.events import ReturnChanged
from omni.returns.domain.outgoing import RestockStock
from omni.returns.v1 import messaging_pb2 as msg
from omni.stock.v1 import stock_pb2 as stock_pb


def to_outbox(event: ReturnChanged | RestockStock) -> OutboxMessage:
    event_id = new_id("evt")
    match event:
        case ReturnChanged(rma, change, received, refund, charge):
            payload = msg.ReturnChanged(
                event_id=event_id,
                occurred_at=timestamp(utcnow()),
                rma=convert.return_to_proto(rma),
                received=[convert.received_to_proto(r) for r in received],
                refund=refund,
                charge=charge,
            )
            return OutboxMessage(
                event_id, RETURNS_EVENTS_PREFIX + change.value, payload.SerializeToString()
            )
        case RestockStock(location_id, lines, key, reference):
            request = stock_pb.RestockRequest(
                location_id=location_id,
                lines=[stock_pb.RestockLine(sku=s, quantity=q, damaged=d) for s, q, d in lines],
                idempotency_key=key,
                reference=reference,
                actor="returns",
            )
            payload_bytes = request.SerializeToString()
            return OutboxMessage(event_id, STOCK_COMMAND.format("restock"), payload_bytes)
