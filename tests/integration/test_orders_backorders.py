"""Orders sold against supply on its way (SQLite and PostgreSQL): CONFIRMED as backordered
with their due date, never more than the channel's cap however many replicas take them;
filled first come, first served when the supply arrives, then shipped; cut with a refund when
it will not come; a pickup task opens only once the units are at the store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.js.api import DeliverPolicy

from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as spb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.integration.conftest import Cluster
from tests.integration.test_backorders import allow
from tests.integration.test_orders import order_request
from tests.integration.test_pickup import AT_STORE, STORE, Bopis, bopis, task_of
from tests.integration.test_purchase_orders import new_order, receipt


@pytest.fixture
async def shop(
    database_url: str, new_database: NewDatabase, nats_server: EmbeddedNats
) -> AsyncIterator[Bopis]:
    urls = {
        "stock": database_url,
        "orders": await new_database("orders"),
        "pickup": await new_database("pickup"),
    }
    async with bopis(urls, nats_server) as running:
        yield running


async def orders_of(cluster: Cluster, ids: list[str]) -> list[opb.Order] | None:
    """The orders, once none is PENDING."""
    got = [(await cluster.orders[0].stub.GetOrder(opb.GetOrderRequest(id=i))).order for i in ids]
    return None if any(o.status == opb.ORDER_STATUS_PENDING for o in got) else got


def backordered(order: opb.Order) -> int:
    return sum(a.backordered for ln in order.lines for a in ln.allocations)


async def test_preorders_through_two_replicas_confirm_exactly_the_cap_then_fill_and_ship(
    cluster: Cluster,
) -> None:
    stock = cluster.stock[0].stub
    sku = unique("DROP")
    po = (await stock.CreatePurchaseOrder(new_order("WH-N", days=14, **{sku: 40}))).purchase_order
    await allow(stock, sku, cap=25, kind=spb.PRESALE_KIND_PREORDER)
    requests = [order_request(unique("k"), {sku: 1}) for _ in range(60)]
    placed = await asyncio.gather(
        *(
            cluster.orders[i % 2].stub.PlaceOrder(request, timeout=30)
            for i, request in enumerate(requests)
        )
    )
    ids = [p.order.id for p in placed]
    final = await eventually(lambda: orders_of(cluster, ids), within=30)
    confirmed = [o for o in final if o.status == opb.ORDER_STATUS_CONFIRMED]
    assert len(confirmed) == 25
    assert all(o.status == opb.ORDER_STATUS_REJECTED for o in final if o not in confirmed)
    due = po.lines[0].expected_at.ToDatetime()
    for order in confirmed:
        (allocation,) = order.lines[0].allocations
        assert (allocation.backordered, allocation.location_id) == (1, "WH-N")
        assert allocation.expected_at.ToDatetime() == due
    level = (await stock.GetAvailability(spb.GetAvailabilityRequest(skus=[sku]))).levels
    assert [(lv.backordered, lv.incoming, lv.available) for lv in level] == [(25, 40, 0)]

    # Ten arrive: the ten oldest preorders are filled, the others still wait.
    await cluster.stock[1].stub.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 10}))

    async def ten_filled() -> list[opb.Order] | None:
        now = [
            (await cluster.orders[1].stub.GetOrder(opb.GetOrderRequest(id=o.id))).order
            for o in confirmed
        ]
        return now if sum(backordered(o) == 0 for o in now) == 10 else None

    now = await eventually(ten_filled, within=15)
    filled = [o for o in now if backordered(o) == 0]
    # First come: the filled ones are the ones whose reservations were made first.
    made = {
        o.id: (
            await stock.GetReservation(spb.GetReservationRequest(id=o.reservation_id))
        ).reservation.created_at.ToDatetime()
        for o in now
    }
    assert max(made[o.id] for o in filled) <= min(made[o.id] for o in now if backordered(o))

    # A filled order ships; one still waiting cannot.
    def shipment(order_id: str) -> opb.RecordShipmentRequest:
        return opb.RecordShipmentRequest(
            order_id=order_id,
            shipment_id="s1",
            location_id="WH-N",
            lines=[opb.ShipmentLine(sku=sku, quantity=1)],
        )

    shipped = await cluster.orders[0].stub.RecordShipment(shipment(filled[0].id))
    assert shipped.order.status == opb.ORDER_STATUS_FULFILLED
    waiting = next(o for o in now if backordered(o))
    with pytest.raises(Exception, match="backordered"):
        await cluster.orders[0].stub.RecordShipment(shipment(waiting.id))


async def test_supply_that_will_not_come_cancels_the_orders_waiting_for_it_with_a_refund(
    cluster: Cluster,
) -> None:
    stock, orders = cluster.stock[0].stub, cluster.orders[0]
    sku = unique("LATE")
    po = (await stock.CreatePurchaseOrder(new_order("WH-N", days=5, **{sku: 4}))).purchase_order
    await allow(stock, sku)
    events = await orders.bus.jetstream().subscribe(
        "orders.events.cancelled", deliver_policy=DeliverPolicy.NEW
    )
    placed = [
        (await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}, price=500))).order
        for _ in range(2)
    ]
    ids = [o.id for o in placed]
    await eventually(lambda: orders_of(cluster, ids), within=15)
    # Half of it is cut: the newer order loses its units and is cancelled, refunded in full.
    cut = spb.AmendPurchaseOrderRequest(
        id=po.id, lines=[spb.PurchaseOrderAmendment(sku=sku, quantity=2)]
    )
    await stock.AmendPurchaseOrder(cut)
    event = orders_msg.OrderChanged.FromString((await events.next_msg(10)).data)
    assert event.order.id == ids[1] and event.refund_due == 1000
    assert "cut" in event.order.reason
    older = (await orders.stub.GetOrder(opb.GetOrderRequest(id=ids[0]))).order
    assert older.status == opb.ORDER_STATUS_CONFIRMED and backordered(older) == 2


async def test_a_pickup_task_opens_once_backordered_units_reach_the_store(shop: Bopis) -> None:
    stock = shop.stock.stub
    sku = unique("PU")
    po = (await stock.CreatePurchaseOrder(new_order(STORE, days=3, **{sku: 2}))).purchase_order
    await allow(stock, sku)
    order = (
        await shop.orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}, **AT_STORE))
    ).order

    async def confirmed() -> opb.Order | None:
        got = (await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))).order
        return got if got.status == opb.ORDER_STATUS_CONFIRMED else None

    assert backordered(await eventually(confirmed, within=10)) == 2
    await asyncio.sleep(1)  # time enough for a task to open, were it to
    queue = await shop.pickup.stub.ListPickups(ppb.ListPickupsRequest(store_id=STORE))
    assert order.id not in {t.order_id for t in queue.tasks}
    await stock.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 2}))
    task = await task_of(shop, order.id)
    assert [(ln.sku, ln.quantity) for ln in task.lines] == [(sku, 2)]
