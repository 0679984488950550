"""The returns rules, on the domain alone (no database, no NATS): what may come back, the
window and its override, and what a receipt refunds and restocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.returns.domain import rules
from omni.returns.domain.events import RestockStock, ReturnChange, ReturnChanged
from omni.returns.domain.model import (
    Condition,
    KnownLocation,
    KnownOrder,
    Override,
    Received,
    Return,
    ReturnStatus,
    SoldLine,
)

SHIPPED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
ORDER = KnownOrder(
    id="ord_1",
    customer_id="c",
    currency="USD",
    lines=(SoldLine("MUG", 1500, 3, SHIPPED), SoldLine("HAT", 2000, 0, None)),
    version=3,
)


def a_return(qty: int = 2) -> Return:
    line = rules.new_line("MUG", qty, "chipped", ORDER)
    return Return("rma_1", "ord_1", "c", "POS", "STORE-1", "USD", [line], SHIPPED, SHIPPED)


def check(
    asked: dict[str, int],
    *,
    at: datetime,
    earlier: list[Return] | None = None,
    override: Override | None = None,
) -> Override | None:
    return rules.check_lines(ORDER, asked.items(), earlier or [], at, WINDOW, override)


def test_up_to_what_was_fulfilled_may_come_back_counting_earlier_returns() -> None:
    assert check({"MUG": 3}, at=SHIPPED) is None
    with pytest.raises(rules.NotFulfilled, match=r"only 1 of MUG .* can still be returned"):
        check({"MUG": 2}, at=SHIPPED, earlier=[a_return(2)])
    with pytest.raises(rules.NotFulfilled, match="HAT of order ord_1 has not been fulfilled"):
        check({"HAT": 1}, at=SHIPPED)
    with pytest.raises(FailedPrecondition, match="no line for SOCK"):
        check({"SOCK": 1}, at=SHIPPED)


def test_after_the_window_only_a_managers_override_opens_it_and_is_recorded() -> None:
    late = SHIPPED + WINDOW + timedelta(seconds=1)
    assert check({"MUG": 1}, at=SHIPPED + WINDOW) is None  # the last moment still counts
    with pytest.raises(FailedPrecondition, match="window for MUG closed on 2026-12-01"):
        check({"MUG": 1}, at=late)
    override = Override("boss", "loyal customer")
    assert check({"MUG": 1}, at=late, override=override) == override
    assert check({"MUG": 1}, at=SHIPPED, override=override) is None  # not needed: not kept


def test_a_location_must_be_known_and_take_returns() -> None:
    with pytest.raises(rules.UnknownLocation):
        rules.check_location(None, "STORE-9")
    with pytest.raises(FailedPrecondition, match="does not accept returns"):
        rules.check_location(KnownLocation("WH-1", accepts_returns=False), "WH-1")
    with pytest.raises(rules.UnknownOrder):
        rules.check_order(None, "ord_9")


def test_a_receipt_refunds_sellable_and_damaged_units_and_restocks_them_where_received() -> None:
    rma = a_return(2)
    got = [
        Received("MUG", 1, Condition.SELLABLE, "s1"),
        Received("MUG", 1, Condition.DAMAGED, "s2"),
    ]
    assert rules.receive(rma, got, SHIPPED)
    assert (rma.status, rma.refunded) == (ReturnStatus.RECEIVED, 3000)
    restock = next(e for e in rma.events if isinstance(e, RestockStock))
    assert (restock.location_id, restock.lines) == (
        "STORE-1",
        (("MUG", 1, False), ("MUG", 1, True)),
    )
    kinds = [e.change for e in rma.events if isinstance(e, ReturnChanged)]
    assert kinds == [ReturnChange.RECEIVED, ReturnChange.REFUND_ISSUED]


def test_missing_units_are_neither_refunded_nor_restocked() -> None:
    rma = a_return(2)
    assert rules.receive(rma, [Received("MUG", 1, Condition.MISSING, "s1")], SHIPPED)
    assert (rma.status, rma.refunded) == (ReturnStatus.PARTIALLY_RECEIVED, 0)
    assert not [e for e in rma.events if isinstance(e, RestockStock)]


def test_more_than_expected_or_an_unknown_sku_changes_nothing() -> None:
    rma = a_return(1)
    with pytest.raises(FailedPrecondition, match="expects 1 more of MUG, not 2"):
        rules.receive(rma, [Received("MUG", 2, Condition.SELLABLE, "s1")], SHIPPED)
    with pytest.raises(InvalidArgument, match="no line for HAT"):
        rules.receive(rma, [Received("HAT", 1, Condition.SELLABLE, "s1")], SHIPPED)
    assert (rma.status, rma.refunded, rma.version, rma.events) == (
        ReturnStatus.AUTHORIZED,
        0,
        1,
        [],
    )
    assert not rules.receive(rma, [Received("MUG", 0, Condition.SELLABLE, "s1")], SHIPPED)


def test_one_bad_entry_in_a_receipt_changes_nothing_of_the_good_ones() -> None:
    rma = a_return(1)
    mixed = [
        Received("MUG", 1, Condition.SELLABLE, "s1"),
        Received("HAT", 1, Condition.SELLABLE, "s2"),
    ]
    with pytest.raises(InvalidArgument):
        rules.receive(rma, mixed, SHIPPED)
    assert (rma.lines[0].sellable, rma.refunded, rma.events) == (0, 0, [])


def test_entries_for_one_sku_count_together_against_what_is_expected() -> None:
    rma = a_return(1)
    twice = [
        Received("MUG", 1, Condition.SELLABLE, "s1"),
        Received("MUG", 1, Condition.DAMAGED, "s2"),
    ]
    with pytest.raises(FailedPrecondition, match="expects 1 more of MUG, not 2"):
        rules.receive(rma, twice, SHIPPED)
    assert rma.lines[0].sellable == rma.lines[0].damaged == 0


def test_units_that_never_arrived_may_still_be_returned_later() -> None:
    earlier = a_return(2)
    rules.receive(earlier, [Received("MUG", 2, Condition.MISSING, "s1")], SHIPPED)
    assert check({"MUG": 3}, at=SHIPPED, earlier=[earlier]) is None  # the 2 missing do not count


def test_a_location_that_takes_returns_is_accepted() -> None:
    rules.check_location(KnownLocation("STORE-1", accepts_returns=True), "STORE-1")
