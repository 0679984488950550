"""Sourcing: which locations fill an order's lines (docs/api.md, "Stock in a few words")."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from omni.platform.errors import FailedPrecondition
from omni.stock.domain.model import InsufficientStock, Location, LocationKind, ShortLine

Available = Callable[[str, str], int]  # (sku, location_id) -> units available
Plan = dict[tuple[str, str], int]  # (sku, location_id) -> units
T = TypeVar("T")
# Beyond this many location combinations, the split falls back to a greedy choice.
COMBINATION_BUDGET = 20_000


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a ship order goes: a region, and coordinates when known."""

    region: str
    latitude: float | None = None
    longitude: float | None = None


def plan_pickup(store: Location, lines: dict[str, int], available: Available) -> Plan:
    """Everything from the chosen store, which must accept pickup orders."""
    if not store.pickup:
        raise FailedPrecondition(f"location {store.id} does not accept pickup orders")
    short = [
        ShortLine(sku, store.id, qty, available(sku, store.id))
        for sku, qty in lines.items()
        if available(sku, store.id) < qty
    ]
    if short:
        raise InsufficientStock(short)
    return {(sku, store.id): qty for sku, qty in lines.items()}


def plan_shipment(
    locations: list[Location], destination: Destination, lines: dict[str, int], available: Available
) -> Plan:
    """One location that fills everything, nearest first; else as few locations as possible."""
    ranked = rank(
        [loc for loc in locations if loc.ships and any(available(s, loc.id) for s in lines)],
        destination,
    )
    short = [
        ShortLine(sku, "", qty, total)
        for sku, qty in lines.items()
        if (total := sum(available(sku, loc.id) for loc in ranked)) < qty
    ]
    if short:
        raise InsufficientStock(short)
    for loc in ranked:
        if all(available(sku, loc.id) >= qty for sku, qty in lines.items()):
            return {(sku, loc.id): qty for sku, qty in lines.items()}
    return _fewest_locations(ranked, lines, available)


@dataclass(frozen=True, slots=True)
class SourcingRule:
    """One step of a channel's sourcing for ship orders: the locations it may use (ids and
    regions; empty: any), whether stores may ship, at most how many locations per order
    (0: any number), and whether only the destination's region may."""

    location_ids: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    stores_may_ship: bool = False
    max_locations: int = 0
    same_region_only: bool = False

    def admits(self, loc: Location, destination: Destination) -> bool:
        return (
            (not self.location_ids or loc.id in self.location_ids)
            and (not self.regions or loc.region in self.regions)
            and (self.stores_may_ship or loc.kind is not LocationKind.STORE)
            and (not self.same_region_only or loc.region == destination.region)
        )


def plan_by_rules(
    rules: list[SourcingRule],
    locations: list[Location],
    destination: Destination,
    lines: dict[str, int],
    available: Available,
) -> Plan:
    """The plan of the first rule, in order, that fills every line within its limits (see
    by_rules)."""
    return by_rules(
        rules,
        locations,
        destination,
        lines,
        lambda admitted: plan_shipment(admitted, destination, lines, available),
        lambda plan: plan,
    )


def by_rules(
    rules: list[SourcingRule],
    locations: list[Location],
    destination: Destination,
    lines: dict[str, int],
    attempt: Callable[[list[Location]], T],
    plan_of: Callable[[T], Plan],
) -> T:
    """What `attempt` makes of the locations of the first rule, in order, that fills every
    line within its limits. Else the SKUs no rule could cover, each with the most any rule
    could (InsufficientStock); or, when some rule covers each SKU but none the whole order
    within its limits, FailedPrecondition."""
    best = dict.fromkeys(lines, 0)  # per SKU, the most units a rule could give
    for rule in rules:
        admitted = [loc for loc in locations if rule.admits(loc, destination)]
        try:
            made = attempt(admitted)
        except InsufficientStock as exc:
            short = {line.sku: line.available for line in exc.lines}
            for sku, qty in lines.items():
                best[sku] = max(best[sku], short.get(sku, qty))
            continue
        used = {loc for _, loc in plan_of(made)}
        if not rule.max_locations or len(used) <= rule.max_locations:
            return made
        best = dict(lines)  # all there, over more locations than the rule allows
    short_lines = [
        ShortLine(sku, "", qty, best[sku]) for sku, qty in lines.items() if best[sku] < qty
    ]
    if short_lines:
        raise InsufficientStock(short_lines)
    raise FailedPrecondition(
        "no single sourcing rule of the channel fills the whole order within its limits"
    )


