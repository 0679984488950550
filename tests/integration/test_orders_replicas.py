"""Two orders replicas and two stock replicas: scarce stock is never over-promised, and a
change made through one replica reaches watchers on the other."""

from __future__ import annotations

import asyncio
import random

from omni.orders.v1 import orders_pb2 as opb
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import level_of, receive
from tests.integration.conftest import Cluster
from tests.integration.test_orders import order_request


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
