"""What callers ask the stock service to do (imperative), already validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.platform.channels import RejectionReason
from omni.platform.fingerprints import added
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.model import Location, ScanKind
from omni.stock.domain.sourcing import Destination


@dataclass(frozen=True, slots=True)
class CreateLocation:
    location: Location


@dataclass(frozen=True, slots=True)
class UpdateLocation:
    location: Location


@dataclass(frozen=True, slots=True)
class SetChannelView:
    view: ChannelView


@dataclass(frozen=True, slots=True)
class ReceiveStock:
    sku: str
    location_id: str
    quantity: int
    reference: str = ""
    actor: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class AdjustStock:
    sku: str
    location_id: str
    delta: int
    reason: str = ""
    actor: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class ApplyScan:
    scan_id: str
    device_id: str
    kind: ScanKind
    sku: str
    location_id: str
    quantity: int  # COUNT: units counted; ADJUST: a signed delta; else units
    target_location_id: str = ""
    reference: str = ""
    barcode: str = ""  # instead of sku, resolved through the registered barcodes
    purchase_order_id: str = added("")  # RECEIVE: the purchase order the units arrive on


@dataclass(frozen=True, slots=True)
class RegisterBarcodes:
    pairs: dict[str, str]  # code -> sku


@dataclass(frozen=True, slots=True)
class SetSafetyStock:
    sku: str
    location_id: str
    safety_stock: int
    actor: str = ""


@dataclass(frozen=True, slots=True)
class Reserve:
    idempotency_key: str
    reference: str
    lines: tuple[tuple[str, str, int], ...]  # (sku, location_id, quantity)
    ttl_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Allocate:
    idempotency_key: str
    reference: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    ship_to: Destination | None = None
    pickup_location_id: str = ""
    ttl_seconds: int = 0
    # Ship to where this location is, from any other location that ships.
    near_location_id: str = ""
    # The channel sold on: its presale policies may let lines wait for supply on its way.
    channel: Channel | None = added(None)  # noqa: RUF009 (added() is a dataclasses.field)
    # With near_location_id: the units are brought there by transfer, for its customer.
    by_transfer: bool = added(False)
    # Locations that must not fill it (stores that rejected these units).
    excluded: tuple[str, ...] = added(())  # sorted


UNCHANGED = -1  # SetLocationCapacity: the capacity stays as it is


@dataclass(frozen=True, slots=True)
class SetLocationCapacity:
    """`daily_capacity`: a number, None (no limit) or UNCHANGED; `paused`: None to keep."""

    location_id: str
    daily_capacity: int | None = UNCHANGED
    paused: bool | None = None


@dataclass(frozen=True, slots=True)
class Restock:
    """Returned units taken in at a location: (sku, quantity, damaged) per line."""

    location_id: str
    lines: tuple[tuple[str, int, bool], ...]
    idempotency_key: str
    reference: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class WriteOff:
    reservation_id: str
    lines: tuple[tuple[str, str, int], ...]
    idempotency_key: str
    actor: str = ""
    # A store's rejection says how its level is corrected; MISMATCH is a plain write-off.
    reason: RejectionReason = added(RejectionReason.MISMATCH)  # noqa: RUF009


@dataclass(frozen=True, slots=True)
class CorrectStock:
    sku: str
    location_id: str
    quantity: int
    reason: RejectionReason | None  # None: the units left
    idempotency_key: str
    actor: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Release:
    reservation_id: str
    lines: tuple[tuple[str, str, int], ...] | None = None  # None: everything still held
    idempotency_key: str = ""  # required with lines: a resent partial release is not repeated


@dataclass(frozen=True, slots=True)
class Commit:
    reservation_id: str
    lines: tuple[tuple[str, str, int], ...] | None = None  # None: everything still held
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class CreatePurchaseOrder:
    idempotency_key: str
    location_id: str
    supplier: str
    reference: str
    lines: tuple[tuple[str, int, datetime], ...]  # (sku, quantity, expected_at)
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ReceivePurchaseOrder:
    purchase_order_id: str
    idempotency_key: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    actor: str = ""


@dataclass(frozen=True, slots=True)
class EndPurchaseOrder:
    """Cancel (nothing will come) or close (the rest will not come)."""

    purchase_order_id: str
    cancel: bool
    reason: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class AmendPurchaseOrder:
    """Lines re-dated or re-sized: (sku, units now ordered or None, due time or None)."""

    purchase_order_id: str
    lines: tuple[tuple[str, int | None, datetime | None], ...]
    reason: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class CreateTransfer:
    idempotency_key: str
    origin_id: str
    destination_id: str
    reference: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    ready: bool = False


@dataclass(frozen=True, slots=True)
class ReceiveTransfer:
    transfer_id: str
    idempotency_key: str
    lines: tuple[tuple[str, int, int], ...]  # (sku, accepted, rejected)
    actor: str = ""


@dataclass(frozen=True, slots=True)
class CancelTransfer:
    """Cancel (before it ships) or close (what has not arrived will not)."""

    transfer_id: str
    reason: str = ""
