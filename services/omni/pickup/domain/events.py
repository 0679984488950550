"""What the pickup service tells others: a task changed (and, for some changes, more)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni.pickup.domain.model import PickupTask, ShortagePolicy


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


Event = TaskChanged
