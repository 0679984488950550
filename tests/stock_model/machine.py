"""A Hypothesis state machine: random stock commands, each sent to the real service layer and to
the plain model in lockstep; after every step the service must hold what the model holds."""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from omni.stock.domain import commands
from omni.stock.domain.model import ScanKind
from tests.stock_model.lockstep import Lockstep, Tally
from tests.stock_model.model import HOUR, Key

# Few SKUs and locations, so that commands keep meeting the same levels.
SKUS = ["SKU-A", "SKU-B"]
LOCATIONS = ["L1", "L2", "L3"]
KEYS: list[Key] = [(sku, loc) for sku in SKUS for loc in LOCATIONS]

skus = st.sampled_from(SKUS)
locations = st.sampled_from(LOCATIONS)
units = st.integers(1, 6)
deltas = st.integers(-6, 6).filter(bool)
reserve_lines = st.lists(st.tuples(skus, locations, st.integers(1, 4)), min_size=1, max_size=3)
ttl_hours = st.integers(0, 4)  # 0: never expires
restock_lines = st.lists(st.tuples(skus, units, st.booleans()), min_size=1, max_size=3)


def around(*edges: int) -> st.SearchStrategy[int]:
    """A quantity (1 or more) at or just past one of the edges a rule turns on, or any up to
    just past the last: boundaries come up far more often than at random."""
    near = sorted({qty for edge in edges for qty in (edge, edge + 1) if qty >= 1})
    return st.sampled_from(near) | st.integers(1, max(edges) + 1)


