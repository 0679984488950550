"""Two orders replicas and two stock replicas: scarce stock is never over-promised, and a
change made through one replica reaches watchers on the other."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from omni.orders.v1 import orders_pb2 as opb
from omni.platform.natsserver import EmbeddedNats
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import Orders, Stock, running_orders, running_stock
from tests.helpers.stock import add_location, level_of, receive
from tests.integration.test_orders import order_request


@dataclass
class Cluster:
    stock: list[Stock]
    orders: list[Orders]


@pytest.fixture
async def cluster(
    database_url: str, new_database: NewDatabase, nats_server: EmbeddedNats
) -> AsyncIterator[Cluster]:
    orders_url = await new_database("orders")
    url = nats_server.url
    async with (
        running_stock(database_url, url) as s1,
        running_stock(database_url, url, migrate_on_start=False) as s2,
        running_orders(orders_url, url) as o1,
        running_orders(orders_url, url, migrate_on_start=False) as o2,
    ):
        for service in (s1.app, s2.app, o1.app, o2.app):
            await service.nats.ready.wait()
        await add_location(s1.stub, "WH-N", region="north")
        await add_location(s1.stub, "WH-S", region="south")
        yield Cluster([s1, s2], [o1, o2])


async def test_competing_orders_through_two_replicas_never_confirm_more_than_stock(
    cluster: Cluster,
) -> None:
    sku = unique("HOT")
    await receive(cluster.stock[0].stub, sku, "WH-N", 20)
    await receive(cluster.stock[1].stub, sku, "WH-S", 10)
    rng = random.Random(7)
    requests = [order_request(unique("k"), {sku: rng.choice((1, 2))}) for _ in range(120)]
    placed = await asyncio.gather(
        *(
            cluster.orders[i % 2].stub.PlaceOrder(request, timeout=30)
            for i, request in enumerate(requests)
        )
    )
    ids = [p.order.id for p in placed]

    async def all_decided() -> list[opb.Order] | None:
        got = [
            (await cluster.orders[0].stub.GetOrder(opb.GetOrderRequest(id=i))).order for i in ids
        ]
        return None if any(o.status == opb.ORDER_STATUS_PENDING for o in got) else got

    final = await eventually(all_decided, within=30)
    confirmed = [o for o in final if o.status == opb.ORDER_STATUS_CONFIRMED]
    rejected = [o for o in final if o.status == opb.ORDER_STATUS_REJECTED]
    assert len(confirmed) + len(rejected) == 120
    promised = sum(a.quantity for o in confirmed for ln in o.lines for a in ln.allocations)
    levels = [await level_of(cluster.stock[0].stub, sku, loc) for loc in ("WH-N", "WH-S")]
    # Stock holds exactly what the confirmed orders were promised: rejected ones hold nothing.
    assert promised == sum(lv.reserved for lv in levels) <= 30
    assert all(not o.reservation_id and o.short_lines for o in rejected)
    # Nothing left that any rejected order could have taken.
    assert sum(lv.available for lv in levels) < max(ln.quantity for o in rejected for ln in o.lines)


async def test_a_change_through_one_replica_reaches_a_watcher_on_the_other(
    cluster: Cluster,
) -> None:
    sku = unique("A")
    await receive(cluster.stock[0].stub, sku, "WH-N", 5)
    one, other = cluster.orders
    order = (await one.stub.PlaceOrder(order_request(unique("k"), {sku: 1}))).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    stream = other.stub.WatchOrder(opb.WatchOrderRequest(id=order.id))
    first = await asyncio.wait_for(stream.read(), 5)
    assert (first.order.status, first.order.version) == (opb.ORDER_STATUS_CONFIRMED, 2)
    await one.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))
    change = await asyncio.wait_for(stream.read(), 5)
    assert (change.order.status, change.order.version) == (opb.ORDER_STATUS_CANCELLED, 3)
    stream.cancel()
