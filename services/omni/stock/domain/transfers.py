"""Transfers: units moved between two locations, with a time in transit.

DRAFT (nothing held) → READY_TO_SHIP (the units reserved at the origin, as any reservation:
no one else can sell them) → IN_TRANSIT (they leave the origin's on_hand and are incoming at
the destination) → PARTIALLY_RECEIVED → RECEIVED. Each line is received as accepted units (on
hand at the destination) and rejected ones (arrived unsellable: counted damaged there);
more than a line still expects is refused, since the origin counted what left. DRAFT and
READY_TO_SHIP may be CANCELLED (the units held are released); once shipped, they are received,
and what never arrives is given up by closing the transfer (CLOSED).

A transfer may be made for an order's units (`for_order`, `bring_to`): a store's customer
waits for them there. The order's reservation has a line at the destination whose units are
`coming` by that transfer: sold already, they are neither incoming nor backordered there, so
the destination's availability and presale never count them. Receiving them holds them for
the order at once (no backorder takes them); units rejected, cancelled or lost on the way are
cut from the line, so that the order refunds them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.stock.domain import book as ops
from omni.stock.domain.book import LevelBook
from omni.stock.domain.events import StockReserved, TransferChange, TransferChanged
from omni.stock.domain.model import MovementKind, Reservation, ReservationLine


class TransferStatus(StrEnum):
    DRAFT = "DRAFT"
    READY_TO_SHIP = "READY_TO_SHIP"
    IN_TRANSIT = "IN_TRANSIT"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"
    CLOSED = "CLOSED"  # received in part; the rest will not come (lost on the way)


ARRIVING = frozenset({TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED})
# The ids of the reservations that hold a transfer's units start so: only the transfer's own
# steps may ship or release them (omni.stock.service_layer.handlers refuses the rest).
HOLD_PREFIX = "hold"


def is_transfer_hold(reservation_id: str) -> bool:
    return reservation_id.startswith(HOLD_PREFIX + "_")


@dataclass(slots=True)
class TransferLine:
    sku: str
    quantity: int
    accepted: int = 0
    rejected: int = 0

    @property
    def outstanding(self) -> int:
        return self.quantity - self.accepted - self.rejected


Arrival = tuple[str, int, int]  # (sku, accepted, rejected)


@dataclass(slots=True)
class Transfer:
    id: str
    origin_id: str
    destination_id: str
    reference: str
    lines: list[TransferLine]
    created_at: datetime
    updated_at: datetime
    status: TransferStatus = TransferStatus.DRAFT
    reservation_id: str = ""
    version: int = 0
    for_reservation_id: str = ""  # made for an order: its reservation waits at the destination
    events: list[TransferChanged] = field(default_factory=list)

    @classmethod
    def draft(
        cls,
        *,
        id: str,
        origin_id: str,
        destination_id: str,
        reference: str,
        lines: Sequence[TransferLine],
        now: datetime,
    ) -> Transfer:
        if origin_id == destination_id:
            raise InvalidArgument("a transfer goes from one location to another")
        skus = [line.sku for line in lines]
        if len(set(skus)) != len(skus):
            raise InvalidArgument("each SKU may appear once per transfer")
        transfer = cls(id, origin_id, destination_id, reference, list(lines), now, now, version=1)
        transfer._changed(TransferChange.CREATED, now, first=True)
        return transfer

    @classmethod
    def for_order(
        cls,
        book: LevelBook,
        *,
        id: str,
        hold_id: str,
        origin_id: str,
        order: Reservation,
        lines: Sequence[TransferLine],
        now: datetime,
    ) -> tuple[Transfer, Reservation]:
        """A transfer bringing `order`'s units from `origin_id` to where its lines wait, made
        ready at once (the units held at the origin). Returns it and the reservation holding
        its units."""
        destination_id = order.lines[0].location_id
        transfer = cls.draft(
            id=id,
            origin_id=origin_id,
            destination_id=destination_id,
            reference=order.reference,
            lines=lines,
            now=now,
        )
        transfer.for_reservation_id = order.id
        held = transfer.ready(book, hold_id, now)
        assert held is not None
        return transfer, held

    @property
    def key(self) -> str:
        """The idempotency key of the units it holds at the origin."""
        return f"transfer:{self.id}"

    def line(self, sku: str) -> TransferLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def ready(self, book: LevelBook, reservation_id: str, now: datetime) -> Reservation | None:
        """Holds the units at the origin (InsufficientStock if they are not there). None (no
        change) if it is ready or on its way already."""
        if self.status is not TransferStatus.DRAFT:
            self._refuse_if(TransferStatus.CANCELLED, "made ready")
            return None
        held = ops.reserve(
            book,
            reservation_id=reservation_id,
            reference=self.id,
            key=self.key,
            lines={(line.sku, self.origin_id): line.quantity for line in self.lines},
            now=now,
            expires_at=None,
        )
        self.reservation_id = held.id
        self.status = TransferStatus.READY_TO_SHIP
        self._changed(TransferChange.READY, now)
        return held

    def ship(self, book: LevelBook, held: Reservation | None, now: datetime) -> bool:
        """The units leave the origin (its on_hand and reserved: `held`, its reservation) and
        are incoming at the destination. False (no change) if they are on their way already."""
        if self.status is not TransferStatus.READY_TO_SHIP:
            self._refuse_if(TransferStatus.CANCELLED, "shipped")
            self._refuse_if(TransferStatus.DRAFT, "shipped before it is ready")
            return False
        assert held is not None, "a ready transfer holds its units"
        still_held = {line.sku: line.outstanding for line in held.lines}
        if still_held != {line.sku: line.quantity for line in self.lines}:
            raise FailedPrecondition(
                f"transfer {self.id}: its reservation {held.id} no longer holds its units"
            )
        ops.commit(book, held, None)
        if not self.for_reservation_id:  # an order's units are the order's, not supply
            for line in self.lines:
                book.apply(
                    line.sku,
                    self.destination_id,
                    MovementKind.INBOUND,
                    incoming=line.quantity,
                    reference=self.id,
                )
        self.status = TransferStatus.IN_TRANSIT
        self._changed(TransferChange.SHIPPED, now)
        return True

    def receive(
        self,
        book: LevelBook,
        arrivals: Sequence[Arrival],
        actor: str,
        now: datetime,
        order: Reservation | None = None,
    ) -> None:
        """Units taken in at the destination: accepted on hand, rejected counted damaged.
        For an order (`order`, its reservation, locked): accepted units fill its waiting
        line, rejected ones are cut from it."""
        if self.status not in ARRIVING:
            raise FailedPrecondition(
                f"transfer {self.id} is {self.status.value}: only a shipped transfer is received"
            )
        wanted: dict[str, int] = {}
        for sku, accepted, rejected in arrivals:
            wanted[sku] = wanted.get(sku, 0) + accepted + rejected
        for sku, units in wanted.items():
            line = self.line(sku)
            if line is None:
                raise FailedPrecondition(f"transfer {self.id} does not carry {sku}")
            if units > line.outstanding:
                raise FailedPrecondition(
                    f"transfer {self.id} still carries {line.outstanding} of {sku}, not {units}; "
                    "count again, or take the extra units in as stock received without an order"
                )
        supply = 0 if self.for_reservation_id else 1  # an order's units were never incoming
        for sku, accepted, rejected in arrivals:
            book.apply(
                sku,
                self.destination_id,
                MovementKind.TRANSFER_IN,
                on_hand=accepted,
                damaged=rejected,
                incoming=-(accepted + rejected) * supply,
                reference=self.id,
                actor=actor,
            )
            line = self.line(sku)
            assert line is not None
            line.accepted += accepted
            line.rejected += rejected
        came: dict[str, tuple[int, int]] = {}  # a SKU may come in several lines
        for sku, accepted, rejected in arrivals:
            before = came.get(sku, (0, 0))
            came[sku] = (before[0] + accepted, before[1] + rejected)
        self._settle_order(book, order, came)
        done = all(line.outstanding == 0 for line in self.lines)
        self.status = TransferStatus.RECEIVED if done else TransferStatus.PARTIALLY_RECEIVED
        self._changed(TransferChange.RECEIVED, now, arrivals=tuple(arrivals))

    def close(
        self,
        book: LevelBook,
        reason: str,
        actor: str,
        now: datetime,
        order: Reservation | None = None,
    ) -> bool:
        """What has not arrived will not (lost on the way): no longer incoming at the
        destination, and cut from the order it was for. False if it is closed already."""
        if self.status is TransferStatus.CLOSED:
            return False
        if self.status not in ARRIVING:
            raise FailedPrecondition(
                f"transfer {self.id} is {self.status.value}: only a transfer on its way can be "
                "closed"
            )
        self._settle_order(book, order, {ln.sku: (0, ln.outstanding) for ln in self.lines})
        for line in self.lines:
            if line.outstanding and not self.for_reservation_id:
                book.apply(
                    line.sku,
                    self.destination_id,
                    MovementKind.INBOUND,
                    incoming=-line.outstanding,
                    reference=self.id,
                    actor=actor,
                )
        self.status = TransferStatus.CLOSED
        self._changed(TransferChange.CLOSED, now, reason=reason)
        return True

    def cancel(
        self,
        book: LevelBook,
        held: Reservation | None,
        reason: str,
        now: datetime,
        order: Reservation | None = None,
    ) -> bool:
        """Before it ships: the units held at the origin go back (and are no longer incoming
        for the order it was for, which gives them up). False if cancelled already."""
        if self.status is TransferStatus.CANCELLED:
            return False
        if self.status not in (TransferStatus.DRAFT, TransferStatus.READY_TO_SHIP):
            raise FailedPrecondition(
                f"transfer {self.id} is {self.status.value}: its units are on their way; "
                "receive what arrives, then close it"
            )
        if held is not None:
            ops.release(book, held)
        if self.for_reservation_id and self.status is TransferStatus.READY_TO_SHIP:
            self._settle_order(book, order, {ln.sku: (0, ln.quantity) for ln in self.lines})
        self.status = TransferStatus.CANCELLED
        self._changed(TransferChange.CANCELLED, now, reason=reason)
        return True

    def _settle_order(
        self, book: LevelBook, order: Reservation | None, units: dict[str, tuple[int, int]]
    ) -> None:
        """Holds units arrived for the order it was made for, and cuts those that will not
        come, per SKU (arrived, lost); beyond what the order still waits for, arrived units
        are the shelf's."""
        if not self.for_reservation_id:
            return
        assert order is not None and order.id == self.for_reservation_id, "its order, locked"
        ops.bring(book, order, self.destination_id, units)

    def _refuse_if(self, status: TransferStatus, action: str) -> None:
        if self.status is status:
            raise FailedPrecondition(f"transfer {self.id} is {status.value}: it cannot be {action}")

    def _changed(
        self,
        change: TransferChange,
        now: datetime,
        *,
        first: bool = False,
        arrivals: tuple[Arrival, ...] = (),
        reason: str = "",
    ) -> None:
        if not first:
            self.version += 1
            self.updated_at = now
        self.events.append(TransferChanged(self.snapshot(), change, arrivals, reason))

    def snapshot(self) -> Transfer:
        lines = [TransferLine(ln.sku, ln.quantity, ln.accepted, ln.rejected) for ln in self.lines]
        return Transfer(
            self.id,
            self.origin_id,
            self.destination_id,
            self.reference,
            lines,
            self.created_at,
            self.updated_at,
            self.status,
            self.reservation_id,
            self.version,
            self.for_reservation_id,
        )


