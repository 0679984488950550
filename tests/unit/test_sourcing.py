"""The sourcing policy (docs/api.md, "Stock in a few words"), as a table of cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from omni.platform.errors import FailedPrecondition
from omni.stock.domain.model import InsufficientStock, Location, LocationKind
from omni.stock.domain.sourcing import (
    Destination,
    SourcingRule,
    plan_by_rules,
    plan_pickup,
    plan_shipment,
)

W, S = LocationKind.WAREHOUSE, LocationKind.STORE
NETWORK = [
    Location(
        "WH-EAST", "East", W, ships=True, region="east", latitude=40.7, longitude=-74.0, priority=1
    ),
    Location(
        "WH-WEST", "West", W, ships=True, region="west", latitude=37.8, longitude=-122.4, priority=1
    ),
    Location(
        "WH-CENTRAL",
        "Central",
        W,
        ships=True,
        region="central",
        latitude=41.9,
        longitude=-87.6,
        priority=0,
    ),
    Location(
        "ST-BOSTON",
        "Boston",
        S,
        ships=True,
        pickup=True,
        region="east",
        latitude=42.4,
        longitude=-71.1,
        priority=5,
    ),
    Location("ST-NOSHIP", "No ship", S, pickup=True, region="east", priority=0),
    Location("WH-NOCOORD", "No coordinates", W, ships=True, region="east", priority=9),
]
BOSTON = Destination("east", 42.36, -71.06)
NYC = Destination("east", 40.71, -74.0)
CHICAGO = Destination("central", 41.88, -87.63)
NOWHERE = Destination("south")

CASES = [
    # (name, stock {location: {sku: qty}}, destination, lines, expected plan)
    (
        "one location fills all: nearest in the same region wins",
        {"WH-EAST": {"A": 5}, "ST-BOSTON": {"A": 5}, "WH-CENTRAL": {"A": 5}},
        BOSTON,
        {"A": 2},
        {("A", "ST-BOSTON"): 2},
    ),
    (
        "same region beats a nearer location in another region",
        {"WH-EAST": {"A": 5}, "WH-CENTRAL": {"A": 5}},
        NYC,
        {"A": 1},
        {("A", "WH-EAST"): 1},
    ),
    (
        "distance orders within the region",
        {"WH-EAST": {"A": 5}, "ST-BOSTON": {"A": 5}},
        NYC,
        {"A": 1},
        {("A", "WH-EAST"): 1},
    ),
    (
        "without coordinates, priority decides",
        {"WH-EAST": {"A": 5}, "WH-WEST": {"A": 5}, "WH-CENTRAL": {"A": 5}},
        NOWHERE,
        {"A": 1},
        {("A", "WH-CENTRAL"): 1},
    ),
    (
        "a location that fills everything beats a nearer one that fills part",
        {"ST-BOSTON": {"A": 5}, "WH-WEST": {"A": 5, "B": 5}},
        BOSTON,
        {"A": 1, "B": 1},
        {("A", "WH-WEST"): 1, ("B", "WH-WEST"): 1},
    ),
    (
        "locations that do not ship are never chosen",
        {"ST-NOSHIP": {"A": 5}, "WH-WEST": {"A": 5}},
        BOSTON,
        {"A": 1},
        {("A", "WH-WEST"): 1},
    ),
    (
        "split across two when none fills alone, nearest first",
        {"ST-BOSTON": {"A": 2}, "WH-EAST": {"A": 2}, "WH-WEST": {"A": 1}},
        BOSTON,
        {"A": 4},
        {("A", "ST-BOSTON"): 2, ("A", "WH-EAST"): 2},
    ),
    (
        "split prefers two locations over three even when they are further",
        {
            "ST-BOSTON": {"A": 1, "B": 0},
            "WH-EAST": {"B": 1},
            "WH-WEST": {"A": 1, "B": 1},
            "WH-CENTRAL": {"A": 1},
        },
        BOSTON,
        {"A": 2, "B": 1},
        {("A", "ST-BOSTON"): 1, ("A", "WH-WEST"): 1, ("B", "WH-WEST"): 1},
    ),
    (
        "a line may itself be split",
        {"WH-EAST": {"A": 3}, "WH-WEST": {"A": 3}},
        CHICAGO,
        {"A": 5},
        {("A", "WH-EAST"): 3, ("A", "WH-WEST"): 2},
    ),
]


@pytest.mark.parametrize(
    ("stock", "dest", "lines", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_ship_orders_are_sourced_by_the_policy(
    stock: dict[str, dict[str, int]],
    dest: Destination,
    lines: dict[str, int],
    expected: dict[tuple[str, str], int],
) -> None:
    plan = plan_shipment(NETWORK, dest, lines, lambda s, loc: stock.get(loc, {}).get(s, 0))
    assert plan == expected


def test_a_ship_order_the_network_cannot_fill_names_each_short_sku_with_network_stock() -> None:
    stock = {"WH-EAST": {"A": 1, "B": 9}, "WH-WEST": {"A": 1}, "ST-NOSHIP": {"A": 10}}
    with pytest.raises(InsufficientStock) as short:
        plan_shipment(
            NETWORK, BOSTON, {"A": 3, "B": 1}, lambda s, loc: stock.get(loc, {}).get(s, 0)
        )
    assert [(s.sku, s.location_id, s.requested, s.available) for s in short.value.lines] == [
        ("A", "", 3, 2)
    ]


def test_pickup_takes_everything_from_the_chosen_store_only() -> None:
    store = NETWORK[3]
    stock = {"ST-BOSTON": {"A": 2}, "WH-EAST": {"A": 100}}
    available = lambda s, loc: stock.get(loc, {}).get(s, 0)  # noqa: E731
    assert plan_pickup(store, {"A": 2}, available) == {("A", "ST-BOSTON"): 2}
    with pytest.raises(InsufficientStock) as short:
        plan_pickup(store, {"A": 3}, available)
    assert short.value.lines[0].location_id == "ST-BOSTON"


def test_pickup_at_a_location_without_pickup_is_refused() -> None:
    with pytest.raises(FailedPrecondition, match="does not accept pickup"):
        plan_pickup(NETWORK[0], {"A": 1}, lambda s, loc: 10)


def stocked(**units: dict[str, int]) -> Callable[[str, str], int]:
    """available(sku, location) from {location: {sku: units}}."""
    return lambda sku, loc: units.get(loc, {}).get(sku, 0)


EAST = Destination("east", 40.7, -74.0)


def test_the_first_rule_that_fills_the_order_within_its_limits_decides() -> None:
    available = stocked(**{"WH-EAST": {"A": 1}, "WH-WEST": {"A": 5}, "ST-BOSTON": {"A": 5}})
    rules = [
        SourcingRule(regions=frozenset({"east"}), max_locations=1),  # 1 in the east only
        SourcingRule(stores_may_ship=True, location_ids=frozenset({"ST-BOSTON"})),
    ]
    assert plan_by_rules(rules, NETWORK, EAST, {"A": 3}, available) == {("A", "ST-BOSTON"): 3}
    assert plan_by_rules(rules, NETWORK, EAST, {"A": 1}, available) == {("A", "WH-EAST"): 1}


def test_skus_short_under_every_rule_are_named_with_the_most_any_rule_could_give() -> None:
    available = stocked(**{"WH-EAST": {"A": 5}, "WH-WEST": {"B": 2}})
    east, west = (
        SourcingRule(location_ids=frozenset({"WH-EAST"})),
        SourcingRule(location_ids=frozenset({"WH-WEST"})),
    )
    with pytest.raises(InsufficientStock) as short:
        plan_by_rules([east, west], NETWORK, EAST, {"A": 3, "B": 3}, available)
    assert [(s.sku, s.available) for s in short.value.lines] == [("B", 2)]
    # Each SKU is covered by a rule, but no single rule covers both.
    with pytest.raises(FailedPrecondition, match="no single sourcing rule"):
        plan_by_rules([east, west], NETWORK, EAST, {"A": 3, "B": 2}, available)


def test_a_rule_admits_stores_only_when_they_may_ship_and_regions_only_as_told() -> None:
    boston = NETWORK[3]
    assert not SourcingRule().admits(boston, EAST)
    assert SourcingRule(stores_may_ship=True).admits(boston, EAST)
    assert not SourcingRule(stores_may_ship=True, same_region_only=True).admits(
        boston, Destination("west")
    )
