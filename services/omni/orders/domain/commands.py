"""What callers ask of the orders service (imperative), checked and free of wire types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.orders.domain.model import Delivery, Fulfilment, Shipment, ShortLine
from omni.platform.channels import RejectionReason
from omni.platform.fingerprints import added


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    idempotency_key: str
    channel: str
    customer_id: str
    currency: str
    lines: tuple[tuple[str, int, int], ...]  # (sku, quantity, unit_price)
    fulfilment: Fulfilment
    # A replacement for an exchange: (the order whose units are exchanged, the return).
    exchange_of: tuple[str, str] | None = added(None)


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RecordShipment:
    order_id: str
    shipment: Shipment


@dataclass(frozen=True, slots=True)
class ListOrders:
    customer_id: str = ""
    channel: str = ""
    status: str = ""
    page_size: int = 50
    page_token: str = ""
    placed_from: datetime | None = None  # at or after
    placed_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class StockDecision:
    """Stock's answer to an allocation: a reservation's plan, or why not."""

    event_id: str
    order_id: str
    key: str  # the allocation's idempotency key: the order's, or a re-allocation's
    reservation_id: str = ""
    plan: tuple[tuple[str, str, int], ...] = ()  # (sku, location, quantity)
    # Of those, units sold against supply on its way: (sku, location, units, due or None).
    waiting: tuple[tuple[str, str, int, datetime | None], ...] = ()
    short_lines: tuple[ShortLine, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PickupOutcome:
    """How a pickup ended: collected (`handed_over` units at `store_id`) or not (`reason`)."""

    event_id: str
    order_id: str
    task_id: str
    store_id: str = ""
    handed_over: tuple[tuple[str, int], ...] = ()  # (sku, quantity)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class UnitsReturned:
    """Units of an order received back by the returns service."""

    event_id: str
    order_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)


@dataclass(frozen=True, slots=True)
class BackorderChanged:
    """Stock settled backordered units of a reservation: per (sku, location), units filled
    (held now), units cut (given up), and when the rest is due."""

    event_id: str
    order_id: str
    reservation_id: str
    lines: tuple[tuple[str, str, int, int, datetime | None], ...]


@dataclass(frozen=True, slots=True)
class PickupShortage:
    """Units a pickup store did not find: re-allocate them (`delivery`), or cancel (None)."""

    event_id: str
    order_id: str
    store_id: str
    sku: str
    missing: int
    delivery: Delivery | None
    actor: str


@dataclass(frozen=True, slots=True)
class ShippedByTask:
    """A location's ship task sent units on their way (pickup.events.ship.shipped)."""

    event_id: str
    order_id: str
    shipment: Shipment
    actor: str = ""  # who packed it (recorded with a late one's stock correction)


@dataclass(frozen=True, slots=True)
class RejectedByTask:
    """A location's ship task rejected units (pickup.events.ship.rejected)."""

    event_id: str
    order_id: str
    location_id: str
    sku: str
    quantity: int
    reason: RejectionReason
    actor: str


@dataclass(frozen=True, slots=True)
class ExchangeWithdrawn:
    """An exchange was given up (returns.events.exchange_cancelled): its replacement order
    is cancelled if nothing of it has shipped."""

    event_id: str
    order_id: str
