"""Transfers' rules (omni.stock.domain.transfers): held, shipped, received, cancelled, each a
movement of the ledger at the end it touches (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.stock.domain.book import LevelBook, release
from omni.stock.domain.events import BackorderChanged, StockReserved, TransferChange
from omni.stock.domain.model import (
    InsufficientStock,
    MovementKind,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from omni.stock.domain.transfers import Transfer, TransferLine, TransferStatus, bring_to

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def drafted(quantity: int = 4) -> Transfer:
    return Transfer.draft(
        id="trf_1",
        origin_id="WH",
        destination_id="S1",
        reference="",
        now=NOW,
        lines=[TransferLine("A", quantity)],
    )


def stocked(on_hand: int) -> LevelBook:
    return LevelBook([StockLevel("A", "WH", on_hand=on_hand), StockLevel("A", "S1")])


def test_ready_holds_at_the_origin_and_shipping_moves_the_units_into_transit() -> None:
    book, transfer = stocked(10), drafted()
    held = transfer.ready(book, "res_1", NOW)
    assert held is not None and book.level("A", "WH").reserved == 4
    assert transfer.ready(book, "res_2", NOW) is None  # again: nothing more held
    assert transfer.ship(book, held, NOW) is True
    origin, destination = book.level("A", "WH"), book.level("A", "S1")
    assert (origin.on_hand, origin.reserved, destination.incoming) == (6, 0, 4)
    assert transfer.ship(book, held, NOW) is False
    assert [e.change for e in transfer.events] == [
        TransferChange.CREATED,
        TransferChange.READY,
        TransferChange.SHIPPED,
    ]


def test_receipts_accept_or_reject_and_never_exceed_what_is_carried() -> None:
    book, transfer = stocked(10), drafted()
    transfer.ship(book, transfer.ready(book, "res_1", NOW), NOW)
    transfer.receive(book, [("A", 2, 1)], "anna", NOW)
    assert transfer.status is TransferStatus.PARTIALLY_RECEIVED
    with pytest.raises(FailedPrecondition, match="still carries 1"):
        transfer.receive(book, [("A", 2, 0)], "anna", NOW)
    transfer.receive(book, [("A", 1, 0)], "anna", NOW)
    destination = book.level("A", "S1")
    assert (destination.on_hand, destination.damaged, destination.incoming) == (3, 1, 0)
    assert transfer.status is TransferStatus.RECEIVED
    assert book.changes[-1].movement.kind is MovementKind.TRANSFER_IN


def test_not_enough_at_the_origin_holds_nothing() -> None:
    book, transfer = stocked(3), drafted()
    with pytest.raises(InsufficientStock):
        transfer.ready(book, "res_1", NOW)
    assert (transfer.status, book.changes) == (TransferStatus.DRAFT, [])


def test_cancel_releases_what_is_held_and_is_refused_once_shipped() -> None:
    book, transfer = stocked(10), drafted()
    held = transfer.ready(book, "res_1", NOW)
    assert transfer.cancel(book, held, "no van", NOW) is True
    assert transfer.cancel(book, held, "again", NOW) is False
    assert book.level("A", "WH").reserved == 0
    with pytest.raises(FailedPrecondition):
        transfer.ship(book, held, NOW)
    shipped = drafted()
    shipped.ship(book, shipped.ready(book, "res_2", NOW), NOW)
    with pytest.raises(FailedPrecondition, match="on their way"):
        shipped.cancel(book, None, "too late", NOW)


def test_a_transfer_goes_somewhere_else_with_each_sku_once() -> None:
    with pytest.raises(InvalidArgument):
        Transfer.draft(
            id="t",
            origin_id="WH",
            destination_id="WH",
            reference="",
            now=NOW,
            lines=[TransferLine("A", 1)],
        )
    with pytest.raises(InvalidArgument):
        Transfer.draft(
            id="t",
            origin_id="WH",
            destination_id="S1",
            reference="",
            now=NOW,
            lines=[TransferLine("A", 1), TransferLine("A", 2)],
        )


def brought(on_hand: int = 10, quantity: int = 3) -> tuple[LevelBook, Reservation, Transfer]:
    """An order's 3 units of A for a customer at S1, planned at WH: brought by transfer."""
    book = stocked(on_hand)
    ids = iter(["trf_1", "hold_1"])
    order, moves = bring_to(
        book,
        {("A", "WH"): quantity},
        destination_id="S1",
        reservation_id="res_o",
        reference="ord_1",
        key="alloc:ord_1",
        now=NOW,
        new_id=lambda prefix: next(ids),
    )
    ((transfer, _),) = moves
    return book, order, transfer


