"""The ship task's transitions, on the aggregate alone: opened from the order's units at a
location, picked, packed and shipped once; units rejected with a reason; kept in step with
the order (new units, units shipped by a desk, a cancelled order), older news ignored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni.pickup.domain.events import ShipChange, ShipRejection
from omni.pickup.domain.ship import ShipTask, ShipTaskStatus
from omni.platform.channels import RejectionReason
from omni.platform.errors import FailedPrecondition

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def task(**units: int) -> ShipTask:
    """Opened at STORE-1 by order version 2 with `units` of each SKU at 500 each."""
    opened = ShipTask.open(
        "shp_1",
        "ord_1",
        "STORE-1",
        "EUR",
        "north",
        2,
        {sku: (qty, 500, 0) for sku, qty in units.items()},
        T0,
    )
    return opened


def changes(t: ShipTask) -> list[ShipChange]:
    return [e.change for e in t.events]


def test_a_task_is_picked_packed_and_shipped_once_as_one_shipment() -> None:
    t = task(MUG=2, CUP=1)
    t.start("a-1", T0)
    with pytest.raises(FailedPrecondition, match="still to pick"):
        t.pack(1, T0)
    t.pick("MUG", 2, T0)
    t.pick("CUP", 1, T0)
    with pytest.raises(FailedPrecondition, match="picked already"):
        t.pick("CUP", 1, T0)
    t.pack(2, T0)
    t.ship("DHL", "JD1", T0)
    shipped = t.events[-1]
    assert shipped.change is ShipChange.SHIPPED and shipped.shipment is not None
    assert shipped.shipment.lines == (("MUG", 2), ("CUP", 1))
    assert shipped.shipment.id == "shp_1:1"
    version = t.version
    t.ship("DHL", "JD1", T0)  # resent: nothing changes
    assert t.version == version and t.status is ShipTaskStatus.SHIPPED
    with pytest.raises(FailedPrecondition):
        t.ship("UPS", "other", T0)
    assert changes(t) == [
        ShipChange.PLACED,
        ShipChange.PICKING,
        ShipChange.PACKED,
        ShipChange.SHIPPED,
    ]


def test_steps_out_of_order_are_refused() -> None:
    t = task(MUG=1)
    with pytest.raises(FailedPrecondition):
        t.pick("MUG", 1, T0)
    with pytest.raises(FailedPrecondition):
        t.ship("DHL", "JD1", T0)
    with pytest.raises(FailedPrecondition, match="is not on this order"):
        t.reject("TEA", 1, RejectionReason.MISMATCH, "a", T0)


def test_rejected_units_leave_the_rest_to_ship_and_all_rejected_cancels() -> None:
    t = task(MUG=3)
    t.start("a-1", T0)
    t.pick("MUG", 2, T0)
    with pytest.raises(FailedPrecondition, match="must be ones already picked"):
        t.reject("MUG", 2, RejectionReason.DAMAGED, "a-1", T0)  # only one is left to pick
    with pytest.raises(FailedPrecondition, match="are picked for this order, not 3"):
        t.reject("MUG", 3, RejectionReason.DAMAGED, "a-1", T0, picked=3)
    t.reject("MUG", 2, RejectionReason.DAMAGED, "a-1", T0, picked=1)  # one picked damaged too
    line = t.lines[0]
    assert (line.rejected, line.picked, line.to_pick) == (2, 1, 0)
    assert t.events[-1].rejection == ShipRejection("MUG", 2, RejectionReason.DAMAGED, "a-1")
    t.reject("MUG", 1, RejectionReason.NOT_IN_STOCK, "a-1", T0, picked=1)
    assert t.status is ShipTaskStatus.CANCELLED and t.lines[0].picked == 0
    assert changes(t)[-2:] == [ShipChange.REJECTED, ShipChange.CANCELLED]


def test_the_order_brings_more_units_and_older_news_changes_nothing() -> None:
    t = task(MUG=1)
    t.start("a-1", T0)
    t.pick("MUG", 1, T0)
    t.pack(1, T0)
    # Version 3: another SKU re-routed here. Back to picking.
    assert t.follow(3, {"MUG": (1, 500, 0), "CUP": (2, 300, 0)}, False, T0)
    assert t.status is ShipTaskStatus.PICKING and t.lines[1].to_pick == 2
    assert not t.follow(3, {"MUG": (1, 500, 0)}, False, T0)  # heard already
    assert not t.follow(2, {}, True, T0)  # older: not even a cancellation
    assert t.status is ShipTaskStatus.PICKING


def test_units_a_desk_ships_close_the_task_and_a_cancelled_order_cancels_it() -> None:
    t = task(MUG=2)
    assert t.follow(3, {"MUG": (2, 500, 2)}, False, T0)
    assert t.status is ShipTaskStatus.SHIPPED and t.events[-1].shipment is None
    other = task(MUG=2)
    other.start("a-1", T0)
    other.follow(3, {"MUG": (2, 500, 0)}, True, T0)
    assert other.status is ShipTaskStatus.CANCELLED
    with pytest.raises(FailedPrecondition):
        other.pick("MUG", 1, T0)


def test_a_rejection_the_order_takes_in_keeps_the_units_given_here() -> None:
    """The order counts units rejected here among those given here: taking the rejection in
    changes neither what is left nor the status."""
    t = task(MUG=3)
    t.reject("MUG", 1, RejectionReason.MISMATCH, "a-1", T0)
    left = t.lines[0].open
    t.follow(3, {"MUG": (3, 500, 0)}, False, T0)  # 2 allocated + 1 rejected here
    assert t.lines[0].open == left == 2 and t.status is ShipTaskStatus.PLACED


def test_first_heard_of_cancelled_or_sent_a_task_stays_closed_against_older_news() -> None:
    cancelled = ShipTask.open(
        "shp_2", "ord_2", "STORE-1", "EUR", "north", 5, {"MUG": (2, 500, 0)}, T0, cancelled=True
    )
    assert cancelled.status is ShipTaskStatus.CANCELLED and not cancelled.events
    assert not cancelled.follow(3, {"MUG": (2, 500, 0)}, False, T0)  # the older confirmation
    sent = ShipTask.open("shp_3", "ord_3", "STORE-1", "EUR", "north", 5, {"MUG": (2, 500, 2)}, T0)
    assert sent.status is ShipTaskStatus.SHIPPED and not sent.events
