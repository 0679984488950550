"""The stock rules as a plain in-memory model: what each command should answer and leave behind.

Written from the rules (docs/architecture.md and docs/api.md), not from the service's code:
levels are four counters and a version, a reservation is its lines' held, committed and
released units.
Where the rules say nothing, the model takes the domain's choice, marked "(as the domain
does)". A method either returns the expected answer (and changes the model) or raises the
error the service must raise (and changes nothing). Time is whole hours on the model's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omni.platform.errors import AlreadyExists, FailedPrecondition, NotFound
from omni.stock.domain import commands
from omni.stock.domain.model import InsufficientStock, ScanKind, ShortLine

Key = tuple[str, str]  # (sku, location_id)
HOUR = 3600


@dataclass
class Level:
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    damaged: int = 0
    version: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)

    def change(
        self, on_hand: int = 0, reserved: int = 0, damaged: int = 0, safety: int = 0
    ) -> None:
        """One ledger movement; the model's callers have already refused anything negative."""
        self.on_hand += on_hand
        self.reserved += reserved
        self.damaged += damaged
        self.safety_stock += safety
        assert min(self.on_hand, self.reserved, self.damaged, self.safety_stock) >= 0, self
        self.version += 1

    def snapshot(self) -> tuple[int, ...]:
        return (self.on_hand, self.reserved, self.safety_stock, self.damaged, self.version)


@dataclass
class Line:
    quantity: int
    committed: int = 0
    released: int = 0

    @property
    def outstanding(self) -> int:
        return self.quantity - self.committed - self.released


@dataclass
class Held:
    """A reservation; `id` is the service's, filled in once the service has answered."""

    lines: dict[Key, Line]
    expires_at: int | None  # hour on the model's clock
    status: str = "ACTIVE"
    id: str | None = None


