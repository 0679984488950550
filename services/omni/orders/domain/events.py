"""What the orders service tells others: facts about orders, and commands for stock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni.orders.domain.model import Fulfilment, Order, Shipment


class OrderChange(StrEnum):
    """The `<type>` of `orders.events.<type>`."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """The order as the transaction left it."""

    order: Order
    change: OrderChange
    shipment: Shipment | None = None


@dataclass(frozen=True, slots=True)
class AllocateStock:
    """Asks stock to choose locations and reserve, once per key."""

    order_id: str
    idempotency_key: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    fulfilment: Fulfilment


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


Event = OrderChanged | AllocateStock | ReleaseStock | CommitStock
