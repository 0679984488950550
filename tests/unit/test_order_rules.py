"""The order's transitions, on the aggregate alone (no database, no NATS): placed, confirmed
or rejected once, shipped from where it was allocated, cancelled releasing exactly what did
not ship, each change an event and each request to stock a command kept apart from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.orders.domain.events import OrderChange
from omni.orders.domain.model import (
    Delivery,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipTo,
    ShortLine,
)
from omni.orders.domain.order import Order
from omni.orders.domain.outgoing import (
    AllocateStock,
    CommitStock,
    CorrectStock,
    ReleaseStock,
    WriteOffStock,
)
from omni.platform.channels import RejectionReason
from omni.platform.errors import AlreadyExists, Conflict, FailedPrecondition

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=7)


def order() -> Order:
    placed = Order(
        id="ord_1",
        channel="WEB",
        customer_id="c",
        currency="USD",
        lines=[OrderLine("MUG", 3, 1000), OrderLine("CUP", 1, 500)],
        fulfilment=ShipTo("east"),
        created_at=T0,
        updated_at=T0,
    )
    placed.placed()
    return placed


def confirmed() -> Order:
    o = order()
    plan = (("MUG", "WH-1", 2), ("MUG", "STORE-1", 1), ("CUP", "WH-1", 1))
    o.confirm(o.allocation_key, "res_000000000001", plan, T0)
    return o


def changes(o: Order) -> list[OrderChange]:
    return [e.change for e in o.events if hasattr(e, "change")]


def commands(o: Order, kind: type) -> list[object]:
    """What the order asked of stock (kept apart from its events)."""
    return [c for c in o.commands if isinstance(c, kind)]


def test_placing_asks_stock_to_allocate_once_under_the_orders_own_key() -> None:
    o = order()
    [ask] = commands(o, AllocateStock)
    assert (ask.idempotency_key, ask.lines) == ("order:ord_1", (("MUG", 3), ("CUP", 1)))
    assert changes(o) == [OrderChange.PLACED] and o.total == 3500


def test_a_decision_is_taken_once_and_a_late_second_one_changes_nothing() -> None:
    o = confirmed()
    assert o.status is OrderStatus.CONFIRMED
    version = o.version
    o.reject(o.allocation_key, [ShortLine("MUG", "", 3, 0)], "", T0)  # arrives late
    assert (o.status, o.version) == (OrderStatus.CONFIRMED, version)


def test_a_rejection_says_what_was_short() -> None:
    o = order()
    o.reject(o.allocation_key, [ShortLine("MUG", "", 3, 1)], "", T0)
    assert o.status is OrderStatus.REJECTED
    assert o.reason == "not enough stock for MUG (1 of 3 available)"


def test_units_ship_only_from_where_they_were_allocated_and_each_shipment_once() -> None:
    o = confirmed()
    with pytest.raises(FailedPrecondition):
        o.ship(Shipment("box-1", "STORE-1", (("MUG", 2),)), T0)  # one is held there
    o.ship(Shipment("box-1", "WH-1", (("MUG", 2), ("CUP", 1)), "ups"), T0)
    assert o.status is OrderStatus.PARTIALLY_FULFILLED
    [commit] = commands(o, CommitStock)
    assert commit.lines == (("MUG", "WH-1", 2), ("CUP", "WH-1", 1))
    o.ship(Shipment("box-1", "WH-1", (("MUG", 2), ("CUP", 1)), "ups"), T0)  # resent
    assert len(commands(o, CommitStock)) == 1
    with pytest.raises(AlreadyExists, match="use a new shipment id"):
        o.ship(Shipment("box-1", "WH-1", (("CUP", 1),), "ups"), T0)
    o.ship(Shipment("box-2", "STORE-1", (("MUG", 1),)), T0)
    assert o.status is OrderStatus.FULFILLED


def test_cancelling_releases_exactly_what_has_not_shipped_and_refunds_it() -> None:
    o = confirmed()
    o.ship(Shipment("box-1", "WH-1", (("MUG", 2),)), T0)
    o.cancel("customer called", T0)
    [release] = commands(o, ReleaseStock)
    assert sorted(release.lines or ()) == [("CUP", "WH-1", 1), ("MUG", "STORE-1", 1)]
    assert o.events[-1].refund_due == 1000 + 500  # type: ignore[union-attr]
    o.cancel("again", T0)  # harmless
    assert len(commands(o, ReleaseStock)) == 1 and o.reason == "customer called"


def test_a_finished_order_cannot_be_cancelled() -> None:
    o = confirmed()
    o.ship(Shipment("box-1", "WH-1", (("MUG", 2), ("CUP", 1))), T0)
    o.ship(Shipment("box-2", "STORE-1", (("MUG", 1),)), T0)
    with pytest.raises(FailedPrecondition, match="only a PENDING, CONFIRMED or"):
        o.cancel("too late", T0)


def test_stock_allocated_for_an_order_cancelled_meanwhile_goes_straight_back() -> None:
    o = order()
    o.cancel("changed my mind", T0)
    o.confirm(o.allocation_key, "res_000000000002", (("MUG", "WH-1", 3),), T0)
    assert o.status is OrderStatus.CANCELLED
    [release] = commands(o, ReleaseStock)
    assert (release.reservation_id, release.lines) == ("res_000000000002", None)


def test_a_confirmation_delivered_again_allocates_nothing_more() -> None:
    o = confirmed()
    version = o.version
    o.confirm(o.allocation_key, "res_000000000001", (("MUG", "WH-1", 3), ("CUP", "WH-1", 1)), T0)
    assert o.version == version
    assert [(a.location_id, a.quantity) for a in o.lines[0].allocations] == [
        ("WH-1", 2),
        ("STORE-1", 1),
    ]


def backordered_order() -> Order:
    """MUG: 1 held at WH-1 and 2 backordered there, due T1; CUP held."""
    o = order()
    plan = (("MUG", "WH-1", 3), ("CUP", "WH-1", 1))
    o.confirm(o.allocation_key, "res_000000000001", plan, T0, (("MUG", "WH-1", 2, T1),))
    return o


def test_units_on_order_cannot_ship_until_filled_and_cut_ones_are_refunded() -> None:
    o = backordered_order()
    mug = o.line("MUG")
    assert mug is not None and (mug.allocations[0].backordered, mug.allocations[0].expected_at) == (
        2,
        T1,
    )
    with pytest.raises(FailedPrecondition, match="2 more backordered"):
        o.ship(Shipment("s1", "WH-1", (("MUG", 2),)), T0)
    o.backorder_changed("res_000000000001", (("MUG", "WH-1", 1, 0, T1),), T0)
    assert mug.allocations[0].backordered == 1
    o.ship(Shipment("s1", "WH-1", (("MUG", 2), ("CUP", 1))), T0)
    o.backorder_changed("res_000000000001", (("MUG", "WH-1", 0, 1, None),), T0)
    assert (mug.cancelled, mug.allocations[0].quantity, o.status) == (1, 2, OrderStatus.FULFILLED)
    assert o.events[-1].refund_due == 1000 and changes(o)[-1] is OrderChange.BACKORDER


def test_news_of_a_reservation_the_order_does_not_hold_yet_waits_for_its_decision() -> None:
    o = order()
    with pytest.raises(Conflict):  # delivered again later, once the order is confirmed
        o.backorder_changed("res_000000000001", (("MUG", "WH-1", 2, 0, None),), T0)
    o.cancel("changed my mind", T0)
    o.backorder_changed("res_000000000001", (("MUG", "WH-1", 2, 0, None),), T0)  # nothing to do


def test_a_reallocation_sold_ahead_keeps_its_units_on_order() -> None:
    o = backordered_order()
    o.backorder_changed("res_000000000001", (("MUG", "WH-1", 2, 0, None),), T0)
    o.short_picked("WH-1", "MUG", 1, Delivery.SHIP_TO_HOME, "a-1", T0)
    [ask] = [c for c in commands(o, AllocateStock) if c.idempotency_key.endswith(":r1")]
    assert ask.channel == "WEB"
    o.confirm(
        ask.idempotency_key,
        "res_000000000002",
        (("MUG", "WH-2", 1),),
        T0,
        (("MUG", "WH-2", 1, T1),),
    )
    mug = o.line("MUG")
    assert mug is not None
    assert [(a.location_id, a.backordered) for a in mug.allocations] == [("WH-1", 0), ("WH-2", 1)]


def test_rejected_units_are_written_off_as_the_reason_says_and_rerouted_never_back() -> None:
    o = confirmed()
    o.events.clear()
    o.commands.clear()
    o.rejected_at("STORE-1", "MUG", 1, RejectionReason.DAMAGED, "a-1", T0)
    (write_off,) = commands(o, WriteOffStock)
    assert write_off == WriteOffStock(
        "res_000000000001",
        (("MUG", "STORE-1", 1),),
        "reject:ord_1:1:000000000001",
        "a-1",
        RejectionReason.DAMAGED,
    )
    (reroute,) = commands(o, AllocateStock)
    assert (reroute.lines, reroute.fulfilment, reroute.excluded) == (
        (("MUG", 1),),
        ShipTo("east"),
        ("STORE-1",),
    )
    assert changes(o) == [OrderChange.LINE_REJECTED] and o.status is OrderStatus.CONFIRMED
    line = o.line("MUG")
    assert line is not None and [r.location_id for r in line.rejections] == ["STORE-1"]

    # Re-routed to WH-1, which rejects it too: the next allocation excludes both; with none
    # left, the unit is cancelled and refunded.
    o.confirm(reroute.idempotency_key, "res_000000000002", (("MUG", "WH-1", 1),), T0)
    o.rejected_at("WH-1", "MUG", 3, RejectionReason.NO_VARIANCE, "a-2", T0)
    last = commands(o, AllocateStock)[-1]
    assert last.excluded == ("STORE-1", "WH-1")  # type: ignore[attr-defined]
    o.events.clear()
    o.reject(last.idempotency_key, [], "no location", T0)  # type: ignore[attr-defined]
    (event,) = o.events
    assert (event.change, event.refund_due, line.cancelled) == (
        OrderChange.LINE_REJECTED,
        3 * 1000,
        3,
    )


def test_a_rejection_takes_what_the_location_still_holds_and_after_a_cancel_fixes_stock() -> None:
    """A desk may have shipped some meanwhile: the rejection takes the rest, nothing more."""
    o = confirmed()
    o.rejected_at("STORE-1", "MUG", 2, RejectionReason.MISMATCH, "a-1", T0)  # 1 held there
    (write_off,) = commands(o, WriteOffStock)
    assert write_off.lines == (("MUG", "STORE-1", 1),)  # type: ignore[attr-defined]
    version = o.version
    o.rejected_at("STORE-1", "MUG", 1, RejectionReason.MISMATCH, "a-1", T0)  # none left
    assert o.version == version

    cancelled = confirmed()
    cancelled.cancel("changed mind", T0)
    late = Shipment("shp_1:1", "WH-1", (("MUG", 1),), "DHL", "T1", T0)
    cancelled.shipped_after_cancel(late, "a-1", T0)
    cancelled.shipped_after_cancel(late, "a-1", T0)  # resent: once
    (sent,) = commands(cancelled, CorrectStock)
    assert (sent.location_id, sent.quantity, sent.reason) == ("WH-1", 1, None)  # type: ignore[attr-defined]
    cancelled.rejected_at("WH-1", "MUG", 2, RejectionReason.NO_VARIANCE, "a-1", T0)
    assert len(commands(cancelled, CorrectStock)) == 1  # nothing to correct
    # WH-1 had 2 of them: 1 left late, so at most 1 can be missing there.
    cancelled.rejected_at("WH-1", "MUG", 2, RejectionReason.NOT_IN_STOCK, "a-1", T0)
    missing = commands(cancelled, CorrectStock)[-1]
    assert (missing.quantity, missing.reason) == (1, RejectionReason.NOT_IN_STOCK)  # type: ignore[attr-defined]
    cancelled.rejected_at("WH-1", "MUG", 1, RejectionReason.MISMATCH, "a-1", T0)
    assert len(commands(cancelled, CorrectStock)) == 2  # nothing more was there
