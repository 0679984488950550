"""What callers and other services ask of the pickup service, checked and free of wire types."""

from __future__ import annotations

from dataclasses import dataclass

from omni.pickup.domain.model import ShortagePolicy
from omni.platform.channels import RejectionReason


@dataclass(frozen=True, slots=True)
class OpenTask:
    """A confirmed pickup order (from orders.events.confirmed)."""

    event_id: str
    order_id: str
    store_id: str
    customer_id: str
    currency: str
    lines: tuple[tuple[str, int, int], ...]  # (sku, quantity at the store, unit_price)
    replacement: bool = False  # an exchange's replacement: its return settles the money


@dataclass(frozen=True, slots=True)
class BringUnits:
    """What a pickup order says of units it brings to its store by transfer (orders.events
    reallocated, backorder, shortage): per SKU, (still coming, arrived)."""

    event_id: str
    order_id: str
    order_version: int
    order_shortages: int  # of the task's shortages, those the order has taken in
    lines: tuple[tuple[str, int, int], ...]
    opened: OpenTask | None = None  # the task to open if it has none (nothing waits)


@dataclass(frozen=True, slots=True)
class CancelTask:
    """The order was cancelled (orders.events.cancelled); `opened` is the task it would have
    had, so a cancellation that overtakes the confirmation still ends the task."""

    event_id: str
    opened: OpenTask


@dataclass(frozen=True, slots=True)
class RecordPick:
    task_id: str
    scan_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ReportShortage:
    task_id: str
    sku: str
    missing: int
    associate_id: str


@dataclass(frozen=True, slots=True)
class CompletePickup:
    task_id: str
    code: str
    associate_id: str


@dataclass(frozen=True, slots=True)
class SetStorePolicy:
    store_id: str
    shortage: ShortagePolicy


@dataclass(frozen=True, slots=True)
class ListPickups:
    store_id: str
    status: str = ""
    page_size: int = 50
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class FollowOrder:
    """What an order event says of the units locations ship for it (orders.events): per
    location, per SKU (units given it, unit price, units shipped)."""

    order_id: str
    order_version: int
    currency: str
    ship_to_region: str
    cancelled: bool
    work: tuple[tuple[str, tuple[tuple[str, int, int, int], ...]], ...]


@dataclass(frozen=True, slots=True)
class RecordShipPick:
    task_id: str
    scan_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ShipTaskOut:
    task_id: str
    carrier: str
    tracking_number: str


@dataclass(frozen=True, slots=True)
class RejectShipUnits:
    task_id: str
    sku: str
    quantity: int
    reason: RejectionReason
    associate_id: str
    rejection_id: str
    picked: int = 0  # of `quantity`, units picked already


@dataclass(frozen=True, slots=True)
class ListShipTasks:
    location_id: str
    status: str = ""
    page_size: int = 50
    page_token: str = ""
