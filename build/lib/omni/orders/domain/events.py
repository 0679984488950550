"""What the orders service tells others: facts about orders, and commands for stock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni.orders.domain.model import Fulfilment, NearLocation, Shipment
    from omni.orders.domain.order import Order


class OrderChange(StrEnum):
    """The `<type>` of `orders.events.<type>`."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
    SHORTAGE = "shortage"  # units found missing at a pickup store: re-allocating or cancelled
    REALLOCATED = "reallocated"  # units found missing were allocated elsewhere
    RETURNED = "returned"  # units came back (PARTIALLY_RETURNED or RETURNED)


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """The order as the transaction left it; `refund_due` (minor units) when units the
    customer paid for will not reach them."""

    order: Order
    change: OrderChange
    shipment: Shipment | None = None
    refund_due: int = 0


@dataclass(frozen=True, slots=True)
class AllocateStock:
    """Asks stock to choose locations and reserve, once per key."""

    order_id: str
    idempotency_key: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    fulfilment: Fulfilment | NearLocation


@dataclass(frozen=True, slots=True)
class ReleaseStock:
    """Gives units back: these (sku, location, quantity), or all still held (None)."""

    reservation_id: str
    lines: tuple[tuple[str, str, int], ...] | None
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class CommitStock:
    """Units shipped or handed over: stock takes them off hand."""

    reservation_id: str
    lines: tuple[tuple[str, str, int], ...]
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class WriteOffStock:
    """Held units that are not there after all: stock corrects the level (a ledger entry)."""

    reservation_id: str
    lines: tuple[tuple[str, str, int], ...]
    idempotency_key: str
    actor: str


Event = OrderChanged | AllocateStock | ReleaseStock | CommitStock | WriteOffStock
