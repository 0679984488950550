"""Conversions between the pickup domain and its protobuf messages (the wire)."""

from __future__ import annotations

from omni.pickup.domain.model import PickupStatus, PickupTask, ShortagePolicy
from omni.pickup.domain.ship import ShipTask, ShipTaskStatus
from omni.pickup.v1 import pickup_pb2 as pb
from omni.platform.wire import timestamp

# The wire enums are named after the domain's: PICKUP_STATUS_<X>, SHORTAGE_POLICY_<X>.
STATUSES = {s: getattr(pb, f"PICKUP_STATUS_{s.value}") for s in PickupStatus}
STATUSES_FROM_PROTO = {v: k for k, v in STATUSES.items()}
POLICIES = {p: getattr(pb, f"SHORTAGE_POLICY_{p.value}") for p in ShortagePolicy}
POLICIES_FROM_PROTO = {v: k for k, v in POLICIES.items()}
SHIP_STATUSES = {s: getattr(pb, f"SHIP_TASK_STATUS_{s.value}") for s in ShipTaskStatus}
SHIP_STATUSES_FROM_PROTO = {v: k for k, v in SHIP_STATUSES.items()}


def task_to_proto(task: PickupTask) -> pb.PickupTask:
    msg = pb.PickupTask(
        id=task.id,
        order_id=task.order_id,
        store_id=task.store_id,
        customer_id=task.customer_id,
        status=STATUSES[task.status],
        lines=[
            pb.PickupLine(
                sku=ln.sku,
                quantity=ln.quantity,
                picked=ln.picked,
                short=ln.short,
                unit_price=ln.unit_price,
                coming=ln.coming,
                arrived=ln.arrived,
            )
            for ln in task.lines
        ],
        currency=task.currency,
        associate_id=task.associate_id,
        created_at=timestamp(task.created_at),
        updated_at=timestamp(task.updated_at),
        failed_attempts=task.failed_attempts,
        version=task.version,
    )
    if task.hold_until:
        msg.hold_until.CopyFrom(timestamp(task.hold_until))
    return msg


def ship_task_to_proto(task: ShipTask) -> pb.ShipTask:
    return pb.ShipTask(
        id=task.id,
        order_id=task.order_id,
        location_id=task.location_id,
        status=SHIP_STATUSES[task.status],
        lines=[
            pb.ShipLine(
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                picked=ln.picked,
                rejected=ln.rejected,
                shipped=ln.shipped,
            )
            for ln in task.lines
        ],
        currency=task.currency,
        associate_id=task.associate_id,
        packages=task.packages,
        carrier=task.carrier,
        tracking_number=task.tracking_number,
        created_at=timestamp(task.created_at),
        updated_at=timestamp(task.updated_at),
        version=task.version,
        ship_to_region=task.ship_to_region,
    )
