"""Operations on the levels one transaction has locked: reserve, release, commit, receive.
The book records what they change: each movement of a level, and each reservation's change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from omni.platform.channels import RejectionReason
from omni.platform.errors import FailedPrecondition
from omni.stock.domain.events import (
    AllocationRejected,
    BackorderChanged,
    BackorderLine,
    CountShortage,
    ReservationChange,
    ReservationChanged,
    StockReserved,
)
from omni.stock.domain.model import (
    InsufficientStock,
    Movement,
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    ShortLine,
    StockLevel,
)

if TYPE_CHECKING:
    from omni.stock.domain.presale import Step

Key = tuple[str, str]  # (sku, location_id)
Waiting = tuple[Reservation, ReservationLine]  # a reservation's line waiting for supply
BookEvent = (
    ReservationChanged | StockReserved | AllocationRejected | CountShortage | BackorderChanged
)
LevelPlan = dict[Key, int]  # units per (sku, location_id)
# Units held on the shelf, and units waiting for supply (backordered), per (sku, location).
Presold = tuple[LevelPlan, LevelPlan]


@dataclass(frozen=True, slots=True)
class LevelChanged:
    """A level after one movement: what watchers and the ledger learn."""

    level: StockLevel
    movement: Movement


class LevelBook:
    """The levels a transaction holds locked, every change made to them, in order, and what
    the operations on them decided (`events`: reservations made, changed or refused, counts
    short of what is reserved). Each level's change becomes its event when the book is saved."""

    def __init__(self, levels: Iterable[StockLevel] = ()) -> None:
        self._levels = {(lv.sku, lv.location_id): lv for lv in levels}
        self.changes: list[LevelChanged] = []
        self.events: list[BookEvent] = []
        # Change of the units waiting per (channel, sku): what counts against presale caps.
        self.waiting: dict[tuple[str, str], int] = {}

    def level(self, sku: str, location_id: str) -> StockLevel:
        """The level, or a zero level if this (sku, location) has never held stock."""
        key = (sku, location_id)
        if key not in self._levels:
            self._levels[key] = StockLevel(sku, location_id)
        return self._levels[key]

    def apply(self, sku: str, location_id: str, kind: MovementKind, **deltas: object) -> Movement:
        """Applies one movement to one level and records the change."""
        level = self.level(sku, location_id)
        movement = level.apply(kind, **deltas)  # type: ignore[arg-type]
        self.changes.append(LevelChanged(level.copy(), movement))
        return movement

    def changed_levels(self) -> list[StockLevel]:
        """Each level changed at least once, in its final state."""
        return [self._levels[k] for k in self.movements_by_level()]

    def movements_by_level(self) -> dict[Key, list[Movement]]:
        """The movements made to each changed level, in order."""
        grouped: dict[Key, list[Movement]] = {}
        for change in self.changes:
            grouped.setdefault((change.level.sku, change.level.location_id), []).append(
                change.movement
            )
        return grouped

    def snapshot(self, key: Key) -> StockLevel:
        """A copy of a level's current state."""
        return self._levels[key].copy()

    def count_waiting(self, reservation: Reservation, sku: str, delta: int) -> None:
        if reservation.channel and delta:
            key = (reservation.channel, sku)
            self.waiting[key] = self.waiting.get(key, 0) + delta


def merge_lines(lines: Iterable[tuple[str, str, int]]) -> dict[Key, int]:
    """Adds up lines that name the same (sku, location)."""
    merged: dict[Key, int] = {}
    for sku, location_id, qty in lines:
        merged[(sku, location_id)] = merged.get((sku, location_id), 0) + qty
    return merged


