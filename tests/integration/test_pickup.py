"""Buy online, pick up in store: from a web order to the customer's hands, or back on sale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as spb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import (
    TEST_CODE_KEY,
    Orders,
    Pickup,
    Stock,
    running_orders,
    running_pickup,
    running_stock,
)
from tests.helpers.stock import add_location, as_domain, ledger_fold, level_of, receive
from tests.integration.test_orders import order_request

STORE = "STORE-1"
AT_STORE = {"pickup": cpb.PickupAt(location_id=STORE)}
DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass
class Bopis:
    stock: Stock
    orders: Orders
    pickup: Pickup


@pytest.fixture
async def urls(database_url: str, new_database: NewDatabase) -> dict[str, str]:
    return {
        "stock": database_url,
        "orders": await new_database("orders"),
        "pickup": await new_database("pickup"),
    }


@asynccontextmanager
async def bopis(urls: dict[str, str], nats: EmbeddedNats, **pickup: Any) -> AsyncIterator[Bopis]:
    """Stock (a warehouse and STORE-1), orders and pickup, each on its own database."""
    async with (
        running_stock(urls["stock"], nats) as stock,
        running_orders(urls["orders"], nats) as orders,
        running_pickup(urls["pickup"], nats, **pickup) as pickup_service,
    ):
        for service in (stock.app, orders.app, pickup_service.app):
            await service.nats.ready.wait()
        await add_location(stock.stub, "WH-N", region="north")
        kind = spb.LOCATION_KIND_STORE
        await add_location(stock.stub, STORE, kind=kind, ships=False, pickup=True, region="north")
        yield Bopis(stock, orders, pickup_service)


@pytest.fixture
async def shop(urls: dict[str, str], nats_server: EmbeddedNats) -> AsyncIterator[Bopis]:
    async with bopis(urls, nats_server) as running:
        yield running


async def order_for_pickup(shop: Bopis, lines: dict[str, int]) -> opb.Order:
    for sku, qty in lines.items():
        await receive(shop.stock.stub, sku, STORE, qty + 2)
    reply = await shop.orders.stub.PlaceOrder(order_request(unique("k"), lines, **AT_STORE))
    assert reply.order.status == opb.ORDER_STATUS_CONFIRMED
    return reply.order


async def task_of(shop: Bopis, order_id: str) -> ppb.PickupTask:
    """The order's task, once the pickup service has opened it."""

    async def opened() -> ppb.PickupTask | None:
        queue = await shop.pickup.stub.ListPickups(ppb.ListPickupsRequest(store_id=STORE))
        return next((t for t in queue.tasks if t.order_id == order_id), None)

    return await eventually(opened, within=10)


async def order_status(shop: Bopis, order_id: str, status: int) -> None:
    async def reached() -> bool:
        reply = await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order_id))
        return reply.order.status == status

    await eventually(reached, within=10)


async def ready_with_code(shop: Bopis, task: ppb.PickupTask) -> str:
    """Picks every unit still to pick, marks the task READY, and returns the code the
    customer receives (opened from the ready event, as the notification system does)."""
    events = await shop.pickup.bus.jetstream().subscribe(
        "pickup.events.ready", deliver_policy=DeliverPolicy.NEW
    )
    stub = shop.pickup.stub
    await stub.StartPicking(ppb.StartPickingRequest(id=task.id, associate_id="assoc-1"))
    for line in task.lines:
        for n in range(line.picked, line.quantity - line.short + line.arrived):
            pick = ppb.RecordPickRequest(id=task.id, scan_id=f"{line.sku}-{n}", sku=line.sku)
            assert not (await stub.RecordPick(pick)).duplicate
            assert (await stub.RecordPick(pick)).duplicate  # resent: harmless
    ready = (await stub.MarkReady(ppb.MarkReadyRequest(id=task.id))).task
    assert ready.status == ppb.PICKUP_STATUS_READY and ready.HasField("hold_until")
    event = pickup_msg.PickupChanged.FromString((await events.next_msg(5)).data)
    assert event.task.id == task.id and event.task.customer_id == "cust-1"
    return Sealer(TEST_CODE_KEY).open(event.sealed_code)


def complete(task_id: str, code: str) -> ppb.CompletePickupRequest:
    return ppb.CompletePickupRequest(id=task_id, code=code, associate_id="assoc-1")


async def test_a_web_order_is_picked_readied_and_collected(shop: Bopis) -> None:
    a, b = unique("A"), unique("B")
    order = await order_for_pickup(shop, {a: 2, b: 1})
    task = await task_of(shop, order.id)
    assert task.status == ppb.PICKUP_STATUS_PLACED
    assert {(ln.sku, ln.quantity) for ln in task.lines} == {(a, 2), (b, 1)}
    code = await ready_with_code(shop, task)
    assert len(code) == 9 and code[4] == "-"
    collected = await shop.pickup.stub.CompletePickup(complete(task.id, code.lower()))
    assert collected.task.status == ppb.PICKUP_STATUS_COLLECTED
    await order_status(shop, order.id, opb.ORDER_STATUS_FULFILLED)

    async def committed() -> bool:
        level = await level_of(shop.stock.stub, a, STORE)
        return (level.on_hand, level.reserved) == (2, 0)  # 4 received, exactly 2 picked

    await eventually(committed)
    level_b = await level_of(shop.stock.stub, b, STORE)
    assert (level_b.on_hand, level_b.reserved) == (2, 0)
    assert await ledger_fold(shop.stock.stub, a, STORE) == as_domain(
        await level_of(shop.stock.stub, a, STORE)
    )


