"""A ship task: units of an order a location was given to ship (ship-from-store, or a
warehouse), picked, packed and sent, or rejected with a reason. Kept in step with its order:
the order says how many units the location has, the task what became of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni.pickup.domain.events import ShipChange, ShipRejection, ShipTaskChanged, ShipUnits
from omni.platform.channels import RejectionReason
from omni.platform.errors import FailedPrecondition

MAX_PACKAGES = 100


class ShipTaskStatus(StrEnum):
    PLACED = "PLACED"
    PICKING = "PICKING"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"  # the order was cancelled, or every unit was rejected here


@dataclass(slots=True)
class ShipLine:
    sku: str
    quantity: int  # units given here, those rejected here included
    unit_price: int
    picked: int = 0
    rejected: int = 0
    shipped: int = 0  # by this task, or recorded by a shipping desk

    @property
    def open(self) -> int:
        """Units still to go: neither shipped nor rejected."""
        return max(0, self.quantity - self.rejected - self.shipped)

    @property
    def to_pick(self) -> int:
        return max(0, self.quantity - self.rejected - max(self.picked, self.shipped))

    @property
    def in_hand(self) -> int:
        """Picked and not shipped yet."""
        return max(0, self.picked - self.shipped)


# Per SKU, what the order says of a location: (units given it, unit price, units shipped).
Units = dict[str, tuple[int, int, int]]


@dataclass(slots=True)
class ShipTask:
    """The aggregate. Every change bumps `version` and records what it raised in `events`."""

    id: str
    order_id: str
    location_id: str
    currency: str
    ship_to_region: str
    lines: list[ShipLine]
    created_at: datetime
    updated_at: datetime
    status: ShipTaskStatus = ShipTaskStatus.PLACED
    associate_id: str = ""
    packages: int = 0
    carrier: str = ""
    tracking_number: str = ""
    shipments: int = 0  # shipments this task sent (numbers their ids)
    version: int = 1
    order_version: int = 0  # the order's version last heard of
    events: list[ShipTaskChanged] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        task_id: str,
        order_id: str,
        location_id: str,
        currency: str,
        ship_to_region: str,
        order_version: int,
        units: Units,
        now: datetime,
        cancelled: bool = False,
    ) -> ShipTask:
        """New work: the units the order gives this location to ship. First heard of with
        the order cancelled, or with nothing left to send, the task is kept closed, so that
        older news of the order (delivered later) cannot open it."""
        lines = [ShipLine(sku, q, price, shipped=s) for sku, (q, price, s) in units.items() if q]
        task = cls(
            task_id,
            order_id,
            location_id,
            currency,
            ship_to_region,
            lines,
            now,
            now,
            order_version=order_version,
        )
        if cancelled or not any(ln.open for ln in lines):
            sent = not cancelled and any(ln.shipped for ln in lines)
            task.status = ShipTaskStatus.SHIPPED if sent else ShipTaskStatus.CANCELLED
        else:
            task.events.append(ShipTaskChanged(task, ShipChange.PLACED))
        return task

    def follow(self, order_version: int, units: Units, cancelled: bool, now: datetime) -> bool:
        """The order (at `order_version`) says what this location has of it; older news than
        already heard changes nothing. A cancelled order cancels what has not shipped.
        Returns whether the task changed."""
        if order_version <= self.order_version:
            return False
        self.order_version = order_version
        if cancelled:
            if self.status not in (ShipTaskStatus.SHIPPED, ShipTaskStatus.CANCELLED):
                self.status = ShipTaskStatus.CANCELLED
                self._changed(now, ShipChange.CANCELLED)
            return True
        changed = False
        for sku, (quantity, unit_price, shipped) in units.items():
            line = self._find(sku)
            if line is None:
                line = ShipLine(sku, 0, unit_price)
                self.lines.append(line)
            before = (line.quantity, line.shipped)
            line.quantity = max(quantity, line.rejected)
            line.shipped = max(line.shipped, shipped)
            line.picked = min(line.picked, line.quantity - line.rejected)
            changed |= before != (line.quantity, line.shipped)
        for line in self.lines:
            if line.sku not in units and line.quantity != line.rejected:
                line.quantity, changed = line.rejected, True
        if changed:
            self._changed(now, ShipChange.UPDATED)
            self._settle(now)
        return True

    def start(self, associate_id: str, now: datetime) -> None:
        """PLACED → PICKING; again (another associate takes over) is harmless."""
        self._require(ShipTaskStatus.PLACED, ShipTaskStatus.PICKING, action="be started")
        first = self.status is ShipTaskStatus.PLACED
        self.associate_id = associate_id
        self.status = ShipTaskStatus.PICKING
        self._changed(now, ShipChange.PICKING if first else None)

    def pick(self, sku: str, quantity: int, now: datetime) -> None:
        self._require(ShipTaskStatus.PICKING, action="be picked")
        line = self._line(sku)
        if quantity > line.to_pick:
            raise FailedPrecondition(
                f"every {sku} of this order is picked already"
                if not line.to_pick
                else f"only {line.to_pick} more {sku} to pick for this order, not {quantity}"
            )
        line.picked += quantity
        self._changed(now)

    def pack(self, packages: int, now: datetime) -> None:
        """PICKING → PACKED once every unit is picked or rejected."""
        self._require(ShipTaskStatus.PICKING, action="be packed")
        waiting = {ln.sku: ln.to_pick for ln in self.lines if ln.to_pick}
        if waiting:
            left = ", ".join(f"{n} {sku}" for sku, n in waiting.items())
            raise FailedPrecondition(f"pick or reject every item first: {left} still to pick")
        self.packages = packages
        self.status = ShipTaskStatus.PACKED
        self._changed(now, ShipChange.PACKED)

    def ship(self, carrier: str, tracking_number: str, now: datetime) -> None:
        """PACKED → SHIPPED: what is in hand leaves as one shipment of the order. The same
        shipment sent again changes nothing."""
        if self.status is ShipTaskStatus.SHIPPED and (carrier, tracking_number) == (
            self.carrier,
            self.tracking_number,
        ):
            return
        self._require(ShipTaskStatus.PACKED, action="be shipped")
        lines = tuple((ln.sku, ln.in_hand) for ln in self.lines if ln.in_hand)
        for line in self.lines:
            line.shipped += line.in_hand
        self.shipments += 1
        self.carrier, self.tracking_number = carrier, tracking_number
        self.status = ShipTaskStatus.SHIPPED
        shipment = ShipUnits(f"{self.id}:{self.shipments}", lines, carrier, tracking_number)
        self._changed(now, ShipChange.SHIPPED, shipment=shipment)
        self._settle(now)

    def reject(
        self,
        sku: str,
        quantity: int,
        reason: RejectionReason,
        associate_id: str,
        now: datetime,
        picked: int = 0,
    ) -> None:
        """Units this location cannot ship, `picked` of them picked already (say found
        damaged while packing), the rest from those still to pick: the order re-routes them
        and stock is corrected as `reason` says."""
        self._require(
            ShipTaskStatus.PLACED,
            ShipTaskStatus.PICKING,
            ShipTaskStatus.PACKED,
            action="have units rejected",
        )
        line = self._line(sku)
        if quantity > line.open:
            raise FailedPrecondition(
                f"only {line.open} {sku} left to ship on this order, not {quantity}"
            )
        if picked > min(quantity, line.in_hand):
            raise FailedPrecondition(
                f"only {line.in_hand} {sku} are picked for this order, not {picked}"
            )
        if quantity - picked > line.to_pick:
            raise FailedPrecondition(
                f"only {line.to_pick} {sku} are still to pick for this order; the other "
                f"{quantity - line.to_pick} you reject must be ones already picked"
                if line.to_pick
                else f"every {sku} of this order is picked: say how many of those to reject"
            )
        line.rejected += quantity
        line.picked -= picked
        rejection = ShipRejection(sku, quantity, reason, associate_id)
        self._changed(now, ShipChange.REJECTED, rejection=rejection)
        self._settle(now)

    def _settle(self, now: datetime) -> None:
        """After units changed: done once nothing is left to go (SHIPPED, or CANCELLED if
        nothing left from here); back to work if units came (again)."""
        if not any(ln.open for ln in self.lines):
            shipped = any(ln.shipped for ln in self.lines)
            done = ShipTaskStatus.SHIPPED if shipped else ShipTaskStatus.CANCELLED
            if self.status is not done:
                self.status = done
                self._changed(now, ShipChange(done.value.lower()))
            return
        if self.status in (ShipTaskStatus.SHIPPED, ShipTaskStatus.CANCELLED):
            self.status = ShipTaskStatus.PLACED  # more units to ship from here: new work
            self._changed(now, ShipChange.PLACED)
        elif self.status is ShipTaskStatus.PACKED and any(ln.to_pick for ln in self.lines):
            self.status = ShipTaskStatus.PICKING
            self._changed(now, ShipChange.PICKING)

    def _find(self, sku: str) -> ShipLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def _line(self, sku: str) -> ShipLine:
        line = self._find(sku)
        if line is None or not line.quantity:
            raise FailedPrecondition(f"{sku} is not on this order to ship")
        return line

    def _require(self, *allowed: ShipTaskStatus, action: str) -> None:
        if self.status not in allowed:
            raise FailedPrecondition(f"this order is {_SAID[self.status]}; it cannot {action} now")

    def _changed(
        self,
        now: datetime,
        change: ShipChange | None = None,
        *,
        shipment: ShipUnits | None = None,
        rejection: ShipRejection | None = None,
    ) -> None:
        self.version += 1
        self.updated_at = now
        if change is not None:
            self.events.append(ShipTaskChanged(self, change, shipment, rejection))


_SAID = {
    ShipTaskStatus.PLACED: "not started yet",
    ShipTaskStatus.PICKING: "being picked",
    ShipTaskStatus.PACKED: "packed",
    ShipTaskStatus.SHIPPED: "shipped",
    ShipTaskStatus.CANCELLED: "cancelled",
}
