"""The returns rules, on the domain alone (no database, no NATS): what may come back, the
window and its override, and what a receipt refunds and restocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.orders.v1 import orders_pb2 as opb
from omni.platform.errors import FailedPrecondition, InvalidArgument
from omni.returns.domain.events import ReturnChange, ReturnChanged
from omni.returns.domain.model import (
    Condition,
    ExchangeAsked,
    ExchangeStatus,
    ExchangeTo,
    KnownLocation,
    KnownOrder,
    NotFulfilled,
    Override,
    Received,
    Replacement,
    ReplacementNews,
    ReplacementState,
    Return,
    ReturnStatus,
    SoldLine,
    UnknownLocation,
    UnknownOrder,
)
from omni.returns.entrypoints.nats_api import replacement_of

SHIPPED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
ORDER = KnownOrder(
    id="ord_1",
    customer_id="c",
    currency="USD",
    lines=(SoldLine("MUG", 1500, 3, SHIPPED), SoldLine("HAT", 2000, 0, None)),
    version=3,
)


STORE = KnownLocation("STORE-1", accepts_returns=True)


def opened(
    asked: dict[str, int],
    *,
    at: datetime = SHIPPED,
    earlier: list[Return] | None = None,
    override: Override | None = None,
    order: KnownOrder | None = ORDER,
    location: KnownLocation | None = STORE,
) -> Return:
    return Return.open(
        "rma_1",
        order_id="ord_1",
        channel="POS",
        location_id=location.id if location else "STORE-9",
        lines=[(sku, qty, "chipped") for sku, qty in asked.items()],
        override=override,
        order=order,
        location=location,
        earlier=earlier or [],
        now=at,
        window=WINDOW,
    )


def a_return(qty: int = 2) -> Return:
    rma = opened({"MUG": qty})
    rma.events.clear()
    return rma


def test_up_to_what_was_fulfilled_may_come_back_counting_earlier_returns() -> None:
    rma = opened({"MUG": 3})
    assert (rma.status, rma.lines[0].unit_price, rma.override) == (
        ReturnStatus.AUTHORIZED,
        1500,
        None,
    )
    assert [e.change for e in rma.events] == [ReturnChange.AUTHORIZED]
    with pytest.raises(NotFulfilled, match=r"only 1 of MUG .* can still be returned"):
        opened({"MUG": 2}, earlier=[a_return(2)])
    with pytest.raises(NotFulfilled, match="HAT of order ord_1 has not been fulfilled"):
        opened({"HAT": 1})
    with pytest.raises(FailedPrecondition, match="no line for SOCK"):
        opened({"SOCK": 1})


def test_after_the_window_only_a_managers_override_opens_it_and_is_recorded() -> None:
    late = SHIPPED + WINDOW + timedelta(seconds=1)
    assert opened({"MUG": 1}, at=SHIPPED + WINDOW).override is None  # the last moment counts
    with pytest.raises(FailedPrecondition, match="window for MUG closed on 2026-12-01"):
        opened({"MUG": 1}, at=late)
    override = Override("boss", "loyal customer")
    assert opened({"MUG": 1}, at=late, override=override).override == override
    assert opened({"MUG": 1}, override=override).override is None  # not needed: not kept


def test_a_location_must_be_known_and_take_returns() -> None:
    with pytest.raises(UnknownLocation):
        opened({"MUG": 1}, location=None)
    with pytest.raises(FailedPrecondition, match="does not accept returns"):
        opened({"MUG": 1}, location=KnownLocation("WH-1", accepts_returns=False))
    with pytest.raises(UnknownOrder):
        opened({"MUG": 1}, order=None)


def test_a_receipt_refunds_sellable_and_damaged_units_and_restocks_them_where_received() -> None:
    rma = a_return(2)
    got = [
        Received("MUG", 1, Condition.SELLABLE, "s1"),
        Received("MUG", 1, Condition.DAMAGED, "s2"),
    ]
    assert rma.receive(got, SHIPPED)
    assert (rma.status, rma.refunded) == (ReturnStatus.RECEIVED, 3000)
    [restock] = rma.commands  # asked of stock, apart from the return's own events
    assert (restock.location_id, restock.lines) == (
        "STORE-1",
        (("MUG", 1, False), ("MUG", 1, True)),
    )
    kinds = [e.change for e in rma.events if isinstance(e, ReturnChanged)]
    assert kinds == [ReturnChange.RECEIVED, ReturnChange.REFUND_ISSUED]


def test_missing_units_are_neither_refunded_nor_restocked() -> None:
    rma = a_return(2)
    assert rma.receive([Received("MUG", 1, Condition.MISSING, "s1")], SHIPPED)
    assert (rma.status, rma.refunded) == (ReturnStatus.PARTIALLY_RECEIVED, 0)
    assert not rma.commands


def test_more_than_expected_or_an_unknown_sku_changes_nothing() -> None:
    rma = a_return(1)
    with pytest.raises(FailedPrecondition, match="expects 1 more of MUG, not 2"):
        rma.receive([Received("MUG", 2, Condition.SELLABLE, "s1")], SHIPPED)
    with pytest.raises(InvalidArgument, match="no line for HAT"):
        rma.receive([Received("HAT", 1, Condition.SELLABLE, "s1")], SHIPPED)
    assert (rma.status, rma.refunded, rma.version, rma.events) == (
        ReturnStatus.AUTHORIZED,
        0,
        1,
        [],
    )
    assert not rma.receive([Received("MUG", 0, Condition.SELLABLE, "s1")], SHIPPED)


def test_one_bad_entry_in_a_receipt_changes_nothing_of_the_good_ones() -> None:
    rma = a_return(1)
    mixed = [
        Received("MUG", 1, Condition.SELLABLE, "s1"),
        Received("HAT", 1, Condition.SELLABLE, "s2"),
    ]
    with pytest.raises(InvalidArgument):
        rma.receive(mixed, SHIPPED)
    assert (rma.lines[0].sellable, rma.refunded, rma.events, rma.commands) == (0, 0, [], [])


def test_entries_for_one_sku_count_together_against_what_is_expected() -> None:
    rma = a_return(1)
    twice = [
        Received("MUG", 1, Condition.SELLABLE, "s1"),
        Received("MUG", 1, Condition.DAMAGED, "s2"),
    ]
    with pytest.raises(FailedPrecondition, match="expects 1 more of MUG, not 2"):
        rma.receive(twice, SHIPPED)
    assert rma.lines[0].sellable == rma.lines[0].damaged == 0


def test_units_that_never_arrived_may_still_be_returned_later() -> None:
    earlier = a_return(2)
    earlier.receive([Received("MUG", 2, Condition.MISSING, "s1")], SHIPPED)
    assert opened({"MUG": 3}, earlier=[earlier])  # the 2 missing do not count


def test_a_location_that_takes_returns_is_accepted() -> None:
    assert opened({"MUG": 1}, location=KnownLocation("STORE-2", accepts_returns=True))


def swapped(qty: int, price: int, *, advance: bool) -> Return:
    """A return of `qty` MUGs (1500 each) exchanged for CUPs at `price` each."""
    swap = ExchangeAsked((Replacement("MUG", "CUP", price),), ExchangeTo(region="n"), advance)
    return Return.open(
        "rma_1",
        order_id="ord_1",
        channel="WEB",
        location_id="STORE-1",
        lines=[("MUG", qty, "size")],
        override=None,
        order=ORDER,
        location=STORE,
        earlier=[],
        now=SHIPPED,
        window=WINDOW,
        exchange=swap,
    )


def money(rma: Return) -> list[tuple[ReturnChange, int, int]]:
    return [(e.change, e.refund, e.charge) for e in rma.events if e.refund or e.charge]


def test_a_confirmed_exchange_charges_the_difference_and_refunds_nothing_as_units_arrive() -> None:
    rma = swapped(2, 1800, advance=True)
    assert [e.change for e in rma.events] == [
        ReturnChange.AUTHORIZED,
        ReturnChange.EXCHANGE_ORDERED,
    ]
    assert rma.exchange is not None and rma.difference == 600
    assert rma.follow_replacement(
        ReplacementNews("ord_2", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED
    )
    assert not rma.follow_replacement(
        ReplacementNews("ord_2", 2, ReplacementState.CANCELLED, {}, {}), SHIPPED
    )
    rma.receive([Received("MUG", 2, Condition.SELLABLE, "s")], SHIPPED)
    assert money(rma) == [(ReturnChange.EXCHANGE_CONFIRMED, 0, 600)]
    assert (rma.refunded, rma.charged) == (0, 600)


def test_a_cheaper_replacement_refunds_the_difference_and_a_unit_never_sent_is_charged() -> None:
    rma = swapped(2, 1000, advance=True)
    rma.follow_replacement(ReplacementNews("ord_2", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED)
    rma.receive([Received("MUG", 1, Condition.SELLABLE, "a")], SHIPPED)
    rma.receive([Received("MUG", 1, Condition.MISSING, "b")], SHIPPED)
    assert money(rma) == [
        (ReturnChange.EXCHANGE_CONFIRMED, 1000, 0),
        (ReturnChange.REFUND_ISSUED, 0, 1500),  # kept the old one and got the new one
    ]


def test_a_cancelled_replacement_gives_back_the_difference_and_refunds_what_came_back() -> None:
    rma = swapped(2, 1800, advance=True)
    rma.follow_replacement(ReplacementNews("ord_2", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED)
    rma.receive([Received("MUG", 1, Condition.DAMAGED, "a")], SHIPPED)
    rma.follow_replacement(ReplacementNews("ord_2", 3, ReplacementState.CANCELLED, {}, {}), SHIPPED)
    assert rma.exchange is not None and rma.exchange.status is ExchangeStatus.CANCELLED
    assert money(rma)[-1] == (ReturnChange.EXCHANGE_CANCELLED, 600 + 1500, 0)
    assert rma.refunded - rma.charged == 1500  # a plain return of the one that came back


def test_withdrawing_a_return_waits_for_the_replacement_cancelled_or_kept() -> None:
    rma = swapped(1, 1800, advance=True)
    rma.follow_replacement(ReplacementNews("ord_2", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED)
    assert rma.charged == 300
    assert rma.cancel("changed my mind", SHIPPED)
    assert rma.exchange is not None and rma.exchange.withdrawing
    assert rma.charged == 300 and rma.lines[0].counts_against_order == 0  # not settled yet
    assert not rma.cancel("again", SHIPPED)
    with pytest.raises(FailedPrecondition):
        rma.receive([Received("MUG", 1, Condition.SELLABLE, "late")], SHIPPED)
    # Orders cancels the replacement (nothing of it had left): what was charged comes back.
    rma.follow_replacement(ReplacementNews("ord_2", 3, ReplacementState.CANCELLED, {}, {}), SHIPPED)
    assert rma.exchange.status is ExchangeStatus.CANCELLED and not rma.exchange.withdrawing
    assert rma.refunded - rma.charged == 0

    # Withdrawn while the replacement was on its way unbeknown to returns: it is kept, and
    # charged in full once its shipment is heard of.
    kept = swapped(1, 1800, advance=True)
    kept.follow_replacement(
        ReplacementNews("ord_3", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED
    )
    kept.cancel("keeps both", SHIPPED)
    kept.follow_replacement(
        ReplacementNews("ord_3", 3, ReplacementState.CONFIRMED, {}, {"CUP": 1}), SHIPPED
    )
    assert kept.exchange is not None and kept.exchange.status is ExchangeStatus.CONFIRMED
    assert kept.charged - kept.refunded == 1800  # the new one, in full
    assert money(kept)[-1] == (ReturnChange.CANCELLED, 0, 1500)


def test_replacement_units_cancelled_since_are_refunded() -> None:
    rma = swapped(2, 1500, advance=True)
    rma.follow_replacement(ReplacementNews("ord_2", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED)
    rma.receive([Received("MUG", 2, Condition.SELLABLE, "a")], SHIPPED)
    assert rma.refunded - rma.charged == 0  # like for like
    # One CUP cannot be had after all (its store found none): that one is refunded.
    rma.follow_replacement(
        ReplacementNews("ord_2", 3, ReplacementState.CONFIRMED, {"CUP": 1}, {}), SHIPPED
    )
    assert money(rma)[-1] == (ReturnChange.EXCHANGE_UPDATED, 1500, 0)


def test_a_swap_not_in_advance_is_ordered_once_every_unit_is_in_or_fails_on_a_missing_one() -> None:
    rma = swapped(2, 0, advance=False)
    assert rma.exchange is not None and rma.exchange.replacements[0].unit_price == 1500
    rma.receive([Received("MUG", 1, Condition.SELLABLE, "a")], SHIPPED)
    assert rma.exchange.status is ExchangeStatus.AWAITING_RETURN and rma.refunded == 0
    rma.receive([Received("MUG", 1, Condition.SELLABLE, "b")], SHIPPED)
    assert rma.exchange.status is ExchangeStatus.ORDERED and rma.exchange.ordered

    failing = swapped(2, 0, advance=False)
    failing.receive(
        [Received("MUG", 1, Condition.SELLABLE, "a"), Received("MUG", 1, Condition.MISSING, "b")],
        SHIPPED,
    )
    assert failing.exchange is not None and failing.exchange.status is ExchangeStatus.FAILED
    assert not failing.exchange.ordered and failing.refunded == 1500


def test_news_of_another_order_is_ignored_and_units_sent_or_not_sent_are_settled() -> None:
    rma = swapped(2, 1500, advance=True)
    confirmed = ReplacementNews("ord_2", 2, ReplacementState.CONFIRMED, {}, {})
    assert rma.follow_replacement(confirmed, SHIPPED)
    stranger = ReplacementNews("ord_9", 5, ReplacementState.CANCELLED, {"CUP": 2}, {})
    assert not rma.follow_replacement(stranger, SHIPPED)
    # One CUP left, then the rest of the order was cancelled: the one not sent is refunded.
    cut = ReplacementNews("ord_2", 4, ReplacementState.CANCELLED, {"CUP": 1}, {"CUP": 1})
    rma.follow_replacement(cut, SHIPPED)
    assert rma.exchange is not None and rma.exchange.status is ExchangeStatus.CONFIRMED
    assert money(rma)[-1] == (ReturnChange.EXCHANGE_UPDATED, 1500, 0)

    # Given up (cancelled before anything left), then a CUP left all the same: charged.
    late = swapped(1, 1500, advance=True)
    late.follow_replacement(
        ReplacementNews("ord_3", 2, ReplacementState.CONFIRMED, {}, {}), SHIPPED
    )
    gone = ReplacementNews("ord_3", 3, ReplacementState.CANCELLED, {"CUP": 1}, {})
    late.follow_replacement(gone, SHIPPED)
    assert late.exchange is not None and late.exchange.status is ExchangeStatus.CANCELLED
    sent = ReplacementNews("ord_3", 4, ReplacementState.CANCELLED, {}, {"CUP": 1})
    late.follow_replacement(sent, SHIPPED)
    assert money(late)[-1] == (ReturnChange.EXCHANGE_UPDATED, 0, 1500)


def test_a_cancelled_replacement_counts_every_unit_that_did_not_leave_as_cancelled() -> None:
    order = opb.Order(
        id="ord_2",
        version=7,
        status=opb.ORDER_STATUS_CANCELLED,
        exchange_return_id="rma_1",
        lines=[opb.OrderLine(sku="CUP", quantity=2)],
        shipments=[opb.Shipment(id="s1", lines=[opb.ShipmentLine(sku="CUP", quantity=1)])],
    )
    news = replacement_of(order)
    assert news is not None
    assert (news.state, news.cancelled, news.sent) == (
        ReplacementState.CANCELLED,
        (("CUP", 1),),
        (("CUP", 1),),
    )
    order.exchange_return_id = ""
    assert replacement_of(order) is None
