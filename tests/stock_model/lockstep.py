"""Each command sent to the plain model and to the real service layer in lockstep; their
answers compared, and after every step all that the service holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from omni.platform.clock import utcnow
from omni.platform.errors import FailedPrecondition, OmniError
from omni.stock.domain import commands
from omni.stock.domain.model import InsufficientStock, Movement, Reservation, StockLevel, fold
from omni.stock.service_layer import handlers, scans
from tests.stock_model.model import Held, Key, StockModel
from tests.stock_model.service import StockUnderTest


@dataclass
class Tally:
    """What ran, counted as it ran (`make soak` reports it)."""

    examples: int = 0
    steps: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # e.g. "Commit: FailedPrecondition"

    def saw(self, cmd: Any, error: BaseException | None) -> None:
        what = f"scan {cmd.kind}" if isinstance(cmd, commands.ApplyScan) else type(cmd).__name__
        self.outcomes[f"{what}: {type(error).__name__ if error else 'done'}"] += 1


class Lockstep:
    """The model and the service, given the same commands."""

    def __init__(self, template: Path, tally: Tally, skus: list[str], keys: list[Key]) -> None:
        self.stock = StockUnderTest(template)
        self.model = StockModel()
        self.tally = tally
        self.skus, self.keys = skus, keys
        self.ledger: dict[Key, list[Movement]] = {key: [] for key in keys}
        self.after = dict.fromkeys(keys, 0)  # the last ledger row read, per level

    def close(self) -> None:
        self.stock.close()

    def send(self, cmd: Any) -> list[str]:
        """Sends one command to both; the ids of reservations it made."""
        match cmd:
            case commands.ReceiveStock():
                self._level_change(cmd, self.model.receive, handlers.receive_stock)
            case commands.AdjustStock():
                self._level_change(cmd, self.model.adjust, handlers.adjust_stock)
            case commands.SetSafetyStock():
                self._level_change(cmd, self.model.set_safety_stock, handlers.set_safety_stock)
            case commands.Restock():
                expected, got = self._both(cmd, self.model.restock, handlers.restock)
                if got is not None:
                    assert [((lv.sku, lv.location_id), snap(lv)) for lv in got] == expected
            case commands.Reserve():
                return self.reserve_together([cmd])
            case commands.Release():
                self._settle(cmd, self.model.release, handlers.release)
            case commands.Commit():
                self._settle(cmd, self.model.commit, handlers.commit)
            case commands.WriteOff():
                self._settle(cmd, self.model.write_off, handlers.write_off)
            case commands.ApplyScan():
                self._apply_scan(cmd)
        return []

    def reserve_together(self, requests: list[commands.Reserve]) -> list[str]:
        """Reserve requests sent at once, as concurrent callers do (they share batches); the
        model takes them in the order they were sent. Returns the new reservations' ids."""
        expected: list[Held | OmniError] = []
        for request in requests:
            try:
                expected.append(self.model.reserve(request))
            except OmniError as refused:
                expected.append(refused)
        made = []
        for request, want, got in zip(
            requests, expected, self.stock.reserve(requests), strict=True
        ):
            self.tally.saw(request, got if isinstance(got, BaseException) else None)
            if isinstance(want, OmniError):
                same_error(got if isinstance(got, OmniError) else None, want)
                continue
            assert isinstance(got, Reservation), f"the model reserved, the service: {got!r}"
            if want.id is None:  # new in the model: it must be new in the service too
                self.model.filed(want, got.id)
                made.append(got.id)
            same_reservation(got, want)
        return made

    def expire(self, hours: int) -> None:
        """The expiry sweep, `hours` later on the model's clock. The service's clock is not
        faked: a reservation made at model hour c for h hours (ttl (c + h) hours) expires
        c + h hours after the example began, give or take the example's run time, and the
        sweep looks half an hour past the model's hour; so whole hours decide alike for both
        as long as an example takes less than half an hour."""
        expected = self.model.expire(hours)
        swept = self.stock.sweep(utcnow() + timedelta(hours=self.model.clock, minutes=30))
        assert swept == expected, f"{swept} reservations expired, model {expected}"

    def _both(self, cmd: Any, model: Callable[[Any], Any], handler: Any) -> tuple[Any, Any]:
        """The model's answer and the service's: both succeed, or both fail with one error."""
        refused: OmniError | None = None
        error: OmniError | None = None
        expected = got = None
        try:
            expected = model(cmd)
        except OmniError as exc:
            refused = exc
        try:
            got = self.stock.call(handler, cmd)
        except OmniError as exc:
            error = exc
        if not isinstance(cmd, commands.ApplyScan) or error:  # else: counted with its outcome
            self.tally.saw(cmd, error)
        same_error(error, refused)
        return expected, got

    def _level_change(self, cmd: Any, model: Callable[[Any], Any], handler: Any) -> None:
        expected, got = self._both(cmd, model, handler)
        if got is not None:
            assert snap(got) == expected, f"answered {got}, model {expected}"

    def _settle(self, cmd: Any, model: Callable[[Any], Held], handler: Any) -> None:
        expected, got = self._both(cmd, model, handler)
        if got is not None:
            same_reservation(got, expected)

    def _apply_scan(self, cmd: commands.ApplyScan) -> None:
        """A refused scan is an outcome (kept for resends), not an error."""
        expected, got = self._both(cmd, self.model.scan, scans.apply_scan)
        if got is None:
            return
        outcome, duplicate = expected
        self.tally.saw(cmd, got.refused)
        assert got.duplicate == duplicate, f"duplicate: {got.duplicate}, model {duplicate}"
        if isinstance(outcome, FailedPrecondition):
            assert got.refused is not None and got.levels == [], f"model refused, got {got}"
        else:
            assert got.refused is None, f"refused: {got.refused.message}; model: {outcome}"
            assert [snap(lv) for lv in got.levels] == outcome, f"{got.levels}, model {outcome}"

    def check(self) -> None:
        """Levels and availability equal the model's, each ledger folds from zero to its level,
        and every reservation holds what the model says."""
        state = self.stock.state(self.skus, self.keys, self.after, list(self.model.reservations))
        stored = {(lv.sku, lv.location_id): (lv, seen) for lv, seen in state.levels}
        for key in self.keys:
            level, available = stored.get(key, (StockLevel(*key), 0))
            model = self.model.level(key)
            assert snap(level) == model.snapshot(), f"{key}: service {level}, model {model}"
            assert available == model.available >= 0, f"{key}: available {available}"
            for row_id, movement in state.movements[key]:
                self.after[key] = row_id
                self.ledger[key].append(movement)
                assert movement.version == len(self.ledger[key]), f"{key}: {movement}"
            assert fold(self.ledger[key], *key) == level, f"{key}: its ledger folds to another"
            held = [
                h.lines[key].outstanding
                for h in self.model.reservations.values()
                if h.status == "ACTIVE" and key in h.lines
            ]
            assert model.reserved == sum(held), f"{key}: reserved is not what is held"
        for sku in self.skus:
            everywhere = sum(self.model.level(key).available for key in self.keys if key[0] == sku)
            assert state.network[sku] == everywhere, f"{sku}: network {state.network[sku]}"
        for reservation_id, held_by in self.model.reservations.items():
            same_reservation(state.reservations[reservation_id], held_by)


def snap(level: StockLevel) -> tuple[int, ...]:
    return (level.on_hand, level.reserved, level.safety_stock, level.damaged, level.version)


def same_error(got: OmniError | None, expected: OmniError | None) -> None:
    assert type(got) is type(expected), f"service: {got!r}; model: {expected!r}"
    if isinstance(got, InsufficientStock) and isinstance(expected, InsufficientStock):
        assert got.lines == expected.lines, f"short {got.lines}, model {expected.lines}"


def same_reservation(got: Reservation, expected: Held) -> None:
    lines = {(ln.sku, ln.location_id): (ln.quantity, ln.committed, ln.released) for ln in got.lines}
    model = {key: (ln.quantity, ln.committed, ln.released) for key, ln in expected.lines.items()}
    assert (got.id, got.status.value, lines) == (expected.id, expected.status, model), (
        f"service {got}, model {expected}"
    )
