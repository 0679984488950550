"""What the orders service tells others: facts about orders (what it asks of stock is in
`outgoing`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni.orders.domain.model import Shipment
    from omni.orders.domain.order import Order


class OrderChange(StrEnum):
    """The `<type>` of `orders.events.<type>`."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
    SHORTAGE = "shortage"  # units found missing at a pickup store: re-allocating or cancelled
    REALLOCATED = "reallocated"  # units found missing or rejected were allocated elsewhere
    # A store rejected units it was given to ship: re-allocating elsewhere, or (nowhere left)
    # cancelled with a refund due.
    LINE_REJECTED = "line_rejected"
    RETURNED = "returned"  # units came back (PARTIALLY_RETURNED or RETURNED)
    # Backordered units reached the shelf (filled), were given up (cut: a refund is due), or
    # are due at another time.
    BACKORDER = "backorder"
    EXCHANGED = "exchanged"  # units of it are exchanged: the replacement order is linked
    # A location sent units after the order was cancelled (refunded): for customer service;
    # stock takes them off hand there.
    SHIPPED_AFTER_CANCEL = "shipped_after_cancel"


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """The order as the transaction left it; `refund_due` (minor units) when units the
    customer paid for will not reach them."""

    order: Order
    change: OrderChange
    shipment: Shipment | None = None
    refund_due: int = 0


Event = OrderChanged
