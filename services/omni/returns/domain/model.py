"""What returns knows and decides: orders and locations as it heard of them, and returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from omni.platform.errors import FailedPrecondition, InvalidArgument, NotFound
from omni.returns.domain.events import ReturnChange, ReturnChanged
from omni.returns.domain.outgoing import RestockStock


class ReturnStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"


class Condition(StrEnum):
    SELLABLE = "SELLABLE"
    DAMAGED = "DAMAGED"
    MISSING = "MISSING"


@dataclass(frozen=True, slots=True)
class SoldLine:
    """An order line as the order's events told it."""

    sku: str
    unit_price: int
    fulfilled: int  # units shipped or handed over
    fulfilled_at: datetime | None  # when the last of them left (the window starts there)


@dataclass(frozen=True, slots=True)
class KnownOrder:
    """The read model of one order, kept from orders.events (the newest version wins)."""

    id: str
    customer_id: str
    currency: str
    lines: tuple[SoldLine, ...]
    version: int

    def line(self, sku: str) -> SoldLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)


@dataclass(frozen=True, slots=True)
class KnownLocation:
    id: str
    accepts_returns: bool


@dataclass(frozen=True, slots=True)
class Override:
    """A manager's permission to return outside the window."""

    manager_id: str
    reason: str


@dataclass(slots=True)
class ReturnLine:
    sku: str
    quantity: int
    reason: str
    unit_price: int
    sellable: int = 0
    damaged: int = 0
    missing: int = 0

    @property
    def outstanding(self) -> int:
        """Units neither received nor reported missing."""
        return self.quantity - self.sellable - self.damaged - self.missing

    @property
    def counts_against_order(self) -> int:
        """Units this return takes from what may be returned: all but the missing ones."""
        return self.quantity - self.missing


@dataclass(frozen=True, slots=True)
class Received:
    """One received line: units of a SKU in one condition, under a scan id."""

    sku: str
    quantity: int
    condition: Condition
    scan_id: str


@dataclass(slots=True)
class Return:
    """A return authorization (RMA): the aggregate. Every change bumps `version` and records
    its events in `events`, and what it asks of stock in `commands`."""

    id: str
    order_id: str
    customer_id: str
    channel: str
    location_id: str
    currency: str
    lines: list[ReturnLine]
    created_at: datetime
    updated_at: datetime
    status: ReturnStatus = ReturnStatus.AUTHORIZED
    refunded: int = 0
    override: Override | None = None
    receipts: int = 0  # receipts so far (numbers the keys of their restocks)
    version: int = 1
    events: list[ReturnChanged] = field(default_factory=list, repr=False, compare=False)
    commands: list[RestockStock] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        return_id: str,
        *,
        order_id: str,
        channel: str,
        location_id: str,
        lines: Iterable[tuple[str, int, str]],  # (sku, quantity, reason)
        override: Override | None,
        order: KnownOrder | None,
        location: KnownLocation | None,
        earlier: Iterable[Return],
        now: datetime,
        window: timedelta,
    ) -> Return:
        """A return of these lines of `order`, brought to `location`, if the rules allow it:
        the location takes returns; each line was fulfilled, not returned already, and within
        the window (else only with a manager's `override`, then recorded)."""
        if location is None:
            raise UnknownLocation(f"location {location_id} is not known")
        if not location.accepts_returns:
            raise FailedPrecondition(f"location {location_id} does not accept returns")
        if order is None:
            raise UnknownOrder(f"order {order_id} is not known")
        asked = list(lines)
        wanted = [(sku, qty) for sku, qty, _ in asked]
        needed = _check_lines(order, wanted, earlier, now, window, override)
        rma = cls(
            id=return_id,
            order_id=order.id,
            customer_id=order.customer_id,
            channel=channel,
            location_id=location_id,
            currency=order.currency,
            lines=[_line(order, sku, qty, reason) for sku, qty, reason in asked],
            created_at=now,
            updated_at=now,
            override=override if needed else None,
        )
        rma.events.append(ReturnChanged(rma, ReturnChange.AUTHORIZED))
        return rma

    def line(self, sku: str) -> ReturnLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def receive(self, received: list[Received], now: datetime) -> bool:
        """Takes in what arrived (all checked first: nothing changes if any line is wrong);
        False when there was nothing new. Sellable and damaged units are refunded and go back
        to stock where they were received (damaged ones counted as damaged)."""
        fresh = [r for r in received if r.quantity]
        if not fresh:
            return False
        wanted: dict[str, int] = {}
        for r in fresh:
            wanted[r.sku] = wanted.get(r.sku, 0) + r.quantity
        for sku, qty in wanted.items():
            line = self.line(sku)
            if line is None:
                raise InvalidArgument(f"return {self.id} has no line for {sku}")
            if qty > line.outstanding:
                raise FailedPrecondition(
                    f"return {self.id} expects {line.outstanding} more of {sku}, not {qty}"
                )
        refund = 0
        restock: list[tuple[str, int, bool]] = []
        for r in fresh:
            line = self.line(r.sku)
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
        self.receipts += 1
        self.refunded += refund
        done = all(ln.outstanding == 0 for ln in self.lines)
        self.status = ReturnStatus.RECEIVED if done else ReturnStatus.PARTIALLY_RECEIVED
        self.version += 1
        self.updated_at = now
        self.events.append(ReturnChanged(self, ReturnChange.RECEIVED, tuple(fresh)))
        if restock:
            key = f"rma:{self.id}:{self.receipts}"
            self.commands.append(RestockStock(self.location_id, tuple(restock), key, self.id))
        if refund:
            self.events.append(
                ReturnChanged(self, ReturnChange.REFUND_ISSUED, tuple(fresh), refund)
            )
        return True


# Refusals that rest on what this service has heard from others so far: a later event may
# change them (the service layer makes them retryable while it is catching up).
class UnknownOrder(NotFound):
    """No event about this order has been read."""


class UnknownLocation(NotFound):
    """No event about this location has been read."""


class NotFulfilled(FailedPrecondition):
    """Less of a line was fulfilled than asked."""


def _check_lines(
    order: KnownOrder,
    asked: list[tuple[str, int]],
    earlier: Iterable[Return],
    now: datetime,
    window: timedelta,
    override: Override | None,
) -> bool:
    """Each line was fulfilled, not returned already, and within the window (or overridden);
    whether the override was needed."""
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
    return needed


def _line(order: KnownOrder, sku: str, qty: int, reason: str) -> ReturnLine:
    sold = order.line(sku)
    assert sold is not None  # checked by _check_lines
    return ReturnLine(sku, qty, reason, sold.unit_price)