def plan_presale(
    candidates: list[Location],
    lines: dict[str, int],
    shelf: Available,
    ahead: Available,
    room: Callable[[str], int | None],
    short_at: str = "",
) -> tuple[Plan, Plan]:
    """Each SKU from the candidates' shelves in turn, then the rest against supply on its way
    to them, in the same order, within the channel's `room` for the SKU (None: no cap).
    Returns every unit's place, and of those the units that wait for supply."""
    plan: Plan = {}
    waiting: Plan = {}
    short = []
    for sku, qty in lines.items():
        rest = qty
        for loc in candidates:
            take = min(rest, shelf(sku, loc.id))
            if take:
                plan[(sku, loc.id)] = take
                rest -= take
        cap = room(sku)
        sold_ahead = 0
        for loc in candidates:
            left = rest if cap is None else min(rest, cap - sold_ahead)
            take = min(left, ahead(sku, loc.id))
            if take:
                plan[(sku, loc.id)] = plan.get((sku, loc.id), 0) + take
                waiting[(sku, loc.id)] = take
                rest -= take
                sold_ahead += take
        if rest:
            short.append(ShortLine(sku, short_at, qty, qty - rest))
    if short:
        raise InsufficientStock(short)
    return plan, waiting


def rank(locations: list[Location], destination: Destination) -> list[Location]:
    """Same region first, then nearest (where coordinates exist), then priority, then id."""

    def key(loc: Location) -> tuple[bool, float, int, str]:
        return (
            loc.region != destination.region,
            _distance_km(loc, destination),
            loc.priority,
            loc.id,
        )

    return sorted(locations, key=key)


def _fewest_locations(ranked: list[Location], lines: dict[str, int], available: Available) -> Plan:
    budget = COMBINATION_BUDGET
    for size in range(2, len(ranked) + 1):
        for combo in itertools.combinations(ranked, size):
            budget -= 1
            if budget < 0:
                return _greedy(ranked, lines, available)
            if all(sum(available(s, loc.id) for loc in combo) >= q for s, q in lines.items()):
                return _fill_in_order(list(combo), lines, available)
    raise AssertionError("total availability was checked; some combination must fill")


def _greedy(ranked: list[Location], lines: dict[str, int], available: Available) -> Plan:
    """Repeatedly takes the location that covers the most remaining units."""
    remaining = dict(lines)
    chosen: list[Location] = []
    while any(remaining.values()):
        best = max(
            (loc for loc in ranked if loc not in chosen),
            key=lambda loc: sum(min(available(s, loc.id), q) for s, q in remaining.items()),
        )
        chosen.append(best)
        for sku, qty in remaining.items():
            remaining[sku] = qty - min(available(sku, best.id), qty)
    return _fill_in_order([loc for loc in ranked if loc in chosen], lines, available)


def _fill_in_order(chosen: list[Location], lines: dict[str, int], available: Available) -> Plan:
    plan: Plan = {}
    for sku, qty in lines.items():
        for loc in chosen:
            take = min(qty, available(sku, loc.id))
            if take:
                plan[(sku, loc.id)] = take
                qty -= take
    return plan


def _distance_km(loc: Location, dest: Destination) -> float:
    if loc.latitude is None or loc.longitude is None:
        return math.inf
    if dest.latitude is None or dest.longitude is None:
        return math.inf
    lat1, lon1, lat2, lon2 = (
        math.radians(v) for v in (loc.latitude, loc.longitude, dest.latitude, dest.longitude)
    )
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))