def reserve(
    book: LevelBook,
    *,
    reservation_id: str,
    reference: str,
    key: str,
    lines: dict[Key, int],
    now: datetime,
    expires_at: datetime | None,
    waiting: LevelPlan | None = None,
    channel: str = "",
) -> Reservation:
    """Holds every line or raises InsufficientStock naming each short line; never partial.
    `key`: the request's idempotency key, told with the reservation made. `waiting`: units
    of `lines` sold against supply on its way (backordered), for `channel`."""
    waiting = waiting or {}
    short = []
    for (sku, loc), qty in lines.items():
        level, ahead = book.level(sku, loc), waiting.get((sku, loc), 0)
        if level.available < qty - ahead or level.presellable < ahead:
            can = level.available + (min(ahead, level.presellable) if ahead else 0)
            short.append(ShortLine(sku, loc, qty, can))
    if short:
        raise InsufficientStock(short)
    reservation = Reservation(
        id=reservation_id,
        reference=reference,
        lines=[
            ReservationLine(sku, loc, qty, waiting=waiting.get((sku, loc), 0))
            for (sku, loc), qty in lines.items()
        ],
        created_at=now,
        expires_at=expires_at,
        channel=channel,
    )
    for line in reservation.lines:
        if line.held:
            book.apply(
                line.sku,
                line.location_id,
                MovementKind.RESERVE,
                reserved=line.held,
                reference=reservation_id,
            )
        if line.waiting:
            book.apply(
                line.sku,
                line.location_id,
                MovementKind.BACKORDER,
                backordered=line.waiting,
                reference=reservation_id,
            )
            book.count_waiting(reservation, line.sku, line.waiting)
    book.events.append(StockReserved(reservation, key))
    return reservation


def allocate(
    book: LevelBook,
    *,
    reservation_id: str,
    reference: str,
    key: str,
    source: Callable[[], dict[Key, int]],
    now: datetime,
    expires_at: datetime | None,
    presell: Callable[[], Presold] | None = None,
    channel: str = "",
    hold: Callable[[LevelPlan], Reservation] | None = None,
) -> Reservation:
    """Reserves where `source` plans (omni.stock.domain.sourcing); short of shelf stock, where
    `presell` plans with supply on its way, if the channel may sell ahead. `hold`, if given,
    holds the plan instead (omni.stock.domain.transfers.bring_to). Not enough stock, found by
    the plan or by the reservation, is announced as well as raised."""
    made = dict(
        book=book,
        reservation_id=reservation_id,
        reference=reference,
        key=key,
        now=now,
        expires_at=expires_at,
        channel=channel,
    )
    try:
        try:
            lines = source()
            return hold(lines) if hold else reserve(lines=lines, **made)  # type: ignore[arg-type]
        except InsufficientStock:
            if presell is None:
                raise
            lines, waiting = presell()
            return reserve(lines=lines, waiting=waiting, **made)  # type: ignore[arg-type]
    except InsufficientStock as short:
        book.events.append(AllocationRejected(reference, key, short.lines))
        raise


def refuse_allocation(book: LevelBook, reference: str, key: str, reason: str) -> None:
    """An allocation refused outright (a bad request, an unknown store): announced with its
    reason, so that its sender is never left waiting."""
    book.events.append(AllocationRejected(reference, key, [], reason))


def release(
    book: LevelBook,
    reservation: Reservation,
    requested: dict[Key, int] | None = None,
    *,
    expired: bool = False,
) -> bool:
    """Gives back units still held: all of them, or the `requested` ones. Returns False (and
    changes nothing) when the reservation holds nothing any more."""
    if reservation.status is ReservationStatus.COMMITTED:
        raise FailedPrecondition(f"reservation {reservation.id} is already committed")
    if reservation.status is not ReservationStatus.ACTIVE:
        return False
    if requested is None:
        requested = {(ln.sku, ln.location_id): ln.outstanding for ln in reservation.lines}
    kind = MovementKind.EXPIRE if expired else MovementKind.RELEASE
    for (sku, loc), asked in requested.items():
        line = reservation.line(sku, loc)
        # More than is still held or waited for: the rest was committed, cut or released
        # already (a sender's view a moment old); what is left goes back.
        qty = min(asked, line.outstanding)
        if qty:
            # Units waited for go first, then those on their way by transfer (never on the
            # level: the transfer's release, if it has not left, gives them back), then held.
            unheld = min(qty, line.waiting)
            coming = min(qty - unheld, line.coming)
            if qty - coming:
                book.apply(
                    sku,
                    loc,
                    kind,
                    reserved=unheld + coming - qty,
                    backordered=-unheld,
                    reference=reservation.id,
                )
            book.count_waiting(reservation, sku, -unheld)
            line.waiting -= unheld
            line.coming -= coming
            line.released += qty
    if all(line.outstanding == 0 for line in reservation.lines):
        reservation.status = ReservationStatus.EXPIRED if expired else ReservationStatus.RELEASED
    change = ReservationChange.EXPIRED if expired else ReservationChange.RELEASED
    book.events.append(ReservationChanged(reservation, change))
    return True