class StockMachine(RuleBasedStateMachine):
    reservations = Bundle("reservations")

    def __init__(self, template: Path, tally: Tally) -> None:
        super().__init__()
        self.both = Lockstep(template, tally, SKUS, KEYS)
        self.model = self.both.model  # what rules draw their arguments from
        self.tally = tally
        tally.examples += 1
        self.numbers = itertools.count(1)
        self.sent: list[Any] = []  # see keep()
        self.kept: set[Any] = set()
        self.checks = 0

    def teardown(self) -> None:
        self.both.close()

    def key(self, keyed: bool = True) -> str:
        return f"key-{next(self.numbers)}" if keyed else ""

    @initialize(stocked=st.lists(st.integers(0, 12), min_size=len(KEYS), max_size=len(KEYS)))
    def stock_up(self, stocked: list[int]) -> None:
        """Stock to start from, so that reservations (and all that follows them) often succeed."""
        for (sku, loc), quantity in zip(KEYS, stocked, strict=True):
            if quantity:
                self.send(commands.ReceiveStock(sku, loc, quantity, reference="opening stock"))

    # Levels ----------------------------------------------------------------------------------
    @rule(sku=skus, location=locations, quantity=units, keyed=st.booleans())
    def receive(self, sku: str, location: str, quantity: int, keyed: bool) -> None:
        self.send(commands.ReceiveStock(sku, location, quantity, idempotency_key=self.key(keyed)))

    @rule(sku=skus, location=locations, delta=deltas, keyed=st.booleans())
    def adjust(self, sku: str, location: str, delta: int, keyed: bool) -> None:
        self.send(commands.AdjustStock(sku, location, delta, idempotency_key=self.key(keyed)))

    @rule(sku=skus, location=locations, safety_stock=st.integers(0, 4))
    def set_safety_stock(self, sku: str, location: str, safety_stock: int) -> None:
        self.send(commands.SetSafetyStock(sku, location, safety_stock))

    @rule(location=locations, lines=restock_lines)
    def restock(self, location: str, lines: list[tuple[str, int, bool]]) -> None:
        self.send(commands.Restock(location, tuple(lines), self.key()))

    # Reservations ----------------------------------------------------------------------------
    @rule(
        target=reservations,
        places=st.lists(st.tuples(skus, locations), min_size=1, max_size=3),
        hours=ttl_hours,
        data=st.data(),
    )
    def reserve(self, places: list[tuple[str, str]], hours: int, data: st.DataObject) -> Any:
        """One line or several, each asking about what is available there."""
        lines = [(*key, data.draw(around(self.model.level(key).available))) for key in places]
        return self.send(self.reservation(lines, hours))

    @rule(
        target=reservations,
        requests=st.lists(
            st.tuples(reserve_lines, ttl_hours, st.booleans()), min_size=2, max_size=4
        ),
    )
    def reserve_several_at_once(self, requests: list[tuple[Any, int, bool]]) -> Any:
        """Concurrent callers, decided in shared batches; `again`: the previous request resent."""
        sent: list[commands.Reserve] = []
        for lines, hours, again in requests:
            sent.append(sent[-1] if again and sent else self.reservation(lines, hours))
        for request in sent:
            self.keep(request)
        return multiple(*self.both.reserve_together(sent))

    def reservation(self, lines: list[tuple[str, str, int]], hours: int) -> commands.Reserve:
        # Its expiry in whole hours on the model's clock, counted from the example's start.
        ttl = (self.model.clock + hours) * HOUR if hours else 0
        return commands.Reserve(self.key(), f"cart-{next(self.numbers)}", tuple(lines), ttl)

    @rule(res=reservations, keyed=st.booleans())
    def release_all(self, res: str, keyed: bool) -> None:
        self.send(commands.Release(res, None, self.key(keyed)))

    @rule(res=reservations, data=st.data())
    def release_some(self, res: str, data: st.DataObject) -> None:
        self.send(commands.Release(res, data.draw(self.part_of(res)), self.key()))

    @rule(res=reservations, keyed=st.booleans())
    def commit_all(self, res: str, keyed: bool) -> None:
        self.send(commands.Commit(res, None, self.key(keyed)))

    @rule(res=reservations, data=st.data(), keyed=st.booleans())
    def commit_some(self, res: str, data: st.DataObject, keyed: bool) -> None:
        self.send(commands.Commit(res, data.draw(self.part_of(res)), self.key(keyed)))

    @rule(res=reservations, data=st.data())
    def write_off(self, res: str, data: st.DataObject) -> None:
        self.send(commands.WriteOff(res, data.draw(self.part_of(res)), self.key()))

    @rule(commit=st.booleans(), keyed=st.booleans())
    def settle_an_unknown_reservation(self, commit: bool, keyed: bool) -> None:
        kind = commands.Commit if commit else commands.Release
        self.send(kind("res_unknown", None, self.key(keyed)))

    def part_of(self, reservation_id: str) -> st.SearchStrategy[tuple[tuple[str, str, int], ...]]:
        """Lines mostly of the reservation's own, sometimes more than it holds or not its own."""
        held = self.model.reservations[reservation_id]

        def line(key: tuple[str, str]) -> st.SearchStrategy[tuple[str, str, int]]:
            outstanding = held.lines[key].outstanding if key in held.lines else 0
            return around(outstanding).map(lambda qty: (*key, qty))

        keys = st.sampled_from(list(held.lines) * 8 + KEYS)
        return st.lists(keys.flatmap(line), min_size=1, max_size=2).map(tuple)

    @rule(hours=st.integers(0, 1), sweeps=st.integers(1, 2))
    def expire(self, hours: int, sweeps: int) -> None:
        """The expiry sweep, run `hours` later (see Lockstep.expire); a second sweep at the same
        time (another replica's) finds nothing more."""
        self.both.expire(hours)
        for _ in range(sweeps - 1):
            self.both.expire(0)

    # Scans -----------------------------------------------------------------------------------
    @rule(sku=skus, location=locations, quantity=units)
    def receive_by_scan(self, sku: str, location: str, quantity: int) -> None:
        self.send(self.scanned(ScanKind.RECEIVE, sku, location, quantity))

    @rule(sku=skus, location=locations, data=st.data())
    def pick(self, sku: str, location: str, data: st.DataObject) -> None:
        quantity = data.draw(around(self.model.level((sku, location)).reserved))
        self.send(self.scanned(ScanKind.PICK, sku, location, quantity))

    @rule(sku=skus, location=locations, data=st.data())
    def damage(self, sku: str, location: str, data: st.DataObject) -> None:
        quantity = data.draw(around(self.model.level((sku, location)).on_hand))
        self.send(self.scanned(ScanKind.DAMAGE, sku, location, quantity))

    @rule(sku=skus, location=locations, counted=st.integers(0, 12))
    def count(self, sku: str, location: str, counted: int) -> None:
        self.send(self.scanned(ScanKind.COUNT, sku, location, counted))

    @rule(sku=skus, places=st.permutations(LOCATIONS), data=st.data())
    def move(self, sku: str, places: list[str], data: st.DataObject) -> None:
        """Free units, reserved ones, or more than are there."""
        level = self.model.level((sku, places[0]))
        quantity = data.draw(around(level.available, level.on_hand))
        self.send(self.scanned(ScanKind.MOVE, sku, places[0], quantity, places[1]))

    @rule(sku=skus, location=locations, delta=deltas)
    def adjust_by_scan(self, sku: str, location: str, delta: int) -> None:
        self.send(self.scanned(ScanKind.ADJUST, sku, location, delta))

    def scanned(self, kind: ScanKind, sku: str, loc: str, qty: int, to: str = "") -> Any:
        return commands.ApplyScan(f"scan-{next(self.numbers)}", "gun-1", kind, sku, loc, qty, to)

    # Resending -------------------------------------------------------------------------------
    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def send_again(self, data: st.DataObject) -> None:
        """A resend (same key or scan id, same request): answered as before, nothing changes."""
        self.send(data.draw(self.earlier(), label="resent"))

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def reuse_a_key(self, data: st.DataObject) -> None:
        """Another request under a key already used: refused, unless the first one failed."""
        self.send(another_request(data.draw(self.earlier(), label="reused")))

    def earlier(self) -> st.SearchStrategy[Any]:
        """A command sent before, the latest first (Hypothesis favours the first)."""
        return st.sampled_from(self.sent[::-1])

    # Sending -------------------------------------------------------------------------------
    def send(self, cmd: Any) -> Any:
        """Sends one command to the model and to the service; new reservations for the bundle."""
        self.keep(cmd)
        return multiple(*self.both.send(cmd))

    def keep(self, cmd: Any) -> None:
        """Commands with an idempotency key or a scan id, for the rules that send them again."""
        keyed = getattr(cmd, "idempotency_key", "") or isinstance(cmd, commands.ApplyScan)
        if keyed and cmd not in self.kept:
            self.kept.add(cmd)
            self.sent.append(cmd)

    # After every step ------------------------------------------------------------------------
    @invariant()
    def the_service_holds_what_the_model_holds(self) -> None:
        self.tally.steps += 1 if self.checks else 0  # the first check follows set-up, no step
        self.checks += 1
        self.both.check()


def another_request(cmd: Any) -> Any:
    """The same key (or scan id) with something else changed."""
    for note in ("reference", "reason", "actor"):
        if hasattr(cmd, note):
            return replace(cmd, **{note: getattr(cmd, note) + "-other"})
    return replace(cmd, reservation_id="res_other")  # Release, Commit


def run_model(template: Path, tally: Tally, how: settings) -> None:
    """Runs the machine on copies of `template` (see service.make_template)."""
    # Hypothesis takes any callable that makes a machine (its annotation says a class).
    make = partial(StockMachine, template, tally)
    run_state_machine_as_test(make, settings=how)  # type: ignore[arg-type]