async def test_five_wrong_codes_lock_the_task_until_a_manager_unlocks_it(shop: Bopis) -> None:
    order = await order_for_pickup(shop, {unique("A"): 1})
    task = await task_of(shop, order.id)
    code = await ready_with_code(shop, task)
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    for _ in range(5):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await shop.pickup.stub.CompletePickup(complete(task.id, wrong))
        assert refused.value.code() == DENIED
    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await shop.pickup.stub.CompletePickup(complete(task.id, code))
    assert locked.value.code() == DENIED and "locked" in (locked.value.details() or "")
    got = (await shop.pickup.stub.GetPickup(ppb.GetPickupRequest(id=task.id))).task
    assert (got.status, got.failed_attempts) == (ppb.PICKUP_STATUS_LOCKED, 5)
    unlock = ppb.UnlockPickupRequest(id=task.id, manager_id="mgr-1")
    assert (await shop.pickup.stub.UnlockPickup(unlock)).task.status == ppb.PICKUP_STATUS_READY
    collected = await shop.pickup.stub.CompletePickup(complete(task.id, code))
    assert collected.task.status == ppb.PICKUP_STATUS_COLLECTED


async def test_a_pickup_not_collected_in_time_expires_and_its_units_go_back_on_sale(
    urls: dict[str, str], nats_server: EmbeddedNats
) -> None:
    async with bopis(urls, nats_server, hold_seconds=0.5) as shop:
        a = unique("A")
        order = await order_for_pickup(shop, {a: 2})
        assert (await level_of(shop.stock.stub, a, STORE)).available == 2
        expired = await shop.pickup.bus.jetstream().subscribe(
            "pickup.events.expired", deliver_policy=DeliverPolicy.NEW
        )
        task = await task_of(shop, order.id)
        await ready_with_code(shop, task)
        event = pickup_msg.PickupChanged.FromString((await expired.next_msg(5)).data)
        assert (event.task.id, event.refund_due) == (task.id, 2 * 1999)
        await order_status(shop, order.id, opb.ORDER_STATUS_CANCELLED)

        async def on_sale_again() -> bool:
            return (await level_of(shop.stock.stub, a, STORE)).available == 4

        await eventually(on_sale_again)


async def test_cancelling_the_order_cancels_its_task(shop: Bopis) -> None:
    a = unique("A")
    order = await order_for_pickup(shop, {a: 1})
    task = await task_of(shop, order.id)
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))

    async def cancelled() -> bool:
        got = await shop.pickup.stub.GetPickup(ppb.GetPickupRequest(id=task.id))
        return got.task.status == ppb.PICKUP_STATUS_CANCELLED

    await eventually(cancelled)

    async def released() -> bool:  # stock releases on its own, from the same cancellation
        return (await level_of(shop.stock.stub, a, STORE)).reserved == 0

    await eventually(released)


async def test_orders_confirmed_while_pickup_is_down_become_tasks_once_it_is_back(
    urls: dict[str, str], nats_server: EmbeddedNats
) -> None:
    async with bopis(urls, nats_server) as shop:
        await shop.pickup.app.stop()  # from here on, pickup is down
        orders = [await order_for_pickup(shop, {unique("A"): 1}) for _ in range(3)]
        for _ in range(2):  # back, and back again after a restart: each order once
            async with running_pickup(urls["pickup"], nats_server) as pickup:
                shop.pickup = pickup
                for order in orders:
                    await task_of(shop, order.id)
                queue = await pickup.stub.ListPickups(ppb.ListPickupsRequest(store_id=STORE))
                assert sorted(t.order_id for t in queue.tasks) == sorted(o.id for o in orders)


async def test_steps_out_of_order_are_refused_and_change_nothing(shop: Bopis) -> None:
    a = unique("A")
    order = await order_for_pickup(shop, {a: 2})
    task = await task_of(shop, order.id)
    stub = shop.pickup.stub
    pick = ppb.RecordPickRequest(id=task.id, scan_id="s1", sku=a)
    refused = [
        stub.RecordPick(pick),  # not started
        stub.MarkReady(ppb.MarkReadyRequest(id=task.id)),
        stub.CompletePickup(complete(task.id, "ABCD-EFGH")),  # not ready
        stub.UnlockPickup(ppb.UnlockPickupRequest(id=task.id, manager_id="m")),
    ]
    for call in refused:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call
        assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await stub.StartPicking(ppb.StartPickingRequest(id=task.id, associate_id="a-1"))
    too_many = ppb.RecordPickRequest(id=task.id, scan_id="s2", sku=a, quantity=3)
    for call in (
        stub.RecordPick(too_many),
        stub.MarkReady(ppb.MarkReadyRequest(id=task.id)),  # nothing picked yet
        stub.RecordPick(ppb.RecordPickRequest(id=task.id, scan_id="s3", sku="OTHER")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call
        assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    got = (await stub.GetPickup(ppb.GetPickupRequest(id=task.id))).task
    assert (got.status, got.lines[0].picked) == (ppb.PICKUP_STATUS_PICKING, 0)