def write_off(
    book: LevelBook,
    reservation: Reservation,
    requested: dict[Key, int],
    actor: str,
    reason: RejectionReason = RejectionReason.MISMATCH,
) -> None:
    """Held units a store cannot fill leave the reservation, and `reason` corrects the level:
    MISMATCH (not there after all): on_hand and reserved both drop (ADJUSTMENT); DAMAGED:
    they move from on_hand to damaged (DAMAGE); NO_VARIANCE: only released (RELEASE);
    NOT_IN_STOCK: written off, then on_hand counted zero (COUNT; a CountShortage if other
    reservations still hold units there). Each movement references the reservation."""
    if reservation.status is not ReservationStatus.ACTIVE:
        raise FailedPrecondition(
            f"reservation {reservation.id} is {reservation.status.value}; it holds nothing "
            "to write off"
        )
    _check_held(reservation, requested, "write off")
    note = {"reference": reservation.id, "actor": actor}
    for (sku, loc), qty in requested.items():
        gone = _still_counted(book.level(sku, loc), qty)
        match reason:
            case RejectionReason.NO_VARIANCE:
                book.apply(sku, loc, MovementKind.RELEASE, reserved=-qty, **note)
            case RejectionReason.DAMAGED:
                delta = {"on_hand": -gone, "damaged": gone}
                book.apply(sku, loc, MovementKind.DAMAGE, reserved=-qty, **delta, **note)
            case _:
                book.apply(sku, loc, MovementKind.ADJUSTMENT, on_hand=-gone, reserved=-qty, **note)
        if reason is RejectionReason.NOT_IN_STOCK:
            level = book.level(sku, loc)
            if level.on_hand:
                book.apply(sku, loc, MovementKind.COUNT, on_hand=-level.on_hand, **note)
            if level.reserved > level.on_hand:  # promised to others, and none there
                book.events.append(CountShortage(level.copy(), 0, level.reserved))
        reservation.line(sku, loc).released += qty
    if all(line.outstanding == 0 for line in reservation.lines):
        reservation.status = ReservationStatus.RELEASED
    book.events.append(ReservationChanged(reservation, ReservationChange.RELEASED))


def correct(
    book: LevelBook,
    key: Key,
    quantity: int,
    reason: RejectionReason | None,
    note: dict[str, str],
) -> None:
    """Units no reservation holds that left, or are missing, damaged or gone all the same
    (None: they left): on hand is corrected, never below zero."""
    sku, loc = key
    level = book.level(sku, loc)
    gone = min(quantity, level.on_hand)
    match reason:
        case RejectionReason.NO_VARIANCE:
            return
        case RejectionReason.NOT_IN_STOCK:
            if level.on_hand:
                book.apply(sku, loc, MovementKind.COUNT, on_hand=-level.on_hand, **note)
            if level.reserved > level.on_hand:  # promised to others, and none there
                book.events.append(CountShortage(level.copy(), 0, level.reserved))
        case RejectionReason.DAMAGED if gone:
            book.apply(sku, loc, MovementKind.DAMAGE, on_hand=-gone, damaged=gone, **note)
        case _ if gone:
            book.apply(sku, loc, MovementKind.ADJUSTMENT, on_hand=-gone, **note)


def _check_held(reservation: Reservation, requested: dict[Key, int], action: str) -> None:
    """Every unit named is held on the shelf (units waited for are not there yet)."""
    for (sku, loc), qty in requested.items():
        line = reservation.line(sku, loc)
        if qty > line.held:
            later = line.waiting + line.coming
            waits = f" ({later} more backordered, not here yet)" if later else ""
            raise FailedPrecondition(
                f"cannot {action} {qty} of {sku} at {loc}: reservation {reservation.id} "
                f"holds {line.held}{waits}"
            )


