"""What returns knows and decides: orders and locations as it heard of them, and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ReturnStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"


class Condition(StrEnum):
    SELLABLE = "SELLABLE"
    DAMAGED = "DAMAGED"
    MISSING = "MISSING"


@dataclass(frozen=True, slots=True)
class SoldLine:
    """An order line as the order's events told it."""

    sku: str
    unit_price: int
    fulfilled: int  # units shipped or handed over
    fulfilled_at: datetime | None  # when the last of them left (the window starts there)


@dataclass(frozen=True, slots=True)
class KnownOrder:
    """The read model of one order, kept from orders.events (the newest version wins)."""

    id: str
    customer_id: str
    currency: str
    lines: tuple[SoldLine, ...]
    version: int

    def line(self, sku: str) -> SoldLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)


@dataclass(frozen=True, slots=True)
class KnownLocation:
    id: str
    accepts_returns: bool


@dataclass(frozen=True, slots=True)
class Override:
    """A manager's permission to return outside the window."""

    manager_id: str
    reason: str


@dataclass(slots=True)
class ReturnLine:
    sku: str
    quantity: int
    reason: str
    unit_price: int
    sellable: int = 0
    damaged: int = 0
    missing: int = 0

    @property
    def outstanding(self) -> int:
        """Units neither received nor reported missing."""
        return self.quantity - self.sellable - self.damaged - self.missing

    @property
    def counts_against_order(self) -> int:
        """Units this return takes from what may be returned: all but the missing ones."""
        return self.quantity - self.missing


@dataclass(frozen=True, slots=True)
class Received:
    """One received line: units of a SKU in one condition, under a scan id."""

    sku: str
    quantity: int
    condition: Condition
    scan_id: str


@dataclass(slots=True)
class Return:
    """A return authorization (RMA)."""

    id: str
    order_id: str
    customer_id: str
    channel: str
    location_id: str
    currency: str
    lines: list[ReturnLine]
    created_at: datetime
    updated_at: datetime
    status: ReturnStatus = ReturnStatus.AUTHORIZED
    refunded: int = 0
    override: Override | None = None
    receipts: int = 0  # receipts so far (numbers the keys of their restocks)
    version: int = 1
    events: list[object] = field(default_factory=list, repr=False, compare=False)

    def line(self, sku: str) -> ReturnLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)
