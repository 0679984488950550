"""Transfers' rules (omni.stock.domain.transfers): held, shipped, received, cancelled, each a
movement of the ledger at the end it touches (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.stock.domain.book import LevelBook
from omni.stock.domain.events import TransferChange
from omni.stock.domain.model import InsufficientStock, MovementKind, StockLevel
from omni.stock.domain.transfers import Transfer, TransferLine, TransferStatus

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
