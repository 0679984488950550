"""Turns what a task raised into outbox messages on pickup.events.<type>."""

from __future__ import annotations

from omni.pickup import convert
from omni.pickup.domain.events import Event
from omni.pickup.v1 import messaging_pb2 as msg
from omni.platform.clock import new_id, utcnow
from omni.platform.outbox import OutboxMessage
from omni.platform.streams import PICKUP_EVENTS_PREFIX
from omni.platform.wire import timestamp


def to_outbox(event: Event) -> OutboxMessage:
    event_id = new_id("evt")
    payload = msg.PickupChanged(
        event_id=event_id,
        occurred_at=timestamp(utcnow()),
        task=convert.task_to_proto(event.task),
        sealed_code=event.sealed_code,
        refund_due=event.refund_due,
    )
    if event.shortage is not None:
        payload.shortage.CopyFrom(
            msg.Shortage(
                sku=event.shortage.sku,
                missing=event.shortage.missing,
                policy=convert.POLICIES[event.shortage.policy],
            )
        )
    return OutboxMessage(
        event_id, PICKUP_EVENTS_PREFIX + event.change.value, payload.SerializeToString()
    )
