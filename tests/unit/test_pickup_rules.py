"""The pickup task's rules, on the aggregate alone (no database, no NATS): picking, the code
and its lock, expiry, shortages and cancellation, each change recorded as an event."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from omni.pickup.domain.events import TaskChange
from omni.pickup.domain.model import (
    MAX_WRONG_CODES,
    PickupLine,
    PickupStatus,
    PickupTask,
    ShortagePolicy,
)
from omni.platform.errors import FailedPrecondition, PermissionDenied

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOLD = T0 + timedelta(days=3)


def task(**lines: int) -> PickupTask:
    return PickupTask(
        id="pck_1",
        order_id="ord_1",
        store_id="STORE-1",
        customer_id="c",
        currency="USD",
        lines=[PickupLine(sku, qty, unit_price=1000) for sku, qty in (lines or {"MUG": 2}).items()],
        created_at=T0,
        updated_at=T0,
    )


def changes(t: PickupTask) -> list[TaskChange]:
    return [e.change for e in t.events]


def ready(t: PickupTask) -> PickupTask:
    t.start_picking("anna", T0)
    for line in t.lines:
        t.pick(line.sku, line.quantity, T0)
    t.mark_ready("hash", "sealed", HOLD, T0)
    return t


def test_a_task_is_picked_made_ready_and_collected_with_its_code() -> None:
    t = ready(task(MUG=2, CUP=1))
    t.complete(code_matches=True, now=T0)
    assert t.status is PickupStatus.COLLECTED
    assert changes(t) == [TaskChange.PICKING, TaskChange.READY, TaskChange.COLLECTED]
    assert t.version == 1 + 1 + 2 + 1 + 1  # start, two picks, ready, collected


def test_picking_more_than_the_line_needs_or_an_unknown_sku_is_refused() -> None:
    t = task(MUG=2)
    t.start_picking("anna", T0)
    t.pick("MUG", 1, T0)
    with pytest.raises(FailedPrecondition, match="needs 1 more of MUG, not 2"):
        t.pick("MUG", 2, T0)
    with pytest.raises(FailedPrecondition, match="no line for HAT"):
        t.pick("HAT", 1, T0)
    assert t.lines[0].picked == 1


def test_a_task_is_not_ready_while_units_are_left_to_pick() -> None:
    t = task(MUG=2)
    t.start_picking("anna", T0)
    t.pick("MUG", 1, T0)
    with pytest.raises(FailedPrecondition, match=re.escape("still needs {'MUG': 1} picked")):
        t.mark_ready("hash", "sealed", HOLD, T0)
    assert t.status is PickupStatus.PICKING


def test_the_fifth_wrong_code_locks_the_task_until_a_manager_unlocks_it() -> None:
    t = ready(task())
    for _ in range(MAX_WRONG_CODES - 1):
        t.complete(code_matches=False, now=T0)
    assert t.status is PickupStatus.READY
    t.complete(code_matches=False, now=T0)
    assert t.status is PickupStatus.LOCKED
    with pytest.raises(PermissionDenied, match="locked after 5 wrong codes"):
        t.complete(code_matches=True, now=T0)  # even the right code, until unlocked
    t.unlock(T0)
    assert (t.status, t.failed_attempts) == (PickupStatus.READY, 0)
    t.complete(code_matches=True, now=T0)
    assert changes(t)[-3:] == [TaskChange.LOCKED, TaskChange.UNLOCKED, TaskChange.COLLECTED]


def test_only_a_task_past_its_hold_expires_and_its_whole_price_is_due_back() -> None:
    t = ready(task(MUG=2, CUP=1))
    assert not t.expire(HOLD - timedelta(seconds=1))
    assert t.expire(HOLD)
    assert t.status is PickupStatus.EXPIRED
    assert t.events[-1].refund_due == 3 * 1000
    assert not t.expire(HOLD + timedelta(days=1))  # once


def test_a_task_not_yet_ready_never_expires() -> None:
    t = task()
    t.start_picking("anna", T0)
    assert not t.expire(HOLD + timedelta(days=30))


def test_units_reported_missing_leave_the_rest_to_pick_and_all_missing_cancels() -> None:
    t = task(MUG=2, CUP=1)
    t.start_picking("anna", T0)
    t.report_shortage("MUG", 1, ShortagePolicy.SHIP_TO_HOME, T0)
    assert t.lines[0].outstanding == 1 and t.status is PickupStatus.PICKING
    with pytest.raises(FailedPrecondition, match="2 cannot be missing"):
        t.report_shortage("MUG", 2, ShortagePolicy.SHIP_TO_HOME, T0)
    t.report_shortage("MUG", 1, ShortagePolicy.CANCEL, T0)
    t.report_shortage("CUP", 1, ShortagePolicy.CANCEL, T0)
    assert t.status is PickupStatus.CANCELLED  # nothing left to hand over here
    assert changes(t)[-2:] == [TaskChange.SHORTAGE, TaskChange.CANCELLED]


def test_cancelling_is_harmless_once_the_task_has_ended() -> None:
    t = ready(task())
    t.complete(code_matches=True, now=T0)
    before = t.version
    t.cancel(T0)
    assert (t.status, t.version) == (PickupStatus.COLLECTED, before)


def test_a_task_cannot_skip_picking() -> None:
    with pytest.raises(FailedPrecondition, match="only a PICKING task can be marked ready"):
        task().mark_ready("hash", "sealed", HOLD, T0)
    with pytest.raises(FailedPrecondition, match="only a READY task can be collected"):
        task().complete(code_matches=True, now=T0)


def test_an_ended_task_never_expires_and_a_locked_one_does() -> None:
    collected = ready(task())
    collected.complete(code_matches=True, now=T0)
    assert not collected.expire(HOLD + timedelta(days=1))
    assert collected.status is PickupStatus.COLLECTED
    locked = ready(task())
    for _ in range(MAX_WRONG_CODES):
        locked.complete(code_matches=False, now=T0)
    assert locked.expire(HOLD)
    assert locked.status is PickupStatus.EXPIRED


def test_the_refund_of_an_expired_task_is_what_it_held_at_each_lines_price() -> None:
    t = PickupTask(
        id="pck_2",
        order_id="ord_2",
        store_id="STORE-1",
        customer_id="c",
        currency="USD",
        lines=[PickupLine("MUG", 3, unit_price=1000), PickupLine("CUP", 2, unit_price=250)],
        created_at=T0,
        updated_at=T0,
    )
    t.start_picking("anna", T0)
    t.pick("MUG", 2, T0)
    t.report_shortage("MUG", 1, ShortagePolicy.SHIP_TO_HOME, T0)  # never in this store
    t.pick("CUP", 2, T0)
    t.mark_ready("hash", "sealed", HOLD, T0)
    assert t.expire(HOLD)
    assert t.events[-1].refund_due == 2 * 1000 + 2 * 250


def test_units_picked_keep_a_task_open_when_the_rest_is_missing() -> None:
    t = task(MUG=2)
    t.start_picking("anna", T0)
    t.pick("MUG", 1, T0)
    t.report_shortage("MUG", 1, ShortagePolicy.CANCEL, T0)
    assert t.status is PickupStatus.PICKING  # the picked unit is still to be handed over
    t.mark_ready("hash", "sealed", HOLD, T0)
    assert t.status is PickupStatus.READY


def test_units_sent_to_the_store_keep_the_task_open_until_they_arrive_and_are_picked() -> None:
    t = task(MUG=2)
    t.start_picking("anna", T0)
    t.report_shortage("MUG", 2, ShortagePolicy.SHIP_TO_STORE, T0)
    assert (t.status, t.lines[0].coming, t.lines[0].outstanding) == (PickupStatus.PICKING, 2, 0)
    with pytest.raises(FailedPrecondition, match="on their way"):
        t.mark_ready("hash", "sealed", HOLD, T0)
    t.brought(3, 1, {"MUG": (1, 1)}, T0)  # one arrived, one still coming
    assert (t.lines[0].coming, t.lines[0].arrived, t.lines[0].outstanding) == (1, 1, 1)
    t.brought(2, 1, {"MUG": (2, 0)}, T0)  # older news: changes nothing
    assert (t.lines[0].coming, t.lines[0].arrived) == (1, 1)
    t.brought(4, 1, {"MUG": (0, 2)}, T0)
    t.pick("MUG", 2, T0)
    t.mark_ready("hash", "sealed", HOLD, T0)
    assert t.status is PickupStatus.READY
    assert TaskChange.BROUGHT in changes(t)


def test_units_that_will_not_come_end_a_task_left_with_nothing_to_hand_over() -> None:
    t = task(MUG=2)
    t.start_picking("anna", T0)
    t.report_shortage("MUG", 2, ShortagePolicy.SHIP_TO_STORE, T0)
    t.brought(5, 1, {"MUG": (0, 0)}, T0)  # found nowhere else: cancelled and refunded
    assert t.status is PickupStatus.CANCELLED


def test_news_from_before_the_order_took_in_a_shortage_keeps_its_units_coming() -> None:
    t = task(MUG=2, CUP=1)
    t.start_picking("anna", T0)
    t.pick("CUP", 1, T0)
    t.pick("MUG", 1, T0)
    t.report_shortage("MUG", 1, ShortagePolicy.SHIP_TO_STORE, T0)
    t.brought(7, 0, {}, T0)  # newer than any heard, but from before the shortage
    assert t.lines[0].coming == 1
    with pytest.raises(FailedPrecondition, match="on their way"):
        t.mark_ready("hash", "sealed", HOLD, T0)


def test_a_unit_brought_then_missing_again_comes_again_and_is_counted_once_more() -> None:
    t = task(MUG=1)
    t.start_picking("anna", T0)
    t.report_shortage("MUG", 1, ShortagePolicy.SHIP_TO_STORE, T0)
    t.brought(2, 1, {"MUG": (0, 1)}, T0)  # arrived
    t.report_shortage("MUG", 1, ShortagePolicy.SHIP_TO_STORE, T0)  # and not found again
    t.brought(3, 2, {"MUG": (1, 1)}, T0)
    t.brought(4, 2, {"MUG": (0, 2)}, T0)  # the second one arrived
    assert (t.status, t.lines[0].outstanding) == (PickupStatus.PICKING, 1)
