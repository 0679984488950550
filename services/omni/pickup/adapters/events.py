"""Turns what a task raised into outbox messages: pickup.events.<type> for pickup tasks,
pickup.events.ship.<type> for ship tasks."""

from __future__ import annotations

from omni.pickup import convert
from omni.pickup.domain.events import Event, ShipTaskChanged
from omni.pickup.v1 import messaging_pb2 as msg
from omni.platform.clock import new_id, utcnow
from omni.platform.outbox import OutboxMessage
from omni.platform.streams import PICKUP_EVENTS_PREFIX, SHIP_TASK_EVENTS_PREFIX
from omni.platform.wire import REJECTION_REASONS, timestamp


def to_outbox(event: Event) -> OutboxMessage:
    event_id = new_id("evt")
    if isinstance(event, ShipTaskChanged):
        return _ship_outbox(event_id, event)
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


def _ship_outbox(event_id: str, event: ShipTaskChanged) -> OutboxMessage:
    payload = msg.ShipTaskChanged(
        event_id=event_id,
        occurred_at=timestamp(utcnow()),
        task=convert.ship_task_to_proto(event.task),
    )
    if event.shipment is not None:
        s = event.shipment
        payload.shipment.CopyFrom(
            msg.ShipTaskShipment(
                id=s.id,
                lines=[msg.ShipTaskUnits(sku=sku, quantity=q) for sku, q in s.lines],
                carrier=s.carrier,
                tracking_number=s.tracking_number,
            )
        )
    if event.rejection is not None:
        r = event.rejection
        payload.rejection.CopyFrom(
            msg.ShipTaskRejection(
                sku=r.sku,
                quantity=r.quantity,
                reason=REJECTION_REASONS[r.reason],
                associate_id=r.associate_id,
            )
        )
    subject = SHIP_TASK_EVENTS_PREFIX + event.change.value
    return OutboxMessage(event_id, subject, payload.SerializeToString())
