"""Stock rules as plain Python: levels, their ledger, reservations. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from omni.platform.errors import FailedPrecondition


class LocationKind(StrEnum):
    WAREHOUSE = "WAREHOUSE"
    STORE = "STORE"


@dataclass(frozen=True, slots=True)
class Location:
    """A place that holds stock, with what it can do and where it is."""

    id: str
    name: str
    kind: LocationKind
    ships: bool = False
    pickup: bool = False
    accepts_returns: bool = False
    region: str = ""
    latitude: float | None = None
    longitude: float | None = None
    priority: int = 0
    daily_capacity: int | None = None  # ship orders it takes on per day (UTC); None: no limit
    paused: bool = False  # takes no new ship orders for now

    def takes_ship_orders(self, taken_today: int) -> bool:
        """Whether sourcing may give it one more ship order today."""
        full = self.daily_capacity is not None and taken_today >= self.daily_capacity
        return not (self.paused or full)


class MovementKind(StrEnum):
    RECEIPT = "RECEIPT"
    ADJUSTMENT = "ADJUSTMENT"
    COUNT = "COUNT"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    EXPIRE = "EXPIRE"
    COMMIT = "COMMIT"
    RESTOCK = "RESTOCK"
    DAMAGE = "DAMAGE"
    INBOUND = "INBOUND"  # supply due here (a purchase order) expected, or no longer expected
    BACKORDER = "BACKORDER"  # units sold against supply due here, not held on the shelf yet
    FILL = "FILL"  # backordered units now on the shelf: held for the order that waited
    CUT = "CUT"  # backordered units the supply no longer covers: given up


class ScanKind(StrEnum):
    RECEIVE = "RECEIVE"
    PICK = "PICK"
    COUNT = "COUNT"
    MOVE = "MOVE"
    DAMAGE = "DAMAGE"
    ADJUST = "ADJUST"


@dataclass(frozen=True, slots=True)
class Movement:
    """One append-only ledger entry: the deltas one change made to one level."""

    sku: str
    location_id: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    damaged_delta: int
    safety_stock_delta: int
    reference: str
    actor: str
    version: int
    incoming_delta: int = 0
    backordered_delta: int = 0


@dataclass(slots=True)
class StockLevel:
    """Stock of one SKU at one location. Every change goes through `apply`.

    `incoming`: units on their way here (open purchase orders, shipped transfers), not
    received yet. They are not on hand, so not `available`.
    `backordered`: units sold against that supply (backorders, preorders), not held on the
    shelf yet. They are sold only within what is coming, less what the shelf owes; supply
    cut below them is settled by cutting the newest (omni.stock.domain.presale)."""

    sku: str
    location_id: str
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    damaged: int = 0
    version: int = 0
    incoming: int = 0
    backordered: int = 0

    @property
    def available(self) -> int:
        """Units on the shelf that may be sold. Backordered units have the first claim on
        the shelf: whatever reaches it goes to the orders that waited, first come first."""
        return self.available_with(0)

    def available_with(self, due: int) -> int:
        """What may be promised once `due` more units have arrived (they make up for units
        reserved but missing first, then for units backordered)."""
        return max(0, self.on_hand + due - self.reserved - self.backordered - self.safety_stock)

    @property
    def presellable(self) -> int:
        """Units that may be sold against what is coming, beyond what the shelf has."""
        return max(0, self.available_with(self.incoming) - self.available)

    @classmethod
    def restored(cls, saved: Mapping[str, Any]) -> StockLevel:
        """A level as kept with an idempotency key; fields a later version added (or an
        earlier one lacked) are left out or take their defaults, so a replay through either
        version works."""
        return cls(**{f.name: saved[f.name] for f in fields(cls) if f.name in saved})

    def copy(self) -> StockLevel:
        """This state, apart from later changes (a third of dataclasses.replace's cost)."""
        return StockLevel(
            self.sku,
            self.location_id,
            self.on_hand,
            self.reserved,
            self.safety_stock,
            self.damaged,
            self.version,
            self.incoming,
            self.backordered,
        )

    def apply(
        self,
        kind: MovementKind,
        *,
        on_hand: int = 0,
        reserved: int = 0,
        damaged: int = 0,
        safety_stock: int = 0,
        incoming: int = 0,
        backordered: int = 0,
        reference: str = "",
        actor: str = "",
    ) -> Movement:
        """Changes the level by the given deltas and returns the ledger entry for it."""
        after = (
            self.on_hand + on_hand,
            self.reserved + reserved,
            self.damaged + damaged,
            self.safety_stock + safety_stock,
            self.incoming + incoming,
            self.backordered + backordered,
        )
        if min(after) < 0:
            raise FailedPrecondition(
                f"{kind.value.lower()} of {self.sku} at {self.location_id} would leave "
                f"on_hand={after[0]}, reserved={after[1]}, damaged={after[2]}, "
                f"safety_stock={after[3]}, incoming={after[4]}, backordered={after[5]}; "
                "none may be negative"
            )
        (
            self.on_hand,
            self.reserved,
            self.damaged,
            self.safety_stock,
            self.incoming,
            self.backordered,
        ) = after
        self.version += 1
        return Movement(
            self.sku,
            self.location_id,
            kind,
            on_hand,
            reserved,
            damaged,
            safety_stock,
            reference,
            actor,
            self.version,
            incoming,
            backordered,
        )


def fold(movements: list[Movement], sku: str, location_id: str) -> StockLevel:
    """The level obtained by applying a ledger from zero; equals the stored level."""
    level = StockLevel(sku, location_id)
    for m in movements:
        level.on_hand += m.on_hand_delta
        level.reserved += m.reserved_delta
        level.damaged += m.damaged_delta
        level.safety_stock += m.safety_stock_delta
        level.incoming += m.incoming_delta
        level.backordered += m.backordered_delta
        level.version += 1
    return level


@dataclass(frozen=True, slots=True)
class ShortLine:
    """A line that could not be held: what was asked and what was there."""

    sku: str
    location_id: str
    requested: int
    available: int


class InsufficientStock(FailedPrecondition):
    """Not every line could be held; nothing was reserved."""

    def __init__(self, lines: list[ShortLine]) -> None:
        described = ", ".join(
            f"{s.sku} at {s.location_id or 'shipping locations'}: asked {s.requested}, "
            f"available {s.available}"
            for s in lines
        )
        super().__init__(f"not enough stock: {described}")
        self.lines = lines


class ReservationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


@dataclass(slots=True)
class ReservationLine:
    sku: str
    location_id: str
    quantity: int
    committed: int = 0
    released: int = 0
    waiting: int = 0  # units of `outstanding` backordered: not on the shelf yet
    expected_at: datetime | None = None  # when the waiting units are due (None: not known)
    # Units of `outstanding` on their way here by a transfer made for them (sold already:
    # neither incoming nor backordered on the level; omni.stock.domain.transfers).
    coming: int = 0

    @property
    def outstanding(self) -> int:
        """Units still held or waited for."""
        return self.quantity - self.committed - self.released

    @property
    def held(self) -> int:
        """Units held on the shelf: those that may be committed (shipped) now."""
        return self.outstanding - self.waiting - self.coming


@dataclass(slots=True)
class Reservation:
    """Units held for a reference (order or cart) at one or more locations."""

    id: str
    reference: str
    lines: list[ReservationLine]
    created_at: datetime
    expires_at: datetime | None = None
    status: ReservationStatus = ReservationStatus.ACTIVE
    version: int = field(default=0)
    channel: str = ""  # the sales channel an allocation was for (its backorders count there)

    def line(self, sku: str, location_id: str) -> ReservationLine:
        for line in self.lines:
            if (line.sku, line.location_id) == (sku, location_id):
                return line
        raise FailedPrecondition(f"reservation {self.id} holds nothing of {sku} at {location_id}")

    def is_due(self, now: datetime) -> bool:
        """Active and past its expiry."""
        return (
            self.status is ReservationStatus.ACTIVE
            and self.expires_at is not None
            and self.expires_at <= now
        )
