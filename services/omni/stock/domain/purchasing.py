"""Purchase orders: supply on its way to a location. Each line's outstanding units count as
`incoming` on the level they will land in, from the order's creation until they are received,
or the order is closed or cancelled; every such change is a movement in the ledger.

Over-receipt: units that arrive are on hand, whatever the order said. A receipt beyond what
a line still expects takes every unit in, lowers `incoming` only by what was still expected,
and reports the rest as over-received (in the answer and the event), for the buyer to settle
with the supplier. A SKU the order does not list is refused: it was not ordered here, and an
unplanned delivery is received with ReceiveStock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.stock.domain.book import LevelBook
from omni.stock.domain.events import PurchaseOrderChange, PurchaseOrderChanged, Units
from omni.stock.domain.model import MovementKind


class PurchaseOrderStatus(StrEnum):
    OPEN = "OPEN"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


# Statuses in which units are still expected (and may be received).
EXPECTING = frozenset({PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED})


@dataclass(slots=True)
class PurchaseOrderLine:
    sku: str
    quantity: int
    expected_at: datetime
    received: int = 0

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)


@dataclass(slots=True)
class PurchaseOrder:
    id: str
    location_id: str
    supplier: str
    reference: str
    lines: list[PurchaseOrderLine]
    created_at: datetime
    updated_at: datetime
    status: PurchaseOrderStatus = PurchaseOrderStatus.OPEN
    version: int = 0
    events: list[PurchaseOrderChanged] = field(default_factory=list)

    @classmethod
    def place(
        cls,
        book: LevelBook,
        *,
        id: str,
        location_id: str,
        supplier: str,
        reference: str,
        lines: Sequence[PurchaseOrderLine],
        actor: str,
        now: datetime,
    ) -> PurchaseOrder:
        """A new open order; its units are incoming at its location from now."""
        skus = [line.sku for line in lines]
        if len(set(skus)) != len(skus):
            raise InvalidArgument("each SKU may appear once per purchase order")
        po = cls(id, location_id, supplier, reference, list(lines), now, now, version=1)
        for line in po.lines:
            book.apply(
                line.sku,
                location_id,
                MovementKind.INBOUND,
                incoming=line.quantity,
                reference=po.id,
                actor=actor,
            )
        po._changed(PurchaseOrderChange.CREATED, now)
        return po

    def line(self, sku: str) -> PurchaseOrderLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def receive(self, book: LevelBook, units: Units, actor: str, now: datetime) -> Units:
        """Takes in arrived units (on hand; no longer incoming); returns what went beyond
        what each line still expected, by SKU."""
        if self.status not in EXPECTING:
            raise FailedPrecondition(
                f"purchase order {self.id} is {self.status.value}: nothing more is expected "
                "on it; take extra units in as stock received without an order"
            )
        unknown = sorted({sku for sku, _ in units if self.line(sku) is None})
        if unknown:
            raise FailedPrecondition(
                f"purchase order {self.id} does not list {', '.join(unknown[:5])}: it was "
                "not ordered on it; set it aside, or take it in as stock received without an order"
            )
        over: dict[str, int] = {}
        for sku, qty in units:
            line = self.line(sku)
            assert line is not None
            expected = min(qty, line.outstanding)
            book.apply(
                sku,
                self.location_id,
                MovementKind.RECEIPT,
                on_hand=qty,
                incoming=-expected,
                reference=self.id,
                actor=actor,
            )
            line.received += qty
            if qty > expected:
                over[sku] = over.get(sku, 0) + qty - expected
        fully = all(line.outstanding == 0 for line in self.lines)
        self.status = (
            PurchaseOrderStatus.RECEIVED if fully else (PurchaseOrderStatus.PARTIALLY_RECEIVED)
        )
        over_received = tuple(over.items())
        self._changed(PurchaseOrderChange.RECEIVED, now, units, over_received)
        return over_received

    def amend(
        self,
        book: LevelBook,
        changes: Sequence[tuple[str, int | None, datetime | None]],
        reason: str,
        actor: str,
        now: datetime,
    ) -> bool:
        """Lines re-sized (never below what arrived) or re-dated: (sku, units ordered, due),
        None for unchanged. Each line changed is a movement of its level, even one re-dated
        only: the ledger tells when a promise moved. False (and no change) if nothing did."""
        if self.status not in EXPECTING:
            raise FailedPrecondition(
                f"purchase order {self.id} is {self.status.value}: nothing is expected on it "
                "any more"
            )
        unknown = sorted({sku for sku, _, _ in changes if self.line(sku) is None})
        if unknown:
            raise FailedPrecondition(
                f"purchase order {self.id} does not list {', '.join(unknown[:5])}"
            )
        changed = False
        for sku, quantity, expected_at in changes:
            line = self.line(sku)
            assert line is not None
            quantity = line.quantity if quantity is None else quantity
            expected_at = line.expected_at if expected_at is None else expected_at
            if quantity < line.received:
                raise FailedPrecondition(
                    f"{line.received} of {sku} were received on purchase order {self.id}: it "
                    f"cannot order fewer ({quantity})"
                )
            if (quantity, expected_at) == (line.quantity, line.expected_at):
                continue
            before = line.outstanding
            line.quantity, line.expected_at = quantity, expected_at
            book.apply(
                sku,
                self.location_id,
                MovementKind.INBOUND,
                incoming=line.outstanding - before,
                reference=self.id,
                actor=actor,
            )
            changed = True
        if not changed:
            return False
        if all(line.outstanding == 0 for line in self.lines):
            received = any(line.received for line in self.lines)
            self.status = (
                PurchaseOrderStatus.RECEIVED if received else PurchaseOrderStatus.CANCELLED
            )
        self._changed(PurchaseOrderChange.AMENDED, now, reason=reason)
        return True

    def cancel(self, book: LevelBook, reason: str, actor: str, now: datetime) -> bool:
        """Nothing will come. False (and no change) if already cancelled."""
        if self.status is PurchaseOrderStatus.CANCELLED:
            return False
        if self.status is not PurchaseOrderStatus.OPEN:
            raise FailedPrecondition(
                f"purchase order {self.id} is {self.status.value}: only an order nothing was "
                "received on can be cancelled; close it instead"
            )
        self._expect_no_more(book, actor)
        self.status = PurchaseOrderStatus.CANCELLED
        self._changed(PurchaseOrderChange.CANCELLED, now, reason=reason)
        return True

    def close(self, book: LevelBook, reason: str, actor: str, now: datetime) -> bool:
        """What has not come will not. False (and no change) if nothing is expected on it."""
        if self.status not in EXPECTING:
            if self.status is PurchaseOrderStatus.CANCELLED:
                raise FailedPrecondition(f"purchase order {self.id} is CANCELLED")
            return False
        self._expect_no_more(book, actor)
        self.status = PurchaseOrderStatus.CLOSED
        self._changed(PurchaseOrderChange.CLOSED, now, reason=reason)
        return True

    def _expect_no_more(self, book: LevelBook, actor: str) -> None:
        for line in self.lines:
            if line.outstanding:
                book.apply(
                    line.sku,
                    self.location_id,
                    MovementKind.INBOUND,
                    incoming=-line.outstanding,
                    reference=self.id,
                    actor=actor,
                )

    def _changed(
        self,
        change: PurchaseOrderChange,
        now: datetime,
        received: Units = (),
        over_received: Units = (),
        reason: str = "",
    ) -> None:
        if change is not PurchaseOrderChange.CREATED:
            self.version += 1
            self.updated_at = now
        self.events.append(
            PurchaseOrderChanged(self.snapshot(), change, received, over_received, reason)
        )

    def snapshot(self) -> PurchaseOrder:
        lines = [
            PurchaseOrderLine(ln.sku, ln.quantity, ln.expected_at, ln.received) for ln in self.lines
        ]
        return PurchaseOrder(
            self.id,
            self.location_id,
            self.supplier,
            self.reference,
            lines,
            self.created_at,
            self.updated_at,
            self.status,
            self.version,
        )

    def keys(self) -> list[tuple[str, str]]:
        """The levels this order's units land in."""
        return [(line.sku, self.location_id) for line in self.lines]


@dataclass(frozen=True, slots=True)
class Supply:
    """Units an open purchase order still expects of a SKU at a location, at a time."""

    sku: str
    location_id: str
    expected_at: datetime
    quantity: int
    purchase_order_id: str


def due_by(supply: Sequence[Supply], by: datetime) -> dict[tuple[str, str], int]:
    """Units expected at or before `by`, per (sku, location): what may be promised then
    beyond what is on the shelf. (Late supply — expected before now, not yet received — is
    counted as due: it is promised until the order is closed or re-dated.)"""
    due: dict[tuple[str, str], int] = {}
    for entry in supply:
        if entry.expected_at <= by:
            key = (entry.sku, entry.location_id)
            due[key] = due.get(key, 0) + entry.quantity
    return due
