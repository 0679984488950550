"""What the pickup service tells others: a task changed (and, for some changes, more)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni.pickup.domain.model import PickupTask, ShortagePolicy
    from omni.pickup.domain.ship import ShipTask
    from omni.platform.channels import RejectionReason


class TaskChange(StrEnum):
    """The `<type>` of `pickup.events.<type>`."""

    PLACED = "placed"
    PICKING = "picking"
    READY = "ready"
    COLLECTED = "collected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    SHORTAGE = "shortage"
    BROUGHT = "brought"  # units missing here were brought by transfer, or will not be


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    missing: int
    policy: ShortagePolicy


@dataclass(frozen=True, slots=True)
class TaskChanged:
    """The task as the transaction left it; `sealed_code` on READY, `refund_due` on
    EXPIRED, `shortage` on SHORTAGE."""

    task: PickupTask
    change: TaskChange
    sealed_code: str = ""
    refund_due: int = 0
    shortage: Shortage | None = None


class ShipChange(StrEnum):
    """The `<type>` of `pickup.events.ship.<type>`."""

    PLACED = "placed"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    UPDATED = "updated"  # the order gave this location more units, or shipped some itself


@dataclass(frozen=True, slots=True)
class ShipUnits:
    """A shipment a ship task sent: its id is unique per shipment of the task."""

    id: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    carrier: str
    tracking_number: str


@dataclass(frozen=True, slots=True)
class ShipRejection:
    sku: str
    quantity: int
    reason: RejectionReason
    associate_id: str


@dataclass(frozen=True, slots=True)
class ShipTaskChanged:
    """The ship task as the transaction left it; `shipment` on SHIPPED by the task itself,
    `rejection` on REJECTED."""

    task: ShipTask
    change: ShipChange
    shipment: ShipUnits | None = None
    rejection: ShipRejection | None = None


Event = TaskChanged | ShipTaskChanged
