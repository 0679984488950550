"""Facts the stock service publishes (past tense). The level book (omni.stock.domain.book)
records what its operations decide: levels changed, reservations made, changed or refused,
counts short. Locations and channel views are announced whole each time one is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from omni.stock.domain.channels import ChannelView
from omni.stock.domain.model import Location, Movement, Reservation, ShortLine, StockLevel

if TYPE_CHECKING:
    from omni.stock.domain.presale import PresalePolicy
    from omni.stock.domain.purchasing import PurchaseOrder
    from omni.stock.domain.sourcing import SourcingRule
    from omni.stock.domain.transfers import Transfer


@dataclass(frozen=True, slots=True)
class StockLevelChanged:
    """A level as one transaction left it, and the movements that transaction made to it."""

    level: StockLevel
    movements: tuple[Movement, ...]


@dataclass(frozen=True, slots=True)
class StockReserved:
    reservation: Reservation
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class AllocationRejected:
    """Not enough stock (the short lines), or refused outright (the reason, no lines)."""

    reference: str
    idempotency_key: str
    lines: list[ShortLine]
    reason: str = ""


class ReservationChange(StrEnum):
    RELEASED = "released"
    EXPIRED = "expired"
    COMMITTED = "committed"


@dataclass(frozen=True, slots=True)
class ReservationChanged:
    reservation: Reservation
    change: ReservationChange


@dataclass(frozen=True, slots=True)
class BackorderLine:
    """What settling did to one waiting line: units filled from the shelf, units cut, and
    when the rest is due (None: nothing waits, or not known)."""

    sku: str
    location_id: str
    filled: int
    cut: int
    expected_at: datetime | None


@dataclass(frozen=True, slots=True)
class BackorderChanged:
    """Waiting lines of a reservation filled from the shelf, cut, or re-dated."""

    reservation: Reservation
    lines: tuple[BackorderLine, ...]


@dataclass(frozen=True, slots=True)
class PresalePolicyChanged:
    policy: PresalePolicy


@dataclass(frozen=True, slots=True)
class SourcingRulesChanged:
    channel: str
    rules: tuple[SourcingRule, ...]


@dataclass(frozen=True, slots=True)
class LocationChanged:
    location: Location


@dataclass(frozen=True, slots=True)
class CountShortage:
    """A count found fewer units than are reserved there."""

    level: StockLevel
    counted: int
    short: int


@dataclass(frozen=True, slots=True)
class ChannelViewChanged:
    view: ChannelView


class PurchaseOrderChange(StrEnum):
    CREATED = "created"
    RECEIVED = "received"
    AMENDED = "amended"
    CLOSED = "closed"
    CANCELLED = "cancelled"


Units = tuple[tuple[str, int], ...]  # (sku, quantity)


@dataclass(frozen=True, slots=True)
class PurchaseOrderChanged:
    """A purchase order as one change left it (a snapshot: later changes do not show)."""

    purchase_order: PurchaseOrder
    change: PurchaseOrderChange
    received: Units = ()
    over_received: Units = ()
    reason: str = ""


class TransferChange(StrEnum):
    CREATED = "created"
    READY = "ready"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TransferChanged:
    """A transfer as one change left it; a receipt names its (sku, accepted, rejected)."""

    transfer: Transfer
    change: TransferChange
    arrivals: tuple[tuple[str, int, int], ...] = ()
    reason: str = ""


Event = (
    StockLevelChanged
    | StockReserved
    | AllocationRejected
    | ReservationChanged
    | BackorderChanged
    | PresalePolicyChanged
    | LocationChanged
    | ChannelViewChanged
    | CountShortage
    | PurchaseOrderChanged
    | TransferChanged
    | SourcingRulesChanged
)