@dataclass
class StockModel:
    levels: dict[Key, Level] = field(default_factory=dict)
    reservations: dict[str, Held] = field(default_factory=dict)
    clock: int = 0  # hours since the example began
    # (operation, key) -> (the request, its first answer): idempotency keys and scan ids
    answers: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)

    def level(self, key: Key) -> Level:
        return self.levels.setdefault(key, Level())

    # Idempotency: the same key and request answer the first answer; another request fails.
    def replayed(self, operation: str, key: str, request: Any) -> tuple[bool, Any]:
        if not key or (operation, key) not in self.answers:
            return False, None
        first, answer = self.answers[(operation, key)]
        if first != request:
            raise AlreadyExists(f"{operation} key {key} was used for another request")
        return True, answer

    def remember(self, operation: str, key: str, request: Any, answer: Any) -> None:
        if key:
            self.answers[(operation, key)] = (request, answer)

    # Levels ------------------------------------------------------------------------------
    def receive(self, cmd: commands.ReceiveStock) -> tuple[int, ...]:
        return self._change_level("receive", cmd, cmd.quantity)

    def adjust(self, cmd: commands.AdjustStock) -> tuple[int, ...]:
        return self._change_level("adjust", cmd, cmd.delta)

    def _change_level(self, operation: str, cmd: Any, delta: int) -> tuple[int, ...]:
        done, answer = self.replayed(operation, cmd.idempotency_key, cmd)
        if done:
            return answer
        level = self.level((cmd.sku, cmd.location_id))
        if level.on_hand + delta < 0:
            raise FailedPrecondition(f"on_hand would be {level.on_hand + delta}")
        level.change(on_hand=delta)
        self.remember(operation, cmd.idempotency_key, cmd, level.snapshot())
        return level.snapshot()

    def set_safety_stock(self, cmd: commands.SetSafetyStock) -> tuple[int, ...]:
        level = self.level((cmd.sku, cmd.location_id))
        if cmd.safety_stock != level.safety_stock:
            level.change(safety=cmd.safety_stock - level.safety_stock)
        return level.snapshot()

    def restock(self, cmd: commands.Restock) -> list[tuple[Key, tuple[int, ...]]]:
        """Returned units back on hand (or damaged); each changed level, in first-change order."""
        done, answer = self.replayed("restock", cmd.idempotency_key, cmd)
        if done:
            return answer
        changed: dict[Key, Level] = {}
        for sku, qty, damaged in cmd.lines:
            key = (sku, cmd.location_id)
            level = changed.setdefault(key, self.level(key))
            if damaged:
                level.change(damaged=qty)
            else:
                level.change(on_hand=qty)
        snapshots = [(key, level.snapshot()) for key, level in changed.items()]
        self.remember("restock", cmd.idempotency_key, cmd, snapshots)
        return snapshots

    # Reservations --------------------------------------------------------------------------
    def reserve(self, cmd: commands.Reserve) -> Held:
        """The reservation made (or made before under this key), or InsufficientStock."""
        done, answer = self.replayed("reserve", cmd.idempotency_key, cmd)
        if done:
            if isinstance(answer, InsufficientStock):
                raise answer
            return answer
        wanted = merged(cmd.lines)
        short = [
            ShortLine(sku, loc, qty, self.level((sku, loc)).available)
            for (sku, loc), qty in wanted.items()
            if self.level((sku, loc)).available < qty
        ]
        if short:  # a refusal is kept under its key too: a retry must not start holding stock
            refused = InsufficientStock(short)
            self.remember("reserve", cmd.idempotency_key, cmd, refused)
            raise refused
        for key, qty in wanted.items():
            self.level(key).change(reserved=qty)
        expires = cmd.ttl_seconds // HOUR if cmd.ttl_seconds else None
        held = Held({key: Line(qty) for key, qty in wanted.items()}, expires)
        self.remember("reserve", cmd.idempotency_key, cmd, held)
        return held

    def filed(self, held: Held, reservation_id: str) -> None:
        """The service's id for a reservation the model just made."""
        assert reservation_id not in self.reservations, f"{reservation_id} answered twice"
        held.id = reservation_id
        self.reservations[reservation_id] = held

    def release(self, cmd: commands.Release) -> Held:
        def give_back(held: Held) -> None:
            if held.status == "COMMITTED":
                raise FailedPrecondition("already committed")
            if held.status != "ACTIVE":
                return  # nothing held any more: answered as it is (as the domain does)
            self._release(held, self._at_most_held(held, cmd.lines), "RELEASED")

        return self._settle("release", cmd, give_back)

    def commit(self, cmd: commands.Commit) -> Held:
        def hand_over(held: Held) -> None:
            self._take_out(held, self._requested(held, cmd.lines), "COMMITTED")

        return self._settle("commit", cmd, hand_over)

    def write_off(self, cmd: commands.WriteOff) -> Held:
        def correct(held: Held) -> None:
            self._take_out(held, self._requested(held, cmd.lines), "RELEASED")

        return self._settle("write_off", cmd, correct)

    def expire(self, hours: int) -> int:
        """Advances the clock; every active reservation due by then gives its units back."""
        self.clock += hours
        due = [
            h
            for h in self.reservations.values()
            if h.status == "ACTIVE" and h.expires_at is not None and h.expires_at <= self.clock
        ]
        for held in due:
            self._release(held, {k: ln.outstanding for k, ln in held.lines.items()}, "EXPIRED")
        return len(due)

    def _settle(self, operation: str, cmd: Any, change: Callable[[Held], None]) -> Held:
        done, _ = self.replayed(operation, cmd.idempotency_key, cmd)
        held = self.reservations.get(cmd.reservation_id)
        if held is None:
            raise NotFound(f"reservation {cmd.reservation_id}")
        if not done:
            change(held)
            self.remember(operation, cmd.idempotency_key, cmd, held.id)
        return held

    def _requested(
        self, held: Held, lines: tuple[tuple[str, str, int], ...] | None
    ) -> dict[Key, int]:
        """Units asked for per line (all still held when no lines are named); each must be held."""
        if lines is None:
            return {k: ln.outstanding for k, ln in held.lines.items()}
        wanted = merged(lines)
        for key, qty in wanted.items():
            if key not in held.lines or qty > held.lines[key].outstanding:
                raise FailedPrecondition(f"{key} holds fewer than {qty}")
        return wanted

    def _at_most_held(
        self, held: Held, lines: tuple[tuple[str, str, int], ...] | None
    ) -> dict[Key, int]:
        """A release's units: those asked for, but no more than each line still holds (the
        rest went already); a line the reservation lacks is refused."""
        if lines is None:
            return self._requested(held, None)
        wanted = merged(lines)
        for key in wanted:
            if key not in held.lines:
                raise FailedPrecondition(f"{key} is not held")
        return {key: min(qty, held.lines[key].outstanding) for key, qty in wanted.items()}

    def _release(self, held: Held, units: dict[Key, int], end: str) -> None:
        for key, qty in units.items():
            if qty:
                self.level(key).change(reserved=-qty)
                held.lines[key].released += qty
        if all(ln.outstanding == 0 for ln in held.lines.values()):
            held.status = end

    def _take_out(self, held: Held, units: dict[Key, int], end: str) -> None:
        """Commit or write off: the units leave reserved, and on_hand unless a count (or
        damage) already found them missing: those missing leave first."""
        if held.status != "ACTIVE":
            raise FailedPrecondition(f"reservation is {held.status}")
        for key, qty in units.items():
            if qty:
                level = self.level(key)
                missing = max(0, level.reserved - level.on_hand)
                level.change(on_hand=-(qty - min(qty, missing)), reserved=-qty)
                if end == "COMMITTED":
                    held.lines[key].committed += qty
                else:
                    held.lines[key].released += qty
        if all(ln.outstanding == 0 for ln in held.lines.values()):
            held.status = end

    # Scans -----------------------------------------------------------------------------------
    def scan(self, scan: commands.ApplyScan) -> tuple[Any, bool]:
        """(the levels after it, or its refusal; whether it is a resend answered as before)."""
        done, answer = self.replayed("scan", f"{scan.device_id}/{scan.scan_id}", scan)
        if done:
            return answer, True
        try:
            outcome: Any = self._apply_scan(scan)
        except FailedPrecondition as refused:  # kept like a result: a resend is refused again
            outcome = refused
        self.remember("scan", f"{scan.device_id}/{scan.scan_id}", scan, outcome)
        return outcome, False

    def _apply_scan(self, scan: commands.ApplyScan) -> list[tuple[int, ...]]:
        here = self.level((scan.sku, scan.location_id))
        qty = scan.quantity
        if scan.kind is ScanKind.MOVE:
            if qty > here.available:
                raise FailedPrecondition("moving more than is free")
            there = self.level((scan.sku, scan.target_location_id))
            here.change(on_hand=-qty)
            there.change(on_hand=qty)
            return [here.snapshot(), there.snapshot()]
        if scan.kind is ScanKind.PICK and qty > here.reserved:
            raise FailedPrecondition("picking more than is reserved")
        if scan.kind in (ScanKind.DAMAGE, ScanKind.ADJUST):
            delta = -qty if scan.kind is ScanKind.DAMAGE else qty
            if here.on_hand + delta < 0:
                raise FailedPrecondition("on_hand would go negative")
            here.change(on_hand=delta, damaged=qty if scan.kind is ScanKind.DAMAGE else 0)
        elif scan.kind is ScanKind.RECEIVE:
            here.change(on_hand=qty)
        elif scan.kind is ScanKind.COUNT and qty != here.on_hand:
            here.change(on_hand=qty - here.on_hand)
        return [here.snapshot()]


def merged(lines: tuple[tuple[str, str, int], ...]) -> dict[Key, int]:
    """Lines naming the same (sku, location) add up, in the order first named."""
    wanted: dict[Key, int] = {}
    for sku, loc, qty in lines:
        wanted[(sku, loc)] = wanted.get((sku, loc), 0) + qty
    return wanted
