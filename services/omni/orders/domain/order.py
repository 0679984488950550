"""The order aggregate and the rules of its states: placed, allocated or rejected, shipped
(or handed over), cancelled, and units found missing re-allocated or cancelled."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from omni.orders.domain.events import Event, OrderChange, OrderChanged
from omni.orders.domain.model import (
    ALLOCATION_KEY_PREFIX,
    CANCELLABLE,
    REROUTE_MARK,
    SETTLED_BY_UNITS,
    SHIPPABLE,
    Allocation,
    Delivery,
    Fulfilment,
    NearLocation,
    OrderLine,
    OrderStatus,
    PickupAt,
    Reallocation,
    Rejection,
    Shipment,
    ShortLine,
)
from omni.orders.domain.outgoing import (
    AllocateStock,
    Command,
    CommitStock,
    CorrectStock,
    ReleaseStock,
    WriteOffStock,
)
from omni.platform.channels import RejectionReason
from omni.platform.errors import AlreadyExists, Conflict, FailedPrecondition

Lines = tuple[tuple[str, str, int], ...]  # (sku, location, quantity)
Waiting = tuple[tuple[str, str, int, datetime | None], ...]  # (sku, location, units, due)
# Keys of commands to stock are at most 64 characters: an order id (36), a counter, and the
# last 12 characters of a reservation id (which tell an order's reservations apart).


@dataclass(slots=True)
class Order:
    """Every change bumps `version` and records its events in `events`, and what it asks of
    stock in `commands`."""

    id: str
    channel: str
    customer_id: str
    currency: str
    lines: list[OrderLine]
    fulfilment: Fulfilment
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.PENDING
    short_lines: list[ShortLine] = field(default_factory=list)
    reason: str = ""
    reservation_id: str = ""
    shipments: list[Shipment] = field(default_factory=list)
    reallocations: list[Reallocation] = field(default_factory=list)
    shortages: int = 0  # shortages reported so far (numbers the keys of what they ask of stock)
    rejections: int = 0  # rejections by stores so far (likewise)
    exchange_of: tuple[str, str] | None = None  # a replacement: (exchanged order, return)
    exchanges: list[tuple[str, str]] = field(default_factory=list)  # (return, replacement)
    version: int = 1
    events: list[Event] = field(default_factory=list, repr=False, compare=False)
    commands: list[Command] = field(default_factory=list, repr=False, compare=False)

    @property
    def raised(self) -> list[Event | Command]:
        """What this transaction's changes raised: events and commands, to be saved."""
        return [*self.events, *self.commands]

    @property
    def total(self) -> int:
        return sum((ln.quantity - ln.cancelled) * ln.unit_price for ln in self.lines)

    @property
    def allocation_key(self) -> str:
        """The idempotency key of this order's allocation in stock: one reservation ever."""
        return ALLOCATION_KEY_PREFIX + self.id

    def line(self, sku: str) -> OrderLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def placed(self) -> None:
        """Announces a new order and asks stock to allocate it."""
        self._changed(OrderChange.PLACED, self.updated_at)
        lines = tuple((ln.sku, ln.quantity) for ln in self.lines)
        self.commands.append(
            AllocateStock(self.id, self.allocation_key, lines, self.fulfilment, self.channel)
        )

    def confirm(
        self,
        key: str,
        reservation_id: str,
        plan: Lines,
        now: datetime,
        waiting: Waiting = (),
    ) -> None:
        """Stock allocated under `key`: `plan` says which location holds how many of each SKU,
        `waiting` how many of those are backordered (sold against supply, due when).

        A reservation the order no longer wants (it was cancelled meanwhile) goes straight
        back; a decision seen before changes nothing.
        """
        if key != self.allocation_key:
            self._reallocated(key, reservation_id, plan, now, waiting)
            return
        if self.status is OrderStatus.CANCELLED and not self.reservation_id:
            self.reservation_id = reservation_id
            self.commands.append(ReleaseStock(reservation_id, None, f"cancel:{key}"))
            return
        if self.status is not OrderStatus.PENDING:
            return
        self._allocate(reservation_id, plan, Delivery.AS_ORDERED, waiting)
        self.reservation_id = reservation_id
        self.status = OrderStatus.CONFIRMED
        self._changed(OrderChange.CONFIRMED, now)

    def reject(self, key: str, short_lines: list[ShortLine], reason: str, now: datetime) -> None:
        """Stock could not allocate under `key` (short lines) or refused outright (reason)."""
        if key != self.allocation_key:
            self._reallocation_failed(key, now)
            return
        if self.status is not OrderStatus.PENDING:
            return
        self.short_lines = list(short_lines)
        self.reason = reason or "not enough stock for " + ", ".join(
            f"{s.sku} ({s.available} of {s.requested} available)" for s in short_lines
        )
        self.status = OrderStatus.REJECTED
        self._changed(OrderChange.REJECTED, now)

    def cancel(self, reason: str, now: datetime) -> None:
        """Cancels what has not shipped and releases exactly those units (so the release
        and any shipment's commit may reach stock in either order). Twice is harmless."""
        if self.status is OrderStatus.CANCELLED:
            return
        if self.status not in CANCELLABLE:
            raise FailedPrecondition(
                f"order {self.id} is {self.status.value}; only a PENDING, CONFIRMED or "
                "PARTIALLY_FULFILLED order can be cancelled"
            )
        held: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
        for ln in self.lines:
            for a in ln.allocations:
                if a.unshipped:
                    held[a.reservation_id].append((ln.sku, a.location_id, a.unshipped))
        for reservation_id, lines in held.items():
            key = f"cancel:{self.id}:{reservation_id[-12:]}"
            self.commands.append(ReleaseStock(reservation_id, tuple(lines), key))
        refund = self._unshipped_value()
        self.reallocations.clear()  # their reservations are released when they arrive
        self.reason = reason or "cancelled"
        self.status = OrderStatus.CANCELLED
        self._changed(OrderChange.CANCELLED, now, refund_due=refund)

    def ship(self, shipment: Shipment, now: datetime) -> None:
        """Records units leaving a location; stock commits them. A resent shipment is
        harmless; the same id with other content is refused."""
        earlier = next((s for s in self.shipments if s.id == shipment.id), None)
        if earlier is not None:
            if not earlier.same_as(shipment):
                raise AlreadyExists(
                    f"shipment {shipment.id} of order {self.id} was recorded with other "
                    "content; use a new shipment id"
                )
            return
        if self.status not in SHIPPABLE:
            raise FailedPrecondition(
                f"order {self.id} is {self.status.value}; only a CONFIRMED or "
                "PARTIALLY_FULFILLED order can ship"
            )
        taken = [self._take(sku, shipment.location_id, qty) for sku, qty in shipment.lines]
        self.shipments.append(shipment)
        commits: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
        for (sku, _), parts in zip(shipment.lines, taken, strict=True):
            for allocation, qty in parts:
                allocation.shipped += qty
                commits[allocation.reservation_id].append((sku, allocation.location_id, qty))
        for reservation_id, lines in commits.items():
            key = f"ship:{self.id}:{len(self.shipments)}:{reservation_id[-12:]}"
            self.commands.append(CommitStock(reservation_id, tuple(lines), key))
        self._settle()
        self._changed(OrderChange.SHIPPED, now, shipment=shipment)

    def _rejected_after_cancel(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        reason: RejectionReason,
        actor: str,
        now: datetime,
    ) -> None:
        """Cancelled meanwhile, its units released there: those the store says are missing,
        damaged or gone (at most what the order had there) are corrected in stock all the
        same, and the order records the rejection."""
        line = self.line(sku)
        held = [a for a in line.allocations if a.location_id == location_id] if line else []
        quantity = min(quantity, sum(a.unshipped for a in held))
        if line is None or not quantity or reason is RejectionReason.NO_VARIANCE:
            return
        left = quantity
        for allocation in held:  # taken out, so a later rejection cannot correct them again
            part = min(left, allocation.unshipped)
            allocation.quantity -= part
            left -= part
        self.rejections += 1
        line.rejections.append(Rejection(location_id, quantity, reason, actor, now))
        key = f"reject:{self.id}:{self.rejections}:late"
        note = f"rejected after order {self.id} was cancelled"
        self.commands.append(CorrectStock(sku, location_id, quantity, reason, key, actor, note))
        self._changed(OrderChange.LINE_REJECTED, now)

    def shipped_after_cancel(self, shipment: Shipment, actor: str, now: datetime) -> None:
        """Units a location sent after the order was cancelled (and its units released):
        gone all the same, so stock takes them off hand there, and the event tells customer
        service (the customer was refunded, and gets the goods). Once per shipment."""
        if self.status is not OrderStatus.CANCELLED or any(
            s.id == shipment.id for s in self.shipments
        ):
            return
        self.shipments.append(shipment)
        for sku, qty in shipment.lines:
            line = self.line(sku)
            left = qty
            for allocation in line.allocations if line else []:  # counted as gone from there
                if allocation.location_id == shipment.location_id and left:
                    part = min(left, allocation.unshipped)
                    allocation.shipped += part
                    left -= part
            digest = hashlib.sha256(f"{self.id}|{shipment.id}|{sku}".encode()).hexdigest()
            note = f"sent after order {self.id} was cancelled"
            key = f"late:{digest[:48]}"
            where = shipment.location_id
            self.commands.append(CorrectStock(sku, where, qty, None, key, actor, note))
        self._changed(OrderChange.SHIPPED_AFTER_CANCEL, now, shipment=shipment)

    def hand_over(
        self, task_id: str, store_id: str, lines: tuple[tuple[str, int], ...], now: datetime
    ) -> None:
        """The customer collected a pickup: recorded as a shipment from the store."""
        handover = Shipment(f"pickup:{task_id}", store_id, lines, "customer pickup", "", now)
        if self.status is OrderStatus.CANCELLED:  # collected while its cancel was on its way
            self.shipped_after_cancel(handover, "", now)
            return
        self.ship(handover, now)

    def short_picked(
        self,
        store_id: str,
        sku: str,
        missing: int,
        delivery: Delivery | None,
        actor: str,
        now: datetime,
    ) -> None:
        """Units not found at the store: stock writes them off there, and they are
        re-allocated elsewhere (`delivery`) or, with None, cancelled and refunded."""
        if self.status not in SHIPPABLE:
            return  # cancelled or expired meanwhile: its units were released already
        parts = self._take(sku, store_id, missing, verb="report missing")
        self.shortages += 1
        for allocation, qty in parts:
            allocation.quantity -= qty
            key = f"short:{self.id}:{self.shortages}:{allocation.reservation_id[-12:]}"
            lines = ((sku, store_id, qty),)
            self.commands.append(WriteOffStock(allocation.reservation_id, lines, key, actor))
        line = self.line(sku)
        assert line is not None
        refund = 0
        if delivery is None:
            line.cancelled += missing
            refund = missing * line.unit_price
        else:
            key = f"{self.allocation_key}:r{self.shortages}"
            self.reallocations.append(Reallocation(key, sku, missing, delivery))
            near = NearLocation(store_id, by_transfer=delivery is Delivery.SHIP_TO_STORE)
            self.commands.append(AllocateStock(self.id, key, ((sku, missing),), near, self.channel))
        self._settle()
        self._changed(OrderChange.SHORTAGE, now, refund_due=refund)

    def rejected_at(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        reason: RejectionReason,
        actor: str,
        now: datetime,
    ) -> None:
        """A location rejected units it was given to ship: stock corrects its level as the
        reason says, and the units are re-allocated to a location that has not rejected this
        line (or, with none left, cancelled and refunded when stock says so)."""
        if self.status not in SHIPPABLE:
            if self.status is OrderStatus.CANCELLED:
                self._rejected_after_cancel(location_id, sku, quantity, reason, actor, now)
            return
        line = self.line(sku)
        ready = sum(a.ready for a in line.at(location_id)) if line else 0
        quantity = min(quantity, ready)  # the rest left meanwhile (a desk shipped them)
        if not quantity:
            return
        parts = self._take(sku, location_id, quantity, verb="reject")
        self.rejections += 1
        for allocation, qty in parts:
            allocation.quantity -= qty
            key = f"reject:{self.id}:{self.rejections}:{allocation.reservation_id[-12:]}"
            lines = ((sku, location_id, qty),)
            self.commands.append(
                WriteOffStock(allocation.reservation_id, lines, key, actor, reason)
            )
        assert line is not None
        line.rejections.append(Rejection(location_id, quantity, reason, actor, now))
        delivery = parts[0][0].delivery
        key = f"{self.allocation_key}{REROUTE_MARK}{self.rejections}"
        self.reallocations.append(Reallocation(key, sku, quantity, delivery))
        to: Fulfilment | NearLocation = self.fulfilment
        if isinstance(to, PickupAt):  # units re-allocated to ship to the customer's home
            to = NearLocation(to.location_id)
        self.commands.append(
            AllocateStock(
                self.id, key, ((sku, quantity),), to, self.channel, excluded=line.rejected_by()
            )
        )
        self._settle()
        self._changed(OrderChange.LINE_REJECTED, now)

    def backorder_changed(
        self,
        reservation_id: str,
        lines: tuple[tuple[str, str, int, int, datetime | None], ...],
        now: datetime,
    ) -> None:
        """Stock settled backordered units of `reservation_id`: per (sku, location), units
        filled (ready to ship now), units cut (given up: cancelled and refunded), and when
        the rest is due. A cancelled order's units were released already: nothing to do.

        Stock's decision that made the reservation and this may arrive in either order: if
        the order does not hold the reservation yet, Conflict asks for this again later."""
        if not self._holds(reservation_id):
            if self.status is OrderStatus.PENDING or self.reallocations:  # its decision is due
                raise Conflict(f"order {self.id} does not hold reservation {reservation_id} yet")
            return
        if self.status not in SHIPPABLE:
            return
        refund = 0
        for sku, location_id, filled, cut, expected_at in lines:
            line = self.line(sku)
            allocation = next(
                (
                    a
                    for a in (line.allocations if line else [])
                    if (a.reservation_id, a.location_id) == (reservation_id, location_id)
                ),
                None,
            )
            if line is None or allocation is None:
                continue
            settled = min(allocation.backordered, filled + cut)
            cut = min(cut, settled)
            allocation.backordered -= settled
            allocation.quantity -= cut
            if allocation.delivery is Delivery.SHIP_TO_STORE:
                line.brought += settled - cut
            allocation.expected_at = expected_at if allocation.backordered else None
            line.cancelled += cut
            refund += cut * line.unit_price
        self._settle()
        change = OrderChange.BACKORDER
        if self.status is OrderStatus.CANCELLED:  # every unit was cut
            self.reason = "the supply its backordered units waited for was cut"
            change = OrderChange.CANCELLED
        self._changed(change, now, refund_due=refund)

    def exchanged(self, return_id: str, replacement_id: str, now: datetime) -> None:
        """Units of this order are exchanged under `return_id` for `replacement_id`; linking
        the same again changes nothing."""
        if (return_id, replacement_id) in self.exchanges:
            return
        self.exchanges.append((return_id, replacement_id))
        self._changed(OrderChange.EXCHANGED, now)

    def returned(self, lines: tuple[tuple[str, int], ...], now: datetime) -> None:
        """Units the customer brought back (returns received them and refunds them)."""
        for sku, qty in lines:
            line = self.line(sku)
            if line is None:
                raise FailedPrecondition(f"order {self.id} has no line for {sku}")
            line.returned += qty
        self._settle()
        self._changed(OrderChange.RETURNED, now)

    def _reallocated(
        self, key: str, reservation_id: str, plan: Lines, now: datetime, waiting: Waiting
    ) -> None:
        pending = self._pending(key)
        if pending is None:
            if self.status is OrderStatus.CANCELLED:  # not wanted any more
                self.commands.append(ReleaseStock(reservation_id, None, f"cancel:{key}"))
            return
        self.reallocations.remove(pending)
        self._allocate(reservation_id, plan, pending.delivery, waiting)
        self._settle()
        self._changed(OrderChange.REALLOCATED, now)

    def _reallocation_failed(self, key: str, now: datetime) -> None:
        pending = self._pending(key)
        if pending is None:
            return
        self.reallocations.remove(pending)
        line = self.line(pending.sku)
        assert line is not None
        line.cancelled += pending.quantity
        self._settle()
        rejected = REROUTE_MARK in key.removeprefix(self.allocation_key)
        change = OrderChange.LINE_REJECTED if rejected else OrderChange.SHORTAGE
        self._changed(change, now, refund_due=pending.quantity * line.unit_price)

    def _holds(self, reservation_id: str) -> bool:
        return any(a.reservation_id == reservation_id for ln in self.lines for a in ln.allocations)

    def _pending(self, key: str) -> Reallocation | None:
        return next((r for r in self.reallocations if r.key == key), None)

    def _allocate(
        self, reservation_id: str, plan: Lines, delivery: Delivery, waiting: Waiting = ()
    ) -> None:
        by_sku = {ln.sku: ln for ln in self.lines}
        strangers = sorted({sku for sku, _, _ in plan} - by_sku.keys())
        if strangers:  # checked before anything changes
            raise FailedPrecondition(f"stock allocated {strangers}, which order {self.id} lacks")
        backordered = {(sku, loc): (units, due) for sku, loc, units, due in waiting}
        for sku, location_id, qty in plan:
            units, due = backordered.get((sku, location_id), (0, None))
            allocation = Allocation(location_id, qty, 0, reservation_id, delivery, units, due)
            by_sku[sku].allocations.append(allocation)

    def _take(
        self, sku: str, location_id: str, qty: int, verb: str = "ship"
    ) -> list[tuple[Allocation, int]]:
        """Which allocations `qty` units of `sku` ready at a location come from (units
        backordered are not there yet)."""
        line = self.line(sku)
        open_here = line.at(location_id) if line else []
        held = sum(a.ready for a in open_here)
        if qty > held:
            waits = (
                sum(a.backordered for a in line.allocations if a.location_id == location_id)
                if line
                else 0
            )
            backordered = f" ({waits} more backordered, not there yet)" if waits else ""
            raise FailedPrecondition(
                f"cannot {verb} {qty} of {sku} at {location_id}: order {self.id} has {held} "
                f"allocated there and not yet shipped{backordered}"
            )
        parts = []
        for allocation in open_here:
            part = min(qty, allocation.ready)
            if part:
                parts.append((allocation, part))
                qty -= part
        return parts

    def _settle(self) -> None:
        """CONFIRMED, PARTIALLY_FULFILLED or FULFILLED, from what has shipped and what is
        still to ship (or being re-allocated); then PARTIALLY_RETURNED or RETURNED as units
        come back; CANCELLED if every unit was found missing."""
        if self.status not in SETTLED_BY_UNITS:
            return
        waiting = sum(a.unshipped for ln in self.lines for a in ln.allocations)
        waiting += sum(r.quantity for r in self.reallocations)
        shipped = sum(a.shipped for ln in self.lines for a in ln.allocations)
        returned = sum(ln.returned for ln in self.lines)
        if waiting:
            self.status = OrderStatus.PARTIALLY_FULFILLED if shipped else OrderStatus.CONFIRMED
        elif returned:
            done = returned >= shipped
            self.status = OrderStatus.RETURNED if done else OrderStatus.PARTIALLY_RETURNED
        elif shipped:
            self.status = OrderStatus.FULFILLED
        else:
            self.status = OrderStatus.CANCELLED
            self.reason = "every unit was missing or rejected, and none could be found elsewhere"

    def _unshipped_value(self) -> int:
        return sum(a.unshipped * ln.unit_price for ln in self.lines for a in ln.allocations)

    def _changed(
        self,
        change: OrderChange,
        now: datetime,
        *,
        shipment: Shipment | None = None,
        refund_due: int = 0,
    ) -> None:
        if change is not OrderChange.PLACED:
            self.version += 1
            self.updated_at = now
        if self.exchange_of is not None:
            refund_due = 0  # an exchange's replacement: the return settles its money
        self.events.append(OrderChanged(self, change, shipment, refund_due))
