"""Purchase orders' rules (omni.stock.domain.purchasing): incoming units, receipts partial and
over, cancel and close, each a movement of the ledger (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.stock.domain.book import LevelBook
from omni.stock.domain.events import PurchaseOrderChange
from omni.stock.domain.model import MovementKind, StockLevel, fold
from omni.stock.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supply,
    due_by,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DUE = NOW + timedelta(days=3)


def ordered(book: LevelBook, **lines: int) -> PurchaseOrder:
    return PurchaseOrder.place(
        book,
        id="po_1",
        location_id="WH-1",
        supplier="Acme",
        reference="PO-77",
        lines=[PurchaseOrderLine(sku, qty, DUE) for sku, qty in lines.items()],
        actor="buyer",
        now=NOW,
    )


def test_an_order_makes_its_units_incoming_not_available() -> None:
    book = LevelBook()
    po = ordered(book, A=10, B=4)
    a = book.level("A", "WH-1")
    assert (a.incoming, a.on_hand, a.available) == (10, 0, 0)
    assert book.level("B", "WH-1").incoming == 4
    assert [c.movement.kind for c in book.changes] == [MovementKind.INBOUND] * 2
    assert [e.change for e in po.events] == [PurchaseOrderChange.CREATED]


def test_each_sku_once_per_order() -> None:
    with pytest.raises(InvalidArgument, match="once per purchase order"):
        PurchaseOrder.place(
            LevelBook(),
            id="po_1",
            location_id="WH-1",
            supplier="Acme",
            reference="",
            lines=[PurchaseOrderLine("A", 1, DUE), PurchaseOrderLine("A", 2, DUE)],
            actor="buyer",
            now=NOW,
        )


def test_partial_receipts_move_units_from_incoming_to_on_hand_until_received() -> None:
    book = LevelBook()
    po = ordered(book, A=10, B=4)
    assert po.receive(book, (("A", 6),), "dock-1", NOW) == ()
    a = book.level("A", "WH-1")
    assert (a.incoming, a.on_hand, po.status) == (4, 6, PurchaseOrderStatus.PARTIALLY_RECEIVED)
    po.receive(book, (("A", 4), ("B", 4)), "dock-1", NOW)
    assert po.status is PurchaseOrderStatus.RECEIVED
    assert (book.level("A", "WH-1").incoming, book.level("B", "WH-1").on_hand) == (0, 4)
    assert fold([c.movement for c in book.changes if c.level.sku == "A"], "A", "WH-1") == (
        book.level("A", "WH-1")
    )


def test_units_beyond_what_a_line_expects_are_taken_in_and_reported() -> None:
    book = LevelBook()
    po = ordered(book, A=5)
    over = po.receive(book, (("A", 3), ("A", 4)), "dock-1", NOW)
    assert over == (("A", 2),)
    a = book.level("A", "WH-1")
    assert (a.on_hand, a.incoming, po.line("A").received) == (7, 0, 7)  # type: ignore[union-attr]
    assert po.events[-1].over_received == (("A", 2),)


def test_a_sku_the_order_does_not_list_is_refused_and_changes_nothing() -> None:
    book = LevelBook()
    po = ordered(book, A=5)
    changes = len(book.changes)
    with pytest.raises(FailedPrecondition, match="does not list Z"):
        po.receive(book, (("A", 1), ("Z", 1)), "dock-1", NOW)
    assert len(book.changes) == changes and po.line("A").received == 0  # type: ignore[union-attr]


def test_cancel_before_anything_arrives_and_close_after() -> None:
    book = LevelBook()
    po = ordered(book, A=5)
    assert po.cancel(book, "supplier out of stock", "buyer", NOW) is True
    assert po.cancel(book, "again", "buyer", NOW) is False  # harmless
    assert (po.status, book.level("A", "WH-1").incoming) == (PurchaseOrderStatus.CANCELLED, 0)
    with pytest.raises(FailedPrecondition):
        po.receive(book, (("A", 1),), "dock-1", NOW)

    other = LevelBook()
    po = ordered(other, A=5)
    po.receive(other, (("A", 2),), "dock-1", NOW)
    with pytest.raises(FailedPrecondition, match="close it instead"):
        po.cancel(other, "too late", "buyer", NOW)
    assert po.close(other, "the rest is back-ordered for ever", "buyer", NOW) is True
    assert po.close(other, "again", "buyer", NOW) is False
    a = other.level("A", "WH-1")
    assert (po.status, a.on_hand, a.incoming) == (PurchaseOrderStatus.CLOSED, 2, 0)
    assert po.version == 3  # created, received, closed


def test_supply_due_by_a_time_makes_up_for_missing_reserved_units_first() -> None:
    level = StockLevel("A", "WH-1", on_hand=2, reserved=5)  # a count found 3 missing
    supply = [
        Supply("A", "WH-1", DUE, 10, "po_1"),
        Supply("A", "WH-1", DUE + timedelta(days=7), 4, "po_2"),
        Supply("A", "WH-2", DUE, 6, "po_3"),
    ]
    assert due_by(supply, DUE) == {("A", "WH-1"): 10, ("A", "WH-2"): 6}
    assert level.available == 0 and level.available_with(10) == 7
    assert due_by(supply, NOW) == {}