def test_units_brought_for_an_order_are_held_at_the_origin_and_never_supply_at_the_store() -> None:
    book, order, transfer = brought()
    assert (transfer.status, transfer.for_reservation_id, transfer.reference) == (
        TransferStatus.READY_TO_SHIP,
        "res_o",
        "ord_1",
    )
    (line,) = order.lines
    assert (line.location_id, line.coming, line.held) == ("S1", 3, 0)
    assert book.level("A", "WH").reserved == 3
    transfer.ship(book, book_hold(book, transfer), NOW)
    store = book.level("A", "S1")
    # Sold already: not incoming nor backordered where the customer collects.
    assert (store.incoming, store.backordered, store.available) == (0, 0, 0)


def book_hold(book: LevelBook, transfer: Transfer) -> Reservation:
    (held,) = [
        e.reservation
        for e in book.events
        if isinstance(e, StockReserved) and e.reservation.id == transfer.reservation_id
    ]
    return held


def test_arrived_units_are_held_for_the_order_and_rejected_ones_cut_from_it() -> None:
    book, order, transfer = brought()
    transfer.ship(book, book_hold(book, transfer), NOW)
    transfer.receive(book, [("A", 2, 1)], "anna", NOW, order)
    store = book.level("A", "S1")
    assert (store.on_hand, store.reserved, store.damaged, store.incoming) == (2, 2, 1, 0)
    (line,) = order.lines
    assert (line.held, line.coming, line.released) == (2, 0, 1)
    (event,) = [e for e in book.events if isinstance(e, BackorderChanged)]
    assert [(ln.filled, ln.cut) for ln in event.lines] == [(2, 1)]


def test_a_cancelled_or_lost_transfer_cuts_what_it_would_have_brought() -> None:
    book, order, transfer = brought()
    transfer.cancel(book, book_hold(book, transfer), "no van", NOW, order)
    assert book.level("A", "WH").reserved == 0
    assert (order.lines[0].coming, order.status) == (0, ReservationStatus.RELEASED)

    book, order, transfer = brought()
    transfer.ship(book, book_hold(book, transfer), NOW)
    transfer.receive(book, [("A", 1, 0)], "anna", NOW, order)
    transfer.close(book, "fell off the van", "boss", NOW, order)
    assert (order.lines[0].held, order.lines[0].coming, order.lines[0].released) == (1, 0, 2)
    assert book.level("A", "S1").incoming == 0


def test_releasing_an_order_gives_up_its_units_coming_without_touching_the_level() -> None:
    book, order, _ = brought()
    before = len(book.changes)
    release(book, order)
    assert (order.lines[0].coming, order.status) == (0, ReservationStatus.RELEASED)
    assert len(book.changes) == before  # nothing was ever counted at the store


def test_a_receipt_naming_a_sku_twice_fills_the_order_with_both() -> None:
    book, order, transfer = brought()
    transfer.ship(book, book_hold(book, transfer), NOW)
    transfer.receive(book, [("A", 1, 0), ("A", 2, 0)], "anna", NOW, order)
    assert (order.lines[0].held, order.lines[0].coming) == (3, 0)
