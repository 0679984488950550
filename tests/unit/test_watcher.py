"""A watcher's view: newest level per key, never backwards, memory bounded by its keys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from omni.stock.domain.model import StockLevel
from omni.stock.entrypoints.availability import Promises, Watcher
from omni.stock.v1 import stock_pb2 as pb


def level(sku: str, location: str, version: int) -> pb.StockLevel:
    return pb.StockLevel(sku=sku, location_id=location, version=version, available=version)


async def next_levels(watcher: Watcher, count: int) -> list[tuple[str, int]]:
    stream = watcher.updates()
    return [(u.level.sku, u.level.version) for u in [await anext(stream) for _ in range(count)]]


async def test_a_slow_reader_gets_only_the_newest_version_of_each_key() -> None:
    watcher = Watcher(["A", "B"], ["L1"])
    for version in range(1, 101):
        watcher.offer(level("A", "L1", version))
    watcher.offer(level("B", "L1", 3))
    assert watcher.waiting == 2  # bounded by the keys, not by the changes
    assert await next_levels(watcher, 2) == [("A", 100), ("B", 3)]


async def test_versions_never_go_backwards_even_when_changes_arrive_out_of_order() -> None:
    watcher = Watcher(["A"], ["L1"])
    watcher.offer(level("A", "L1", 5))
    assert await next_levels(watcher, 1) == [("A", 5)]
    watcher.offer(level("A", "L1", 4))  # late, e.g. from a resync racing a newer change
    watcher.offer(level("A", "L1", 5))  # the same version again (a duplicate delivery)
    assert watcher.waiting == 0
    watcher.offer(level("A", "L1", 6))
    assert await next_levels(watcher, 1) == [("A", 6)]


async def test_a_watcher_ignores_keys_it_did_not_ask_for() -> None:
    some = Watcher(["A"], ["L1"])
    everywhere = Watcher(["A"], [])
    for changed in (level("A", "L2", 1), level("B", "L1", 1)):
        some.offer(changed)
        everywhere.offer(changed)
    assert (some.waiting, everywhere.waiting) == (0, 1)


async def test_a_reader_waits_until_there_is_something_new() -> None:
    watcher = Watcher(["A"], ["L1"])
    reading = asyncio.ensure_future(next_levels(watcher, 1))
    await asyncio.sleep(0.01)
    assert not reading.done()
    watcher.offer(level("A", "L1", 0))  # a level that was never changed still has a value
    assert await reading == [("A", 0)]


async def test_network_availability_counts_shipping_locations_and_is_sent_when_it_changes() -> None:
    from omni.stock.domain.model import Location, LocationKind

    places = {
        "WH": Location("WH", "WH", LocationKind.WAREHOUSE, ships=True),
        "SHOP": Location("SHOP", "SHOP", LocationKind.STORE, ships=False),
    }
    watcher = Watcher(["A"], ["SHOP"], places=places)
    watcher.offer(level("A", "WH", 3))
    watcher.offer(level("A", "SHOP", 7))
    watcher.settle_network()
    updates = watcher.updates()
    first = [await anext(updates) for _ in range(2)]
    assert (first[0].level.location_id, first[1].network.available) == ("SHOP", 3)
    watcher.offer(level("A", "SHOP", 8))  # not shipping: no network change
    watcher.offer(level("A", "WH", 5))
    later = [await anext(updates) for _ in range(2)]
    assert (later[0].level.available, later[1].network.available) == (8, 5)


def test_a_watch_by_a_time_promises_what_the_domain_does_units_sold_ahead_left_out() -> None:
    promises = Promises(datetime(2027, 1, 1, tzinfo=UTC))
    promises.set_due(["A"], {("A", "L1"): 5})
    sold_ahead = pb.StockLevel(
        sku="A", location_id="L1", on_hand=10, reserved=2, incoming=8, backordered=4
    )
    rule = StockLevel("A", "L1", on_hand=10, reserved=2, incoming=8, backordered=4)
    assert promises.promised(sold_ahead, lambda units, _loc: units) == rule.available_with(5) == 9
