"""The values an order is made of: statuses, fulfilment, lines and their allocations, shipments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni.platform.channels import RejectionReason


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"


ALLOCATION_KEY_PREFIX = "order:"


def order_id_of(allocation_key: str) -> str | None:
    """The order an allocation in stock belongs to, if it is an order's: `order:<id>` for
    the order itself, `order:<id>:r<n>` for a re-allocation of units found missing."""
    if allocation_key.startswith(ALLOCATION_KEY_PREFIX):
        return allocation_key.split(":")[1]
    return None


CANCELLABLE = {OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_FULFILLED}
SHIPPABLE = {OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_FULFILLED}
# Statuses that follow from the units alone (allocated, shipped, returned).
SETTLED_BY_UNITS = SHIPPABLE | {
    OrderStatus.FULFILLED,
    OrderStatus.PARTIALLY_RETURNED,
    OrderStatus.RETURNED,
}


@dataclass(frozen=True, slots=True)
class ShipTo:
    region: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class PickupAt:
    location_id: str


@dataclass(frozen=True, slots=True)
class NearLocation:
    """Ship to where a location is, from any other: units a store's shelf came up short of.
    `by_transfer`: brought to that store by transfer, for its customer to collect there."""

    location_id: str
    by_transfer: bool = False


Fulfilment = ShipTo | PickupAt


class Delivery(StrEnum):
    """Where an allocation's units go: as the order said, or, for units re-allocated after a
    store came up short, to that store or to the customer's home."""

    AS_ORDERED = "AS_ORDERED"
    SHIP_TO_STORE = "SHIP_TO_STORE"
    SHIP_TO_HOME = "SHIP_TO_HOME"


@dataclass(slots=True)
class Allocation:
    """Units of one line held at one location (by one stock reservation), and how many of
    them have shipped."""

    location_id: str
    quantity: int
    shipped: int = 0
    reservation_id: str = ""
    delivery: Delivery = Delivery.AS_ORDERED
    backordered: int = 0  # of the units, those sold against supply on its way, not here yet
    expected_at: datetime | None = None  # when the backordered units are due (None: unknown)

    @property
    def unshipped(self) -> int:
        return self.quantity - self.shipped

    @property
    def ready(self) -> int:
        """Units held on the shelf, not shipped yet: those that may ship now."""
        return self.unshipped - self.backordered


@dataclass(slots=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: int  # minor units of the order's currency
    allocations: list[Allocation] = field(default_factory=list)
    cancelled: int = 0  # units cancelled after confirmation (found missing, none elsewhere)
    returned: int = 0  # units the customer brought back (received by returns)
    brought: int = 0  # units brought to the pickup store by transfer so far (ship to store)
    rejections: list[Rejection] = field(default_factory=list)  # by stores, oldest first

    def rejected_by(self) -> tuple[str, ...]:
        """Locations that rejected units of this line: never given them again."""
        return tuple(sorted({r.location_id for r in self.rejections}))

    def at(self, location_id: str) -> list[Allocation]:
        """This line's allocations at a location with units ready to ship."""
        return [a for a in self.allocations if a.location_id == location_id and a.ready]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Units of a line a location could not ship, and why."""

    location_id: str
    quantity: int
    reason: RejectionReason
    associate_id: str
    at: datetime


REROUTE_MARK = ":x"  # in a re-allocation's key: units a store rejected (not found missing)


@dataclass(frozen=True, slots=True)
class Reallocation:
    """Units found missing, being allocated elsewhere under `key`."""

    key: str
    sku: str
    quantity: int
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class ShortLine:
    sku: str
    location_id: str  # empty: short across the network
    requested: int
    available: int


@dataclass(frozen=True, slots=True)
class Shipment:
    id: str
    location_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    carrier: str = ""
    tracking_number: str = ""
    shipped_at: datetime | None = None

    def same_as(self, other: Shipment) -> bool:
        """The same shipment sent again (its time aside)."""
        return (self.location_id, sorted(self.lines), self.carrier, self.tracking_number) == (
            other.location_id,
            sorted(other.lines),
            other.carrier,
            other.tracking_number,
        )
