"""An order and the rules of its states: placed, allocated or rejected, shipped, cancelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni.orders.domain.events import (
    AllocateStock,
    CommitStock,
    Event,
    OrderChange,
    OrderChanged,
    ReleaseStock,
)
from omni.platform.errors import AlreadyExists, FailedPrecondition


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
    """The order an allocation in stock belongs to, if it is an order's."""
    if allocation_key.startswith(ALLOCATION_KEY_PREFIX):
        return allocation_key.removeprefix(ALLOCATION_KEY_PREFIX)
    return None


CANCELLABLE = {OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_FULFILLED}
SHIPPABLE = {OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_FULFILLED}


@dataclass(frozen=True, slots=True)
class ShipTo:
    region: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class PickupAt:
    location_id: str


Fulfilment = ShipTo | PickupAt


@dataclass(slots=True)
class Allocation:
    """Units of one line held at one location, and how many of them have shipped."""

    location_id: str
    quantity: int
    shipped: int = 0

    @property
    def unshipped(self) -> int:
        return self.quantity - self.shipped


@dataclass(slots=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: int  # minor units of the order's currency
    allocations: list[Allocation] = field(default_factory=list)

    def allocation(self, location_id: str) -> Allocation | None:
        return next((a for a in self.allocations if a.location_id == location_id), None)


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


@dataclass(slots=True)
class Order:
    """The aggregate. Every change bumps `version` and records what it raised in `events`."""

    id: str
    channel: str
    customer_id: str
    currency: str
    lines: list[OrderLine]
    fulfilment: Fulfilment
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.PENDING
    short_lines: list[ShortLine] = field(default_factory=list)
    reason: str = ""
    reservation_id: str = ""
    shipments: list[Shipment] = field(default_factory=list)
    version: int = 1
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_price for line in self.lines)

    @property
    def allocation_key(self) -> str:
        """The idempotency key of this order's allocation in stock: one reservation ever."""
        return ALLOCATION_KEY_PREFIX + self.id

    def line(self, sku: str) -> OrderLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def placed(self) -> None:
        """Announces a new order and asks stock to allocate it."""
        self._changed(OrderChange.PLACED, self.updated_at)
        lines = tuple((ln.sku, ln.quantity) for ln in self.lines)
        self.events.append(AllocateStock(self.id, self.allocation_key, lines, self.fulfilment))

    def confirm(self, reservation_id: str, plan: list[tuple[str, str, int]], now: datetime) -> None:
        """Stock allocated the order: `plan` is (sku, location, quantity) per reserved line.

        An order cancelled while stock was deciding gives the reservation straight back.
        """
        if self.status is OrderStatus.CANCELLED and not self.reservation_id:
            self.reservation_id = reservation_id
            self.events.append(ReleaseStock(reservation_id, None, self._cancel_key))
            return
        if self.status is not OrderStatus.PENDING:
            return  # decided before: a redelivered decision changes nothing
        by_sku = {ln.sku: ln for ln in self.lines}
        strangers = sorted({sku for sku, _, _ in plan} - by_sku.keys())
        if strangers:  # checked before anything changes
            raise FailedPrecondition(f"stock allocated {strangers}, which order {self.id} lacks")
        for sku, location_id, qty in plan:
            by_sku[sku].allocations.append(Allocation(location_id, qty))
        self.reservation_id = reservation_id
        self.status = OrderStatus.CONFIRMED
        self._changed(OrderChange.CONFIRMED, now)

    def reject(self, short_lines: list[ShortLine], reason: str, now: datetime) -> None:
        """Stock could not allocate the order (short lines) or refused it (reason)."""
        if self.status is not OrderStatus.PENDING:
            return
        self.short_lines = list(short_lines)
        self.reason = reason or "not enough stock for " + ", ".join(
            f"{s.sku} ({s.available} of {s.requested} available)" for s in short_lines
        )
        self.status = OrderStatus.REJECTED
        self._changed(OrderChange.REJECTED, now)

    def cancel(self, reason: str, now: datetime) -> None:
        """Cancels what has not shipped and releases exactly those units (so the release
        and any shipment's commit may reach stock in either order). Cancelling twice is
        harmless."""
        if self.status is OrderStatus.CANCELLED:
            return
        if self.status not in CANCELLABLE:
            raise FailedPrecondition(
                f"order {self.id} is {self.status.value}; only a PENDING, CONFIRMED or "
                "PARTIALLY_FULFILLED order can be cancelled"
            )
        unshipped = tuple(
            (ln.sku, a.location_id, a.unshipped)
            for ln in self.lines
            for a in ln.allocations
            if a.unshipped
        )
        if self.reservation_id and unshipped:
            self.events.append(ReleaseStock(self.reservation_id, unshipped, self._cancel_key))
        self.reason = reason or "cancelled"
        self.status = OrderStatus.CANCELLED
        self._changed(OrderChange.CANCELLED, now)

    def ship(self, shipment: Shipment, now: datetime) -> None:
        """Records units leaving a location; stock commits them. A resent shipment is
        harmless; the same id with other content is refused."""
        earlier = next((s for s in self.shipments if s.id == shipment.id), None)
        if earlier is not None:
            if not earlier.same_as(shipment):
                raise AlreadyExists(
                    f"shipment {shipment.id} of order {self.id} was recorded with other "
                    "content; use a new shipment id"
                )
            return
        if self.status not in SHIPPABLE:
            raise FailedPrecondition(
                f"order {self.id} is {self.status.value}; only a CONFIRMED or "
                "PARTIALLY_FULFILLED order can ship"
            )
        targets = [(self._shippable(sku, shipment.location_id, q), q) for sku, q in shipment.lines]
        for allocation, qty in targets:
            allocation.shipped += qty
        self.shipments.append(shipment)
        done = all(a.unshipped == 0 for ln in self.lines for a in ln.allocations)
        self.status = OrderStatus.FULFILLED if done else OrderStatus.PARTIALLY_FULFILLED
        key = f"ship:{self.id}:{len(self.shipments)}"
        lines = tuple((sku, shipment.location_id, qty) for sku, qty in shipment.lines)
        self.events.append(CommitStock(self.reservation_id, lines, key))
        self._changed(OrderChange.SHIPPED, now, shipment)

    def hand_over(
        self, task_id: str, store_id: str, lines: tuple[tuple[str, int], ...], now: datetime
    ) -> None:
        """The customer collected a pickup: recorded as a shipment from the store."""
        handover = Shipment(f"pickup:{task_id}", store_id, lines, "customer pickup", "", now)
        self.ship(handover, now)

    def _shippable(self, sku: str, location_id: str, qty: int) -> Allocation:
        line = self.line(sku)
        allocation = line.allocation(location_id) if line else None
        if line is None or allocation is None or qty > allocation.unshipped:
            held = allocation.unshipped if allocation else 0
            raise FailedPrecondition(
                f"cannot ship {qty} of {sku} from {location_id}: order {self.id} has {held} "
                "allocated there and not yet shipped"
            )
        return allocation

    @property
    def _cancel_key(self) -> str:
        return f"cancel:{self.id}"

    def _changed(
        self, change: OrderChange, now: datetime, shipment: Shipment | None = None
    ) -> None:
        if change is not OrderChange.PLACED:
            self.version += 1
            self.updated_at = now
        self.events.append(OrderChanged(self, change, shipment))
