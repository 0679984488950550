"""The rules of returns: whether a return may be opened, and what a receipt does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from omni.platform.errors import FailedPrecondition, InvalidArgument, NotFound
from omni.returns.domain.events import RestockStock, ReturnChange, ReturnChanged
from omni.returns.domain.model import (
    Condition,
    KnownLocation,
    KnownOrder,
    Override,
    Received,
    Return,
    ReturnLine,
    ReturnStatus,
)


# Refusals that rest on what this service has heard from others so far: a later event may
# change them (the service layer makes them retryable while it is catching up).
class UnknownOrder(NotFound):
    """No event about this order has been read."""


class UnknownLocation(NotFound):
    """No event about this location has been read."""


class NotFulfilled(FailedPrecondition):
    """Less of a line was fulfilled than asked."""


def check_order(order: KnownOrder | None, order_id: str) -> KnownOrder:
    if order is None:
        raise UnknownOrder(f"order {order_id} is not known")
    return order


def check_location(location: KnownLocation | None, location_id: str) -> None:
    if location is None:
        raise UnknownLocation(f"location {location_id} is not known")
    if not location.accepts_returns:
        raise FailedPrecondition(f"location {location_id} does not accept returns")


def check_lines(
    order: KnownOrder,
    asked: Iterable[tuple[str, int]],
    earlier: Iterable[Return],
    now: datetime,
    window: timedelta,
    override: Override | None,
) -> Override | None:
    """Each line was fulfilled, not returned already, and within the window (or overridden).
    Returns the override if one was needed (it is then recorded), else None."""
    taken: dict[str, int] = {}
    for rma in earlier:
        for ln in rma.lines:
            taken[ln.sku] = taken.get(ln.sku, 0) + ln.counts_against_order
    needed = False
    for sku, qty in asked:
        sold = order.line(sku)
        if sold is None:
            raise FailedPrecondition(f"order {order.id} has no line for {sku}")
        if sold.fulfilled == 0 or sold.fulfilled_at is None:
            raise NotFulfilled(f"{sku} of order {order.id} has not been fulfilled")
        left = sold.fulfilled - taken.get(sku, 0)
        if qty > left:
            raise NotFulfilled(
                f"only {left} of {sku} from order {order.id} can still be returned "
                f"({sold.fulfilled} fulfilled, {taken.get(sku, 0)} returned or being returned)"
            )
        if now > sold.fulfilled_at + window:
            needed = True
            if override is None:
                closed = (sold.fulfilled_at + window).strftime("%Y-%m-%d")
                raise FailedPrecondition(
                    f"the return window for {sku} closed on {closed}; a store manager may "
                    "override it"
                )
    return override if needed else None


def receive(rma: Return, received: list[Received], now: datetime) -> bool:
    """Takes in what arrived (checked first: nothing changes if any line is wrong); returns
    False when there was nothing new. Sellable and damaged units are refunded."""
    fresh = [r for r in received if r.quantity]
    if not fresh:
        return False
    wanted: dict[str, int] = {}
    for r in fresh:
        wanted[r.sku] = wanted.get(r.sku, 0) + r.quantity
    for sku, qty in wanted.items():
        line = rma.line(sku)
        if line is None:
            raise InvalidArgument(f"return {rma.id} has no line for {sku}")
        if qty > line.outstanding:
            raise FailedPrecondition(
                f"return {rma.id} expects {line.outstanding} more of {sku}, not {qty}"
            )
    refund = 0
    restock: list[tuple[str, int, bool]] = []
    for r in fresh:
        line = rma.line(r.sku)
        assert line is not None
        if r.condition is Condition.SELLABLE:
            line.sellable += r.quantity
        elif r.condition is Condition.DAMAGED:
            line.damaged += r.quantity
        else:
            line.missing += r.quantity
            continue
        refund += r.quantity * line.unit_price
        restock.append((r.sku, r.quantity, r.condition is Condition.DAMAGED))
    rma.receipts += 1
    rma.refunded += refund
    done = all(ln.outstanding == 0 for ln in rma.lines)
    rma.status = ReturnStatus.RECEIVED if done else ReturnStatus.PARTIALLY_RECEIVED
    rma.version += 1
    rma.updated_at = now
    rma.events.append(ReturnChanged(rma, ReturnChange.RECEIVED, tuple(fresh)))
    if restock:
        key = f"rma:{rma.id}:{rma.receipts}"
        rma.events.append(RestockStock(rma.location_id, tuple(restock), key, rma.id))
    if refund:
        rma.events.append(ReturnChanged(rma, ReturnChange.REFUND_ISSUED, tuple(fresh), refund))
    return True


def new_line(sku: str, qty: int, reason: str, order: KnownOrder) -> ReturnLine:
    sold = order.line(sku)
    assert sold is not None
    return ReturnLine(sku, qty, reason, sold.unit_price)
