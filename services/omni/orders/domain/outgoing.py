"""What the orders service asks stock to do (durable commands), kept apart from its own
events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from omni.platform.channels import RejectionReason

if TYPE_CHECKING:
    from omni.orders.domain.model import Fulfilment, NearLocation


@dataclass(frozen=True, slots=True)
class AllocateStock:
    """Asks stock to choose locations and reserve, once per key."""

    order_id: str
    idempotency_key: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    fulfilment: Fulfilment | NearLocation
    channel: str = ""  # where its presale policies allow, lines may wait for supply
    excluded: tuple[str, ...] = ()  # locations that must not fill it (they rejected the units)


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
    reason: RejectionReason = RejectionReason.MISMATCH  # a store's rejection: how to correct


@dataclass(frozen=True, slots=True)
class CorrectStock:
    """Units no reservation holds any more (their order was cancelled) that left a location,
    or that its store found missing, damaged or gone all the same (`reason`; None: they
    left): stock corrects its on hand."""

    sku: str
    location_id: str
    quantity: int
    reason: RejectionReason | None
    idempotency_key: str
    actor: str
    note: str


Command = AllocateStock | ReleaseStock | CommitStock | WriteOffStock | CorrectStock
