"""Domain rules of backorders and preorders (no I/O): what may be sold ahead, who gets units
that arrive, who loses promises the supply no longer covers, and when each line is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.stock.domain import book as ops
from omni.stock.domain.events import BackorderChanged
from omni.stock.domain.model import (
    InsufficientStock,
    Location,
    LocationKind,
    MovementKind,
    Reservation,
    StockLevel,
    fold,
)
from omni.stock.domain.presale import due_through, settle
from omni.stock.domain.purchasing import Supply
from omni.stock.domain.sourcing import plan_presale

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SOON, LATER = NOW + timedelta(days=2), NOW + timedelta(days=9)
WH = Location("WH", "Warehouse", LocationKind.WAREHOUSE, ships=True)


def sell_ahead(book: ops.LevelBook, rid: str, units: int, held: int = 0) -> Reservation:
    return ops.reserve(
        book,
        reservation_id=rid,
        reference=rid,
        key=rid,
        lines={("A", "WH"): units},
        waiting={("A", "WH"): units - held},
        now=NOW,
        expires_at=None,
        channel="WEB",
    )


def waiting_lines(*reservations: Reservation) -> list[ops.Waiting]:
    return [(r, ln) for r in reservations for ln in r.lines if ln.waiting]


def test_units_sold_ahead_are_never_more_than_supply_less_every_other_promise() -> None:
    book = ops.LevelBook([StockLevel("A", "WH", on_hand=2, incoming=10, safety_stock=1)])
    level = book.level("A", "WH")
    assert (level.available, level.presellable) == (1, 10)
    sell_ahead(book, "r1", 8, held=1)  # one from the shelf, seven ahead
    assert (level.reserved, level.backordered, level.available, level.presellable) == (1, 7, 0, 3)
    with pytest.raises(InsufficientStock):
        sell_ahead(book, "r2", 4)
    assert book.waiting == {("WEB", "A"): 7}


def test_units_that_reach_the_shelf_are_claimed_by_the_lines_that_wait_for_them() -> None:
    arrived = StockLevel("A", "WH", on_hand=4, incoming=1, backordered=5)
    assert arrived.available == 0  # four arrived; five wait: none may be sold from the shelf
    returned = StockLevel("A", "WH", on_hand=1, incoming=5, backordered=5)
    assert returned.available == 0  # a unit brought back goes to the first that waits too
    assert StockLevel("A", "WH", on_hand=7, incoming=5, backordered=5).available == 2


def test_settling_fills_the_oldest_cuts_the_newest_and_dates_the_rest() -> None:
    book = ops.LevelBook([StockLevel("A", "WH", incoming=6)])
    older, newer = sell_ahead(book, "r1", 3), sell_ahead(book, "r2", 3)
    supply = [Supply("A", "WH", SOON, 1, "po1"), Supply("A", "WH", LATER, 1, "po2")]
    level = book.level("A", "WH")
    # Two arrive (from elsewhere), and the supply still coming is cut from 6 to 2: four
    # units for six promised.
    level.apply(MovementKind.RECEIPT, on_hand=2)
    level.apply(MovementKind.INBOUND, incoming=-4)
    lines = waiting_lines(older, newer)
    steps = settle(level, lines, supply)
    assert [(s.filled, s.cut) for s in steps] == [(2, 0), (0, 2)]
    # Each waits for 1: the older for the first delivery, the newer for the second.
    assert [s.due for s in steps] == [SOON, LATER]
    ops.settle_backorders(book, lines, steps)
    assert (level.reserved, level.backordered) == (2, 2)
    assert [(ln.waiting, ln.released) for ln in (older.lines[0], newer.lines[0])] == [
        (1, 0),
        (1, 2),
    ]
    events = [e for e in book.events if isinstance(e, BackorderChanged)]
    assert [(e.reservation.id, e.lines[0].filled, e.lines[0].cut) for e in events] == [
        ("r1", 2, 0),
        ("r2", 0, 2),
    ]
    assert book.waiting == {("WEB", "A"): 2}
    # Settling again changes nothing.
    assert all(not (s.filled or s.cut) for s in settle(level, lines, supply))
    assert fold([c.movement for c in book.changes], "A", "WH").backordered == level.backordered


def test_a_line_is_due_when_the_supply_covers_it_and_every_unit_before_it() -> None:
    supply = [Supply("A", "WH", SOON, 5, "po1"), Supply("A", "WH", LATER, 5, "po2")]
    level = StockLevel("A", "WH", incoming=10, backordered=10)
    assert due_through(level, supply, 5) == SOON
    assert due_through(level, supply, 6) == LATER
    owing = StockLevel("A", "WH", reserved=2, incoming=10, backordered=4)  # two held missing
    assert due_through(owing, supply, 4) == LATER
    assert due_through(StockLevel("A", "WH", incoming=12, backordered=11), supply, 11) is None


def test_a_plan_sells_the_shelf_first_and_no_more_ahead_than_the_channel_may() -> None:
    shelf = {"WH": 2}
    ahead = {"WH": 10}
    plan, waiting = plan_presale(
        [WH], {"A": 5}, lambda s, loc: shelf[loc], lambda s, loc: ahead[loc], lambda s: 3
    )
    assert (plan, waiting) == ({("A", "WH"): 5}, {("A", "WH"): 3})
    with pytest.raises(InsufficientStock) as short:
        plan_presale([WH], {"A": 6}, lambda s, loc: 2, lambda s, loc: 10, lambda s: 3)
    assert short.value.lines[0].available == 5
