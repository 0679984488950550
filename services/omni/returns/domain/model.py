"""What returns knows and decides: orders and locations as it heard of them, and returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from omni.platform.errors import FailedPrecondition, InvalidArgument, NotFound
from omni.platform.money import MAX_ORDER_TOTAL
from omni.returns.domain.events import ReturnChange, ReturnChanged
from omni.returns.domain.outgoing import RestockStock


class ReturnStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


class ExchangeStatus(StrEnum):
    AWAITING_RETURN = "AWAITING_RETURN"  # ordered once every exchanged unit has arrived
    ORDERED = "ORDERED"  # the replacement asked of the orders service
    CONFIRMED = "CONFIRMED"  # the replacement order confirmed: the difference is due
    FAILED = "FAILED"  # no replacement, or an exchanged unit never came: a plain return
    CANCELLED = "CANCELLED"  # the replacement order or the return cancelled: likewise


# What the replacement order's status means for its exchange.
class ReplacementState(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"  # confirmed, or further on (shipped, fulfilled...)
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


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
class ReplacementNews:
    """The replacement order of an exchange, as one of its events told it."""

    order_id: str
    version: int
    state: ReplacementState
    cancelled: dict[str, int]  # by SKU: units it will not deliver
    sent: dict[str, int]  # by SKU: units that left (after a cancellation too)


@dataclass(frozen=True, slots=True)
class Replacement:
    """A returned line swapped, unit for unit, for another SKU at its own price."""

    sku: str  # the return line
    replacement_sku: str
    unit_price: int  # minor units; 0 asked: the returned unit's price


@dataclass(frozen=True, slots=True)
class ExchangeTo:
    """Where a replacement goes: shipped to a region, or collected at a store."""

    region: str = ""
    latitude: float | None = None
    longitude: float | None = None
    store_id: str = ""


@dataclass(frozen=True, slots=True)
class ExchangeAsked:
    replacements: tuple[Replacement, ...]
    to: ExchangeTo
    advance: bool


@dataclass(slots=True)
class Exchange:
    replacements: tuple[Replacement, ...]
    to: ExchangeTo
    advance: bool
    status: ExchangeStatus
    ordered: bool = False  # the replacement has been asked for (orders places it once)
    replacement_order_id: str = ""
    order_version: int = 0  # the replacement order's version last heard of
    reason: str = ""
    cancelled: dict[str, int] = field(default_factory=dict)  # replacement units cancelled
    sent: dict[str, int] = field(default_factory=dict)  # replacement units that left
    withdrawing: bool = False  # the return was cancelled: the replacement's fate decides

    @property
    def shipped(self) -> bool:
        """Some of the replacement has left."""
        return any(self.sent.values())

    def delivered(self, replacement: Replacement, quantity: int) -> int:
        """Of `quantity` units asked, those the replacement order still delivers."""
        return quantity - min(quantity, self.cancelled.get(replacement.replacement_sku, 0))

    def of(self, sku: str) -> Replacement | None:
        return next((r for r in self.replacements if r.sku == sku), None)

    @property
    def swapping(self) -> bool:
        """Still an exchange (not given up): its lines are not refunded as they arrive."""
        return self.status in (
            ExchangeStatus.AWAITING_RETURN,
            ExchangeStatus.ORDERED,
            ExchangeStatus.CONFIRMED,
        )


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
    exchange: Exchange | None = None
    charged: int = 0  # charged so far: an exchange's difference, units kept
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
        exchange: ExchangeAsked | None = None,
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
        if exchange is not None:
            rma._swap(exchange)
        return rma

    def _swap(self, asked: ExchangeAsked) -> None:
        """Some lines are exchanged: the replacement is ordered now (in advance) or once
        every exchanged unit has arrived."""
        replacements = []
        for r in asked.replacements:
            line = self.line(r.sku)
            if line is None:
                raise InvalidArgument(f"exchange.replacements names {r.sku}, not a return line")
            price = r.unit_price or line.unit_price  # 0: a like-for-like swap
            replacements.append(Replacement(r.sku, r.replacement_sku, price))
        total = sum(self._quantity(r.sku) * r.unit_price for r in replacements)
        if total > MAX_ORDER_TOTAL:
            raise InvalidArgument(f"the replacements may come to at most {MAX_ORDER_TOTAL}")
        waits = ExchangeStatus.ORDERED if asked.advance else ExchangeStatus.AWAITING_RETURN
        self.exchange = Exchange(tuple(replacements), asked.to, asked.advance, waits)
        if asked.advance:
            self._order_replacement()

    def _quantity(self, sku: str) -> int:
        line = self.line(sku)
        return line.quantity if line else 0

    @property
    def difference(self) -> int:
        """An exchange's replacement value less the returned value of its lines."""
        if self.exchange is None:
            return 0
        total = 0
        for r in self.exchange.replacements:
            line = self.line(r.sku)
            assert line is not None
            total += line.quantity * (r.unit_price - line.unit_price)
        return total

    def cancel(self, reason: str, now: datetime) -> bool:
        """Withdrawn before anything arrived; False if it was cancelled already. The units
        count as kept. An exchange not ordered yet simply ends; an ordered one is withdrawn:
        orders cancels the replacement unless some of it has left, and the replacement's
        next event settles the money (what was settled given back, or the kept replacement
        charged in full)."""
        if self.status is ReturnStatus.CANCELLED:
            return False
        if any(ln.sellable or ln.damaged or ln.missing for ln in self.lines):
            raise FailedPrecondition(
                f"return {self.id} has units received already; it cannot be cancelled"
            )
        for line in self.lines:
            line.missing = line.quantity  # kept by the customer: no longer being returned
        self.status = ReturnStatus.CANCELLED
        self._touched(now)
        exchange = self.exchange
        if exchange is not None and exchange.swapping:
            if not exchange.ordered:
                self._give_up(ExchangeStatus.CANCELLED, f"the return was cancelled: {reason}")
            elif not exchange.shipped:
                exchange.withdrawing = True
        self._settled(ReturnChange.CANCELLED)
        return True

    def follow_replacement(self, news: ReplacementNews, now: datetime) -> bool:
        """The replacement order as its events tell it (older news, or news of another
        order, changes nothing): confirmed, the difference is due (less units of it that
        will not come); rejected, or cancelled before any of it left, the return goes on as
        a plain one (and units that left anyway are charged). Returns whether it changed."""
        exchange = self.exchange
        if exchange is None or news.version <= exchange.order_version:
            return False
        if exchange.replacement_order_id not in ("", news.order_id):
            return False  # not this exchange's replacement
        exchange.order_version, exchange.replacement_order_id = news.version, news.order_id
        exchange.cancelled, exchange.sent = dict(news.cancelled), dict(news.sent)
        self._touched(now)
        told = len(self.events)
        if exchange.swapping:
            self._replacement_state(exchange, news.state)
        if len(self.events) == told and self._due():
            self._settled(ReturnChange.EXCHANGE_UPDATED)  # units of it cancelled, or sent late
        return True

    def _replacement_state(self, exchange: Exchange, state: ReplacementState) -> None:
        if state is ReplacementState.REJECTED and exchange.status is ExchangeStatus.ORDERED:
            exchange.withdrawing = False
            self._give_up(ExchangeStatus.FAILED, "the replacement could not be had")
        elif state is ReplacementState.CANCELLED and not exchange.shipped:
            exchange.withdrawing = False
            why = "the return was cancelled" if self.status is ReturnStatus.CANCELLED else None
            self._give_up(ExchangeStatus.CANCELLED, why or "the replacement order was cancelled")
        elif state is not ReplacementState.PENDING:
            first = exchange.status is ExchangeStatus.ORDERED
            exchange.status = ExchangeStatus.CONFIRMED
            if exchange.withdrawing and exchange.shipped:
                exchange.withdrawing = False  # some of it had left: the customer keeps it
                self._settled(ReturnChange.CANCELLED)
            elif first:
                self._settled(ReturnChange.EXCHANGE_CONFIRMED)

    def _order_replacement(self) -> None:
        assert self.exchange is not None
        self.exchange.status = ExchangeStatus.ORDERED
        self.exchange.ordered = True
        self.events.append(ReturnChanged(self, ReturnChange.EXCHANGE_ORDERED))

    def _give_up(self, status: ExchangeStatus, reason: str, *, settle: bool = True) -> None:
        """The exchange ends without a replacement: a plain return from now on (what was
        settled for it is given back with the event, unless the caller settles later)."""
        assert self.exchange is not None
        self.exchange.status, self.exchange.reason = status, reason
        change = (
            ReturnChange.EXCHANGE_FAILED
            if status is ExchangeStatus.FAILED
            else ReturnChange.EXCHANGE_CANCELLED
        )
        if settle:
            self._settled(change)
        else:
            self.events.append(ReturnChanged(self, change))

    def _owed(self) -> int:
        """What the customer is owed now, all told (negative: what they owe): the price of
        units back (sellable or damaged) on lines refunded as usual; on exchanged lines, once
        the replacement is confirmed, the returned value less the replacement units it
        delivers and less units that never came; nothing while it is not confirmed yet; once
        given up, as refunded lines, less replacement units that left all the same."""
        exchange = self.exchange
        total = 0
        for line in self.lines:
            swap = exchange.of(line.sku) if exchange is not None else None
            back = (line.sellable + line.damaged) * line.unit_price
            if swap is None or exchange is None:
                total += back
            elif exchange.status is ExchangeStatus.CONFIRMED:
                total += (line.quantity - line.missing) * line.unit_price
                total -= exchange.delivered(swap, line.quantity) * swap.unit_price
            elif not exchange.swapping:  # given up: a plain return; units sent anyway cost
                total += back - exchange.sent.get(swap.replacement_sku, 0) * swap.unit_price
        return total

    def _due(self) -> int:
        """What is owed now beyond what was refunded or charged so far (nothing while a
        withdrawn exchange's replacement has not told what became of it)."""
        if self.exchange is not None and self.exchange.withdrawing:
            return 0
        return self._owed() - (self.refunded - self.charged)

    def _settled(self, change: ReturnChange, received: tuple[Received, ...] = ()) -> None:
        """An event of `change`, with what is due to (or from) the customer now."""
        due = self._due()
        refund, charge = max(0, due), max(0, -due)
        self.refunded += refund
        self.charged += charge
        self.events.append(ReturnChanged(self, change, received, refund, charge))

    def _touched(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now

    def line(self, sku: str) -> ReturnLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def receive(self, received: list[Received], now: datetime) -> bool:
        """Takes in what arrived (all checked first: nothing changes if any line is wrong);
        False when there was nothing new. Sellable and damaged units go back to stock where
        they were received (damaged ones counted as damaged) and are refunded, unless an
        exchange replaces them. Once every unit an exchange waits for is in, its replacement
        is ordered (or, if one never came, the exchange fails)."""
        fresh = [r for r in received if r.quantity]
        if not fresh:
            return False
        if self.status is ReturnStatus.CANCELLED:
            raise FailedPrecondition(f"return {self.id} was cancelled; nothing is expected")
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
            restock.append((r.sku, r.quantity, r.condition is Condition.DAMAGED))
        self.receipts += 1
        done = all(ln.outstanding == 0 for ln in self.lines)
        self.status = ReturnStatus.RECEIVED if done else ReturnStatus.PARTIALLY_RECEIVED
        self._touched(now)
        self.events.append(ReturnChanged(self, ReturnChange.RECEIVED, tuple(fresh)))
        if restock:
            key = f"rma:{self.id}:{self.receipts}"
            self.commands.append(RestockStock(self.location_id, tuple(restock), key, self.id))
        exchange = self.exchange
        if exchange is not None and exchange.status is ExchangeStatus.AWAITING_RETURN:
            swapped = [self.line(r.sku) for r in exchange.replacements]
            if all(ln is not None and ln.outstanding == 0 for ln in swapped):
                if any(ln is not None and ln.missing for ln in swapped):
                    reason = "an exchanged unit did not arrive"
                    self._give_up(ExchangeStatus.FAILED, reason, settle=False)
                else:
                    self._order_replacement()
        # The money of this receipt, all told (a refund, or a charge for exchanged units
        # that never came), with what came back.
        if restock or self._due():
            self._settled(ReturnChange.REFUND_ISSUED, tuple(fresh))
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
