"""Domain rules of stock levels, reservations and the ledger (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.platform.channels import RejectionReason
from omni.platform.errors import FailedPrecondition
from omni.stock.domain import book as ops
from omni.stock.domain import scans
from omni.stock.domain.commands import ApplyScan
from omni.stock.domain.events import (
    AllocationRejected,
    CountShortage,
    ReservationChange,
    ReservationChanged,
    StockReserved,
)
from omni.stock.domain.model import (
    InsufficientStock,
    MovementKind,
    Reservation,
    ReservationStatus,
    ScanKind,
    ShortLine,
    StockLevel,
    fold,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def hold(
    book: ops.LevelBook, lines: ops.LevelPlan, expires_at: datetime | None = None
) -> Reservation:
    """Reservation r1 for order o1 (idempotency key k1), made now."""
    return ops.reserve(
        book,
        reservation_id="r1",
        reference="o1",
        key="k1",
        lines=lines,
        now=NOW,
        expires_at=expires_at,
    )


def book_with(**levels: tuple[int, int, int]) -> ops.LevelBook:
    """levels: sku=(on_hand, reserved, safety_stock) at location L1."""
    return ops.LevelBook(
        StockLevel(sku, "L1", on_hand=o, reserved=r, safety_stock=s)
        for sku, (o, r, s) in levels.items()
    )


def test_available_is_on_hand_minus_reserved_minus_safety_stock_floored_at_zero() -> None:
    assert StockLevel("A", "L1", on_hand=10, reserved=3, safety_stock=2).available == 5
    assert StockLevel("A", "L1", on_hand=2, reserved=3, safety_stock=2).available == 0


def test_every_change_bumps_the_version_by_one_and_returns_its_movement() -> None:
    level = StockLevel("A", "L1")
    first = level.apply(MovementKind.RECEIPT, on_hand=5, reference="po-1", actor="dock")
    second = level.apply(MovementKind.RESERVE, reserved=2)
    assert (first.version, second.version, level.version) == (1, 2, 2)
    assert first.on_hand_delta == 5 and first.reference == "po-1"


def test_a_change_that_would_go_negative_is_refused_and_changes_nothing() -> None:
    level = StockLevel("A", "L1", on_hand=1)
    with pytest.raises(FailedPrecondition):
        level.apply(MovementKind.ADJUSTMENT, on_hand=-2)
    assert (level.on_hand, level.version) == (1, 0)


def test_folding_the_ledger_from_zero_gives_the_level() -> None:
    book = ops.LevelBook()
    book.apply("A", "L1", MovementKind.RECEIPT, on_hand=10)
    book.apply("A", "L1", MovementKind.RESERVE, reserved=4)
    book.apply("A", "L1", MovementKind.COMMIT, on_hand=-3, reserved=-3)
    book.apply("A", "L1", MovementKind.ADJUSTMENT, safety_stock=2)
    book.apply("A", "L1", MovementKind.DAMAGE, on_hand=-1, damaged=1)
    assert fold([c.movement for c in book.changes], "A", "L1") == book.level("A", "L1")


def test_reserve_holds_every_line_when_all_are_available() -> None:
    book = book_with(A=(5, 0, 0), B=(3, 1, 0))
    res = hold(book, {("A", "L1"): 5, ("B", "L1"): 2})
    assert res.status is ReservationStatus.ACTIVE
    assert book.level("A", "L1").available == 0 and book.level("B", "L1").reserved == 3


def test_reserve_short_on_one_line_changes_nothing_and_names_every_short_line() -> None:
    book = book_with(A=(5, 0, 0), B=(3, 1, 0), C=(1, 0, 1))
    with pytest.raises(InsufficientStock) as short:
        hold(book, {("A", "L1"): 1, ("B", "L1"): 3, ("C", "L1"): 1})
    assert [(s.sku, s.requested, s.available) for s in short.value.lines] == [
        ("B", 3, 2),
        ("C", 1, 0),
    ]
    assert book.changes == []
    assert book.level("A", "L1").reserved == 0


def test_lines_naming_the_same_sku_and_location_are_added_up() -> None:
    assert ops.merge_lines([("A", "L1", 2), ("B", "L1", 1), ("A", "L1", 3)]) == {
        ("A", "L1"): 5,
        ("B", "L1"): 1,
    }


def test_release_gives_back_what_is_held_and_a_second_release_is_harmless() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 4})
    assert ops.release(book, res) is True
    assert ops.release(book, res) is False
    assert book.level("A", "L1").reserved == 0 and res.status is ReservationStatus.RELEASED
    assert [c.movement.kind for c in book.changes] == [MovementKind.RESERVE, MovementKind.RELEASE]
    # The book records the reservation's change once: the harmless second release raises none.
    assert book.events == [
        StockReserved(res, "k1"),
        ReservationChanged(res, ReservationChange.RELEASED),
    ]


def test_expiry_is_recorded_as_its_own_movement_kind() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 1}, expires_at=NOW + timedelta(seconds=1))
    assert not res.is_due(NOW) and res.is_due(NOW + timedelta(seconds=1))
    ops.release(book, res, expired=True)
    assert res.status is ReservationStatus.EXPIRED
    assert book.changes[-1].movement.kind is MovementKind.EXPIRE
    assert book.events[1:] == [ReservationChanged(res, ReservationChange.EXPIRED)]


def test_partial_commits_ship_units_and_the_last_one_completes_the_reservation() -> None:
    book = book_with(A=(5, 0, 0), B=(5, 0, 0))
    res = hold(book, {("A", "L1"): 3, ("B", "L1"): 1})
    ops.commit(book, res, {("A", "L1"): 2})
    assert res.status is ReservationStatus.ACTIVE
    assert (book.level("A", "L1").on_hand, book.level("A", "L1").reserved) == (3, 1)
    ops.commit(book, res, None)
    assert res.status is ReservationStatus.COMMITTED
    assert book.level("A", "L1").reserved == 0 and book.level("B", "L1").on_hand == 4
    assert book.events[1:] == [ReservationChanged(res, ReservationChange.COMMITTED)] * 2


def test_committing_more_than_is_held_or_a_released_reservation_is_refused() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 2})
    with pytest.raises(FailedPrecondition, match="holds 2"):
        ops.commit(book, res, {("A", "L1"): 3})
    ops.release(book, res)
    with pytest.raises(FailedPrecondition, match="RELEASED"):
        ops.commit(book, res, None)


def test_a_committed_reservation_cannot_be_released() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 1})
    ops.commit(book, res, None)
    with pytest.raises(FailedPrecondition, match="already committed"):
        ops.release(book, res)
    assert book.level("A", "L1").on_hand == 4


@pytest.mark.parametrize("settle", ["write_off", "commit"])
def test_held_units_a_count_found_missing_leave_reserved_without_going_below_zero(
    settle: str,
) -> None:
    """Counted 0 with 2 reserved (a count shortage): writing off (or shipping) the 2 held
    units ends the reservation and leaves on_hand at 0, instead of being refused for good."""
    book = book_with(A=(2, 0, 0))
    res = hold(book, {("A", "L1"): 2})
    book.apply("A", "L1", MovementKind.COUNT, on_hand=-2)  # counted 0 on the shelf
    if settle == "write_off":
        ops.write_off(book, res, {("A", "L1"): 2}, actor="anna")
    else:
        ops.commit(book, res, None)
    level = book.level("A", "L1")
    assert (level.on_hand, level.reserved) == (0, 0)
    assert res.status is not ReservationStatus.ACTIVE


def test_a_short_pick_after_a_count_writes_off_the_missing_and_ships_the_rest() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 3})
    book.apply("A", "L1", MovementKind.COUNT, on_hand=-4)  # 1 on the shelf: 2 reserved missing
    ops.write_off(book, res, {("A", "L1"): 2}, actor="anna")  # the associate finds just 1
    level = book.level("A", "L1")
    assert (level.on_hand, level.reserved) == (1, 1)
    ops.commit(book, res, None)  # the customer takes the one found
    assert (level.on_hand, level.reserved) == (0, 0) and res.status is ReservationStatus.COMMITTED


def test_a_reservation_made_is_recorded_with_its_key_after_its_level_changes() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 2})
    assert book.events == [StockReserved(res, "k1")]
    assert [c.movement.kind for c in book.changes] == [MovementKind.RESERVE]


def test_an_allocation_short_of_stock_is_announced_and_a_plain_reservation_is_not() -> None:
    def ask(book: ops.LevelBook, allocating: bool) -> None:
        lines = {("A", "L1"): 2}
        if allocating:
            ops.allocate(
                book,
                reservation_id="r1",
                reference="o1",
                key="k1",
                source=lambda: lines,
                now=NOW,
                expires_at=None,
            )
        else:
            hold(book, lines)

    for allocating, announced in ((True, 1), (False, 0)):
        book = book_with(A=(1, 0, 0))
        with pytest.raises(InsufficientStock) as short:
            ask(book, allocating)
        assert book.events == [AllocationRejected("o1", "k1", short.value.lines)][:announced]
        assert book.changes == []


def test_an_allocation_no_plan_can_source_is_announced() -> None:
    def nowhere() -> ops.LevelPlan:
        raise InsufficientStock([ShortLine("A", "", 3, 0)])

    book = ops.LevelBook()
    with pytest.raises(InsufficientStock):
        ops.allocate(
            book,
            reservation_id="r1",
            reference="o1",
            key="k1",
            source=nowhere,
            now=NOW,
            expires_at=None,
        )
    assert book.events == [AllocationRejected("o1", "k1", [ShortLine("A", "", 3, 0)])]


def test_an_allocation_refused_outright_is_announced_with_its_reason() -> None:
    book = ops.LevelBook()
    ops.refuse_allocation(book, "o1", "k1", "store S9 does not take pickup orders")
    assert book.events == [
        AllocationRejected("o1", "k1", [], "store S9 does not take pickup orders")
    ]


def test_a_count_below_what_is_reserved_is_recorded_as_a_shortage() -> None:
    book = book_with(A=(5, 4, 0))
    count = ApplyScan("s1", "gun-1", ScanKind.COUNT, "A", "L1", quantity=1)
    scans.apply_scan(book, count)
    assert book.events == [CountShortage(book.level("A", "L1"), counted=1, short=3)]
    enough = book_with(A=(5, 4, 0))
    scans.apply_scan(enough, ApplyScan("s2", "gun-1", ScanKind.COUNT, "A", "L1", quantity=4))
    assert enough.events == [] and enough.level("A", "L1").on_hand == 4


def test_releasing_more_than_is_still_held_gives_back_what_is_held() -> None:
    book = book_with(A=(5, 0, 0))
    res = hold(book, {("A", "L1"): 3})
    ops.commit(book, res, {("A", "L1"): 1})
    assert ops.release(book, res, {("A", "L1"): 3})  # a sender who missed the commit
    assert res.status is ReservationStatus.RELEASED
    assert (res.lines[0].committed, res.lines[0].released) == (1, 2)
    assert book.level("A", "L1").reserved == 0


@pytest.mark.parametrize(
    ("reason", "after", "kinds"),
    [
        # 5 on hand, 2 held by the reservation, 1 by another: (on_hand, reserved, damaged).
        (RejectionReason.MISMATCH, (3, 1, 0), [MovementKind.ADJUSTMENT]),
        (RejectionReason.NO_VARIANCE, (5, 1, 0), [MovementKind.RELEASE]),
        (RejectionReason.DAMAGED, (3, 1, 2), [MovementKind.DAMAGE]),
        (RejectionReason.NOT_IN_STOCK, (0, 1, 0), [MovementKind.ADJUSTMENT, MovementKind.COUNT]),
    ],
)
def test_a_stores_rejection_corrects_the_level_as_its_reason_says(
    reason: RejectionReason, after: tuple[int, int, int], kinds: list[MovementKind]
) -> None:
    book = book_with(A=(5, 1, 0))
    res = hold(book, {("A", "L1"): 2})
    book.changes.clear()
    book.events.clear()
    ops.write_off(book, res, {("A", "L1"): 2}, actor="anna", reason=reason)
    level = book.level("A", "L1")
    assert (level.on_hand, level.reserved, level.damaged) == after
    assert [c.movement.kind for c in book.changes] == kinds
    assert all(c.movement.actor == "anna" for c in book.changes)
    assert res.status is ReservationStatus.RELEASED
    # Zeroed while another order still holds a unit there: a count shortage says so.
    shortages = [e for e in book.events if isinstance(e, CountShortage)]
    assert len(shortages) == (reason is RejectionReason.NOT_IN_STOCK)


@pytest.mark.parametrize(
    ("reason", "after"),
    [
        # 3 on hand, 1 reserved by another order; 5 said gone: never below zero.
        (None, (0, 1, 0)),
        (RejectionReason.MISMATCH, (0, 1, 0)),
        (RejectionReason.DAMAGED, (0, 1, 3)),
        (RejectionReason.NOT_IN_STOCK, (0, 1, 0)),
        (RejectionReason.NO_VARIANCE, (3, 1, 0)),
    ],
)
def test_units_no_reservation_holds_are_corrected_as_their_reason_says(
    reason: RejectionReason | None, after: tuple[int, int, int]
) -> None:
    book = book_with(A=(3, 1, 0))
    ops.correct(book, ("A", "L1"), 5, reason, {"reference": "ord_1", "actor": "a"})
    level = book.level("A", "L1")
    assert (level.on_hand, level.reserved, level.damaged) == after
