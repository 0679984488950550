"""A pickup task and the rules of its states: placed, picking, ready, collected or expired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni.pickup.domain.events import Event, Shortage, TaskChange, TaskChanged
from omni.platform.errors import FailedPrecondition, PermissionDenied

# Wrong codes a READY task tolerates; the next locks it until a manager unlocks it.
MAX_WRONG_CODES = 5


class PickupStatus(StrEnum):
    PLACED = "PLACED"
    PICKING = "PICKING"
    READY = "READY"
    COLLECTED = "COLLECTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    LOCKED = "LOCKED"


class ShortagePolicy(StrEnum):
    SHIP_TO_STORE = "SHIP_TO_STORE"
    SHIP_TO_HOME = "SHIP_TO_HOME"
    CANCEL = "CANCEL"


DEFAULT_SHORTAGE_POLICY = ShortagePolicy.SHIP_TO_HOME
OPEN = {PickupStatus.PLACED, PickupStatus.PICKING, PickupStatus.READY, PickupStatus.LOCKED}


@dataclass(slots=True)
class PickupLine:
    sku: str
    quantity: int
    unit_price: int
    picked: int = 0
    short: int = 0
    coming: int = 0  # of the units missing, those on their way here by transfer
    arrived: int = 0  # of the units missing, those brought here since: to pick again

    @property
    def outstanding(self) -> int:
        """Units neither picked nor missing (units brought here since count again)."""
        return self.quantity - self.picked - self.short + self.arrived


@dataclass(slots=True)
class PickupTask:
    """The aggregate. Every change bumps `version` and records what it raised in `events`."""

    id: str
    order_id: str
    store_id: str
    customer_id: str
    currency: str
    lines: list[PickupLine]
    created_at: datetime
    updated_at: datetime
    status: PickupStatus = PickupStatus.PLACED
    associate_id: str = ""
    hold_until: datetime | None = None
    failed_attempts: int = 0
    code_hash: str = ""  # a salted scrypt hash; the code itself is never kept
    version: int = 1
    order_version: int = 0  # the order's version last heard of (brought)
    shortages: int = 0  # shortages reported here so far
    replacement: bool = False  # an exchange's replacement: its return settles the money
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    def placed(self) -> None:
        self.events.append(TaskChanged(self, TaskChange.PLACED))

    def start_picking(self, associate_id: str, now: datetime) -> None:
        """PLACED → PICKING; starting again (another associate takes over) is harmless."""
        self._require(PickupStatus.PLACED, PickupStatus.PICKING, action="start picking")
        first = self.status is PickupStatus.PLACED
        self.associate_id = associate_id
        self.status = PickupStatus.PICKING
        self._changed(now, TaskChange.PICKING if first else None)

    def pick(self, sku: str, quantity: int, now: datetime) -> None:
        self._require(PickupStatus.PICKING, action="pick")
        line = self._line(sku)
        if quantity > line.outstanding:
            raise FailedPrecondition(
                f"task {self.id} needs {line.outstanding} more of {sku}, not {quantity}"
            )
        line.picked += quantity
        self._changed(now)

    def report_shortage(
        self, sku: str, missing: int, policy: ShortagePolicy, now: datetime
    ) -> None:
        """Units not on the shelf: the order re-allocates or cancels them (`policy`). Under
        SHIP_TO_STORE they are expected here by transfer until the order says otherwise."""
        self._require(PickupStatus.PICKING, action="report a shortage")
        line = self._line(sku)
        if missing > line.outstanding:
            raise FailedPrecondition(
                f"task {self.id} has {line.outstanding} of {sku} left to pick; "
                f"{missing} cannot be missing"
            )
        line.short += missing
        self.shortages += 1
        if policy is ShortagePolicy.SHIP_TO_STORE:
            line.coming += missing
        self._changed(now, TaskChange.SHORTAGE, shortage=Shortage(sku, missing, policy))
        self._cancel_if_empty(now)

    def brought(
        self,
        order_version: int,
        order_shortages: int,
        lines: dict[str, tuple[int, int]],
        now: datetime,
    ) -> None:
        """What the order (at `order_version`, having taken in `order_shortages` of this
        task's shortages) says of the units it brings here by transfer, per SKU: (still
        coming, arrived so far). Older news than already heard changes nothing; units
        arrived are never taken back, nor units coming from a shortage the order has not
        taken in yet. A task left with nothing to hand over ends."""
        if order_version <= self.order_version or self.status not in OPEN:
            return
        self.order_version = order_version
        behind = order_shortages < self.shortages
        changed = False
        for line in self.lines:
            coming, arrived = lines.get(line.sku, (0, 0))
            arrived = min(max(line.arrived, arrived), line.short)
            coming = min(max(coming, line.coming) if behind else coming, line.short - arrived)
            if (coming, arrived) != (line.coming, line.arrived):
                line.coming, line.arrived, changed = coming, arrived, True
        if changed:
            more = any(ln.outstanding or ln.coming for ln in self.lines)
            if self.status in (PickupStatus.READY, PickupStatus.LOCKED) and more:
                self.status = PickupStatus.PICKING  # more to pick before it is handed over
            self._changed(now, TaskChange.BROUGHT)
            self._cancel_if_empty(now)

    def _cancel_if_empty(self, now: datetime) -> None:
        if not any(ln.picked or ln.outstanding or ln.coming for ln in self.lines):
            self.status = PickupStatus.CANCELLED  # nothing left to hand over here
            self._changed(now, TaskChange.CANCELLED)

    def mark_ready(
        self, code_hash: str, sealed_code: str, hold_until: datetime, now: datetime
    ) -> None:
        """PICKING → READY once nothing is left to pick; the code's hash is kept, the code
        travels sealed in the event."""
        self._require(PickupStatus.PICKING, action="be marked ready")
        waiting = {ln.sku: ln.outstanding for ln in self.lines if ln.outstanding}
        if waiting:
            raise FailedPrecondition(f"task {self.id} still needs {waiting} picked")
        coming = {ln.sku: ln.coming for ln in self.lines if ln.coming}
        if coming:
            raise FailedPrecondition(
                f"task {self.id} waits for {coming} on their way to the store; it is ready "
                "once they arrive and are picked"
            )
        self.status = PickupStatus.READY
        self.code_hash = code_hash
        self.hold_until = hold_until
        self.failed_attempts = 0
        self._changed(now, TaskChange.READY, sealed_code=sealed_code)

    def complete(self, code_matches: bool, now: datetime) -> None:
        """READY → COLLECTED with the right code. A wrong one counts; the fifth locks."""
        if self.status is PickupStatus.LOCKED:
            raise PermissionDenied(
                f"task {self.id} is locked after {MAX_WRONG_CODES} wrong codes; a store "
                "manager must unlock it"
            )
        self._require(PickupStatus.READY, action="be collected")
        if code_matches:
            self.status = PickupStatus.COLLECTED
            self._changed(now, TaskChange.COLLECTED)
            return
        self.failed_attempts += 1
        if self.failed_attempts >= MAX_WRONG_CODES:
            self.status = PickupStatus.LOCKED
            self._changed(now, TaskChange.LOCKED)
        else:
            self._changed(now)

    def unlock(self, now: datetime) -> None:
        self._require(PickupStatus.LOCKED, action="be unlocked")
        self.status = PickupStatus.READY
        self.failed_attempts = 0
        self._changed(now, TaskChange.UNLOCKED)

    def expire(self, now: datetime) -> bool:
        """Not collected by its deadline: EXPIRED, the whole price of its units due back."""
        due = self.hold_until is not None and self.hold_until <= now
        if self.status not in (PickupStatus.READY, PickupStatus.LOCKED) or not due:
            return False
        self.status = PickupStatus.EXPIRED
        refund = sum((ln.quantity - ln.short + ln.arrived) * ln.unit_price for ln in self.lines)
        if self.replacement:
            refund = 0  # the exchange's return gives back what was settled for it
        self._changed(now, TaskChange.EXPIRED, refund_due=refund)
        return True

    def cancel(self, now: datetime) -> None:
        """The order was cancelled. Harmless once the task has ended."""
        if self.status in OPEN:
            self.status = PickupStatus.CANCELLED
            self._changed(now, TaskChange.CANCELLED)

    def _line(self, sku: str) -> PickupLine:
        for line in self.lines:
            if line.sku == sku:
                return line
        raise FailedPrecondition(f"task {self.id} has no line for {sku}")

    def _require(self, *allowed: PickupStatus, action: str) -> None:
        if self.status not in allowed:
            names = " or ".join(s.value for s in allowed)
            raise FailedPrecondition(
                f"task {self.id} is {self.status.value}; only a {names} task can {action}"
            )

    def _changed(
        self,
        now: datetime,
        change: TaskChange | None = None,
        *,
        sealed_code: str = "",
        refund_due: int = 0,
        shortage: Shortage | None = None,
    ) -> None:
        self.version += 1
        self.updated_at = now
        if change is not None:
            self.events.append(TaskChanged(self, change, sealed_code, refund_due, shortage))
