"""Orders: placed, allocated by stock over NATS, shipped, cancelled — on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as spb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import Orders, Stock, running_orders, running_stock
from tests.helpers.stock import add_location, level_of, receive

NORTH = cpb.ShipTo(region="north", latitude=59.3, longitude=18.1)


@dataclass
class Shop:
    stock: Stock
    orders: Orders


@pytest.fixture
async def shop(
    database_url: str, new_database: NewDatabase, nats_server: EmbeddedNats
) -> AsyncIterator[Shop]:
    async with (
        running_stock(database_url, nats_server) as stock,
        running_orders(await new_database("orders"), nats_server) as orders,
    ):
        await add_location(stock.stub, "WH-N", region="north", latitude=59.3, longitude=18.1)
        await add_location(stock.stub, "WH-S", region="south", latitude=41.4, longitude=2.2)
        await add_location(
            stock.stub,
            "STORE-1",
            kind=spb.LOCATION_KIND_STORE,
            ships=False,
            pickup=True,
            region="north",
        )
        for service in (stock.app, orders.app):
            await service.nats.ready.wait()
        yield Shop(stock, orders)


def order_request(
    key: str, lines: dict[str, int], *, price: int = 1999, **fulfilment: object
) -> opb.PlaceOrderRequest:
    return opb.PlaceOrderRequest(
        idempotency_key=key,
        channel=cpb.CHANNEL_WEB,
        customer_id="cust-1",
        currency="EUR",
        lines=[opb.PlaceOrderLine(sku=s, quantity=q, unit_price=price) for s, q in lines.items()],
        **(fulfilment or {"ship": NORTH}),
    )


def allocations(order: opb.Order) -> dict[tuple[str, str], int]:
    return {(ln.sku, a.location_id): a.quantity for ln in order.lines for a in ln.allocations}


async def place(shop: Shop, request: opb.PlaceOrderRequest) -> opb.Order:
    return (await shop.orders.stub.PlaceOrder(request, timeout=10)).order


async def reserved(shop: Shop, sku: str, location_id: str) -> int:
    return (await level_of(shop.stock.stub, sku, location_id)).reserved


async def test_a_ship_order_is_confirmed_from_one_location_within_the_call(shop: Shop) -> None:
    a, b = unique("A"), unique("B")
    for sku in (a, b):
        await receive(shop.stock.stub, sku, "WH-N", 5)
        await receive(shop.stock.stub, sku, "WH-S", 5)
    order = await place(shop, order_request(unique("k"), {a: 2, b: 3}))
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    assert allocations(order) == {(a, "WH-N"): 2, (b, "WH-N"): 3}
    assert order.total == 5 * 1999 and order.reservation_id
    assert await reserved(shop, a, "WH-N") == 2


async def test_a_ship_order_no_location_can_fill_is_split_across_two(shop: Shop) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 2)
    await receive(shop.stock.stub, a, "WH-S", 3)
    order = await place(shop, order_request(unique("k"), {a: 5}))
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    assert allocations(order) == {(a, "WH-N"): 2, (a, "WH-S"): 3}


async def test_a_pickup_order_is_reserved_at_its_store_only(shop: Shop) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 10)
    await receive(shop.stock.stub, a, "STORE-1", 1)
    pickup = cpb.PickupAt(location_id="STORE-1")
    order = await place(shop, order_request(unique("k"), {a: 1}, pickup=pickup))
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    assert allocations(order) == {(a, "STORE-1"): 1}
    second = await place(shop, order_request(unique("k"), {a: 1}, pickup=pickup))
    assert second.status == opb.ORDER_STATUS_REJECTED  # the warehouse's 10 do not count
    assert await reserved(shop, a, "WH-N") == 0


async def test_an_order_short_of_stock_is_rejected_and_holds_nothing(shop: Shop) -> None:
    a, b = unique("A"), unique("B")
    await receive(shop.stock.stub, a, "WH-N", 5)
    await receive(shop.stock.stub, b, "WH-N", 1)
    order = await place(shop, order_request(unique("k"), {a: 2, b: 4}))
    assert order.status == opb.ORDER_STATUS_REJECTED
    assert [(s.sku, s.requested, s.available) for s in order.short_lines] == [(b, 4, 1)]
    assert b in order.reason
    assert (await reserved(shop, a, "WH-N"), await reserved(shop, b, "WH-N")) == (0, 0)


async def test_a_pickup_order_for_a_store_that_takes_none_is_rejected_with_the_reason(
    shop: Shop,
) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 5)
    pickup = cpb.PickupAt(location_id="WH-N")
    order = await place(shop, order_request(unique("k"), {a: 1}, pickup=pickup))
    assert order.status == opb.ORDER_STATUS_REJECTED
    assert "WH-N" in order.reason and not order.short_lines


async def test_the_same_order_placed_twenty_times_at_once_is_one_order_and_one_reservation(
    shop: Shop,
) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 10)
    request = order_request(unique("k"), {a: 3})
    orders = await asyncio.gather(*(place(shop, request) for _ in range(20)))
    assert len({o.id for o in orders}) == 1
    assert await reserved(shop, a, "WH-N") == 3
    other = order_request(request.idempotency_key, {a: 4})
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await place(shop, other)
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_cancel_releases_the_stock_and_twice_is_harmless(shop: Shop) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 5)
    order = await place(shop, order_request(unique("k"), {a: 4}))
    assert (await level_of(shop.stock.stub, a, "WH-N")).available == 1
    request = opb.CancelOrderRequest(id=order.id, reason="customer changed their mind")
    for _ in range(2):
        cancelled = (await shop.orders.stub.CancelOrder(request)).order
        assert cancelled.status == opb.ORDER_STATUS_CANCELLED

    async def available_again() -> bool:
        return (await level_of(shop.stock.stub, a, "WH-N")).available == 5

    await eventually(available_again)
    assert cancelled.reason == "customer changed their mind"


async def test_shipments_commit_stock_and_move_the_order_to_fulfilled(shop: Shop) -> None:
    a, b = unique("A"), unique("B")
    await receive(shop.stock.stub, a, "WH-N", 5)
    await receive(shop.stock.stub, b, "WH-N", 5)
    order = await place(shop, order_request(unique("k"), {a: 3, b: 1}))
    first = ship_request(order.id, "shp-1", "WH-N", {a: 1})
    for _ in range(2):  # resent: harmless
        part = (await shop.orders.stub.RecordShipment(first)).order
    assert part.status == opb.ORDER_STATUS_PARTIALLY_FULFILLED
    with pytest.raises(grpc.aio.AioRpcError) as too_many:
        await shop.orders.stub.RecordShipment(ship_request(order.id, "shp-2", "WH-N", {a: 3}))
    assert too_many.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
        await shop.orders.stub.RecordShipment(ship_request(order.id, "shp-2", "WH-S", {a: 1}))
    assert elsewhere.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    rest = ship_request(order.id, "shp-2", "WH-N", {a: 2, b: 1})
    done = (await shop.orders.stub.RecordShipment(rest)).order
    assert done.status == opb.ORDER_STATUS_FULFILLED
    assert [s.id for s in done.shipments] == ["shp-1", "shp-2"]

    async def committed() -> bool:
        level = await level_of(shop.stock.stub, a, "WH-N")
        return (level.on_hand, level.reserved) == (2, 0)

    await eventually(committed)
    assert (await level_of(shop.stock.stub, b, "WH-N")).on_hand == 4
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))
    assert late.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_cancelling_after_a_partial_shipment_releases_only_what_did_not_ship(
    shop: Shop,
) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 5)
    order = await place(shop, order_request(unique("k"), {a: 4}))
    await shop.orders.stub.RecordShipment(ship_request(order.id, "shp-1", "WH-N", {a: 1}))
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))

    async def settled() -> bool:
        level = await level_of(shop.stock.stub, a, "WH-N")
        return (level.on_hand, level.reserved, level.available) == (4, 0, 4)

    await eventually(settled)


def ship_request(
    order_id: str, shipment_id: str, location_id: str, lines: dict[str, int]
) -> opb.RecordShipmentRequest:
    return opb.RecordShipmentRequest(
        order_id=order_id,
        shipment_id=shipment_id,
        location_id=location_id,
        lines=[opb.ShipmentLine(sku=s, quantity=q) for s, q in lines.items()],
        carrier="postnord",
        tracking_number="TRACK-1",
    )


async def test_every_change_is_an_event_on_orders_events(shop: Shop) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 5)
    js = shop.orders.bus.jetstream()
    events = await js.subscribe("orders.events.>", deliver_policy=DeliverPolicy.NEW)
    order = await place(shop, order_request(unique("k"), {a: 2}))
    await shop.orders.stub.RecordShipment(ship_request(order.id, "shp-1", "WH-N", {a: 1}))
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))
    seen = []
    for _ in range(4):
        msg = await events.next_msg(5)
        event = orders_msg.OrderChanged.FromString(msg.data)
        assert event.order.id == order.id and msg.headers["Nats-Msg-Id"] == event.event_id
        seen.append((msg.subject, event.order.version))
    assert seen == [
        ("orders.events.placed", 1),
        ("orders.events.confirmed", 2),
        ("orders.events.shipped", 3),
        ("orders.events.cancelled", 4),
    ]


async def test_orders_are_listed_newest_first_by_customer_channel_and_status(shop: Shop) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 3)
    customer = unique("cust")
    placed = []
    for _ in range(5):
        request = order_request(unique("k"), {a: 1})
        request.customer_id = customer
        placed.append(await place(shop, request))
    listed, token = [], ""
    while True:
        page = await shop.orders.stub.ListOrders(
            opb.ListOrdersRequest(customer_id=customer, page_size=2, page_token=token)
        )
        listed += [o.id for o in page.orders]
        token = page.next_page_token
        if not token:
            break
    assert listed == [o.id for o in reversed(placed)]
    rejected = await shop.orders.stub.ListOrders(
        opb.ListOrdersRequest(
            customer_id=customer, channel=cpb.CHANNEL_WEB, status=opb.ORDER_STATUS_REJECTED
        )
    )
    assert [o.id for o in rejected.orders] == [o.id for o in reversed(placed[3:])]
    pos = await shop.orders.stub.ListOrders(
        opb.ListOrdersRequest(customer_id=customer, channel=cpb.CHANNEL_POS)
    )
    assert not pos.orders


async def test_orders_are_listed_by_when_they_were_placed_across_pages(shop: Shop) -> None:
    """The time range is the service's filter: every page holds only orders in it."""
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 3)
    customer = unique("cust")
    placed = []
    for _ in range(3):
        request = order_request(unique("k"), {a: 1})
        request.customer_id = customer
        placed.append(await place(shop, request))
    middle = placed[1].created_at
    since = opb.ListOrdersRequest(customer_id=customer, placed_from=middle, page_size=1)
    listed, token = [], ""
    while True:
        since.page_token = token
        page = await shop.orders.stub.ListOrders(since)
        listed += [o.id for o in page.orders]
        token = page.next_page_token
        if not token:
            break
    assert listed == [placed[2].id, placed[1].id]
    before = await shop.orders.stub.ListOrders(
        opb.ListOrdersRequest(customer_id=customer, placed_before=middle)
    )
    assert [o.id for o in before.orders] == [placed[0].id]