def bring_to(
    book: LevelBook,
    plan: ops.LevelPlan,
    *,
    destination_id: str,
    reservation_id: str,
    reference: str,
    key: str,
    now: datetime,
    new_id: Callable[[str], str],
) -> tuple[Reservation, list[tuple[Transfer, Reservation]]]:
    """An allocation for a customer at `destination_id`, of units elsewhere (`plan`: units
    per (sku, origin)): one transfer per origin brings them, and the reservation's lines at
    the destination have them `coming`. Returns the reservation and each transfer with its
    hold."""
    wanted: dict[str, int] = {}
    by_origin: dict[str, list[TransferLine]] = {}
    for (sku, origin), qty in sorted(plan.items()):
        wanted[sku] = wanted.get(sku, 0) + qty
        by_origin.setdefault(origin, []).append(TransferLine(sku, qty))
    order = Reservation(
        id=reservation_id,
        reference=reference,
        lines=[ReservationLine(sku, destination_id, q, coming=q) for sku, q in wanted.items()],
        created_at=now,
    )
    moves = [
        Transfer.for_order(
            book,
            id=new_id("trf"),
            hold_id=new_id(HOLD_PREFIX),
            origin_id=origin,
            order=order,
            lines=lines,
            now=now,
        )
        for origin, lines in by_origin.items()
    ]
    book.events.append(StockReserved(order, key))
    return order, moves