def commit(
    book: LevelBook, reservation: Reservation, requested: dict[Key, int] | None
) -> dict[Key, int]:
    """Ships / hands over units (all still held when `requested` is None); returns them."""
    if reservation.status is not ReservationStatus.ACTIVE:
        raise FailedPrecondition(
            f"reservation {reservation.id} is {reservation.status.value}; only an ACTIVE "
            "reservation can be committed"
        )
    if requested is None:
        requested = {(ln.sku, ln.location_id): ln.held for ln in reservation.lines}
    _check_held(reservation, requested, "commit")
    for (sku, loc), qty in requested.items():
        if qty:
            on_hand = -_still_counted(book.level(sku, loc), qty)
            book.apply(
                sku,
                loc,
                MovementKind.COMMIT,
                on_hand=on_hand,
                reserved=-qty,
                reference=reservation.id,
            )
            reservation.line(sku, loc).committed += qty
    if all(line.outstanding == 0 for line in reservation.lines):
        reservation.status = ReservationStatus.COMMITTED
    book.events.append(ReservationChanged(reservation, ReservationChange.COMMITTED))
    return {k: q for k, q in requested.items() if q}


def _still_counted(level: StockLevel, held: int) -> int:
    """How many of `held` reserved units leaving a level are still in its on_hand.

    A count below the reserved units (COUNT, DAMAGE) has already taken the missing ones out
    of on_hand: those are the first that leave, once, as their reservation is written off or
    committed, instead of taking on_hand below zero and being refused for good (which left
    them reserved for ever)."""
    missing = max(0, level.reserved - level.on_hand)
    return held - min(held, missing)


def settle_backorders(book: LevelBook, waiting: list[Waiting], steps: list[Step]) -> None:
    """Applies a level's settlement (omni.stock.domain.presale.settle): units filled become
    held, units cut are given up, and each line takes its due date. One event per
    reservation that changed."""
    changed: dict[str, tuple[Reservation, list[BackorderLine]]] = {}
    for (res, line), step in zip(waiting, steps, strict=True):
        if step.filled:
            book.apply(
                line.sku,
                line.location_id,
                MovementKind.FILL,
                reserved=step.filled,
                backordered=-step.filled,
                reference=res.id,
            )
        if step.cut:
            book.apply(
                line.sku,
                line.location_id,
                MovementKind.CUT,
                backordered=-step.cut,
                reference=res.id,
            )
            line.released += step.cut
        if not (step.filled or step.cut or step.due != line.expected_at):
            continue
        book.count_waiting(res, line.sku, -step.filled - step.cut)
        line.waiting -= step.filled + step.cut
        line.expected_at = step.due
        entry = BackorderLine(line.sku, line.location_id, step.filled, step.cut, step.due)
        changed.setdefault(res.id, (res, []))[1].append(entry)
    for res, lines in changed.values():
        if all(ln.outstanding == 0 for ln in res.lines):
            res.status = ReservationStatus.RELEASED
        book.events.append(BackorderChanged(res, tuple(lines)))


def bring(
    book: LevelBook, reservation: Reservation, location_id: str, units: dict[str, tuple[int, int]]
) -> None:
    """Units a transfer made for `reservation` brought to `location_id`, or will not, per
    SKU (arrived, lost): arrived units it still has coming are held for it (a RESERVE), lost
    ones are cut from it; beyond what it still has coming, arrived units are the shelf's.
    One event if it changed."""
    lines = []
    for line in reservation.lines:
        if line.location_id != location_id or line.sku not in units:
            continue
        arrived, lost = units[line.sku]
        filled = min(arrived, line.coming)
        cut = min(lost, line.coming - filled)
        if filled:
            book.apply(
                line.sku,
                location_id,
                MovementKind.RESERVE,
                reserved=filled,
                reference=reservation.id,
            )
        line.coming -= filled + cut
        line.released += cut
        if filled or cut:
            lines.append(BackorderLine(line.sku, location_id, filled, cut, None))
    if not lines:
        return
    if all(ln.outstanding == 0 for ln in reservation.lines):
        reservation.status = ReservationStatus.RELEASED
    book.events.append(BackorderChanged(reservation, tuple(lines)))
