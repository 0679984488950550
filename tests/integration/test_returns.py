"""Returns: anything bought through any channel, brought back at any location taking returns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.platform.errors import NotFound, Unavailable
from omni.platform.natsserver import EmbeddedNats
from omni.returns.domain.model import KnownOrder
from omni.returns.entrypoints import requests as returns_requests
from omni.returns.service_layer import handlers as returns_handlers
from omni.returns.v1 import messaging_pb2 as returns_msg
from omni.returns.v1 import returns_pb2 as rpb
from omni.stock.v1 import stock_pb2 as spb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import (
    Orders,
    Returns,
    Stock,
    running_orders,
    running_returns,
    running_stock,
)
from tests.helpers.stock import add_location, level_of, receive
from tests.integration.test_orders import order_request

PRICE = 1999
STORE = spb.LOCATION_KIND_STORE


@dataclass
class Shop:
    stock: Stock
    orders: Orders
    returns: Returns


@pytest.fixture
async def urls(database_url: str, new_database: NewDatabase) -> dict[str, str]:
    return {
        "stock": database_url,
        "orders": await new_database("orders"),
        "returns": await new_database("returns"),
    }


@asynccontextmanager
async def shop_running(
    urls: dict[str, str], nats: EmbeddedNats, **returns: Any
) -> AsyncIterator[Shop]:
    async with (
        running_stock(urls["stock"], nats) as stock,
        running_orders(urls["orders"], nats) as orders,
        running_returns(urls["returns"], nats, **returns) as returns_service,
    ):
        for service in (stock.app, orders.app, returns_service.app):
            await service.nats.ready.wait()
        await add_location(stock.stub, "WH-N", region="north", accepts_returns=True)
        for store in ("STORE-1", "STORE-2"):
            await add_location(stock.stub, store, kind=STORE, ships=False, accepts_returns=True)
        await add_location(stock.stub, "STORE-NO", kind=STORE, ships=False)
        yield Shop(stock, orders, returns_service)


@pytest.fixture
async def shop(urls: dict[str, str], nats_server: EmbeddedNats) -> AsyncIterator[Shop]:
    async with shop_running(urls, nats_server) as running:
        yield running


async def shipped_order(shop: Shop, sku: str, qty: int) -> opb.Order:
    """A web order shipped in full from the warehouse."""
    await receive(shop.stock.stub, sku, "WH-N", 10)
    order = (await shop.orders.stub.PlaceOrder(order_request(unique("k"), {sku: qty}))).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    ship = opb.RecordShipmentRequest(
        order_id=order.id,
        shipment_id="box-1",
        location_id="WH-N",
        lines=[opb.ShipmentLine(sku=sku, quantity=qty)],
    )
    return (await shop.orders.stub.RecordShipment(ship)).order


def return_request(
    order_id: str, lines: dict[str, int], location_id: str, channel: int = cpb.CHANNEL_POS
) -> rpb.CreateReturnRequest:
    return rpb.CreateReturnRequest(
        idempotency_key=unique("ret"),
        order_id=order_id,
        channel=channel,
        lines=[
            rpb.CreateReturnLine(sku=s, quantity=q, reason="too small") for s, q in lines.items()
        ],
        location_id=location_id,
    )


async def create(shop: Shop, request: rpb.CreateReturnRequest) -> rpb.Return:
    """Opens the return, retrying while returns is still catching up (UNAVAILABLE)."""

    async def opened() -> rpb.Return | None:
        try:
            return (await shop.returns.stub.CreateReturn(request)).rma
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            return None

    return await eventually(opened, within=10)


async def refusal(shop: Shop, request: rpb.CreateReturnRequest) -> grpc.aio.AioRpcError:
    """The final refusal of a return (retrying while returns is still catching up)."""

    async def refused() -> grpc.aio.AioRpcError | None:
        try:
            await shop.returns.stub.CreateReturn(request)
        except grpc.aio.AioRpcError as exc:
            return None if exc.code() == grpc.StatusCode.UNAVAILABLE else exc
        raise AssertionError("the return was accepted")

    return await eventually(refused, within=10)


def arrived(sku: str, qty: int, condition: int, scan_id: str) -> rpb.ReceivedLine:
    return rpb.ReceivedLine(sku=sku, quantity=qty, condition=condition, scan_id=scan_id)


async def order_status(shop: Shop, order_id: str, status: int) -> None:
    async def reached() -> bool:
        got = await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order_id))
        return got.order.status == status

    await eventually(reached, within=10)


async def test_a_web_order_returned_at_a_store_is_restocked_there_and_refunded(
    shop: Shop,
) -> None:
    a = unique("A")
    order = await shipped_order(shop, a, 2)
    refunds = await shop.returns.bus.jetstream().subscribe(
        "returns.events.refund_issued", deliver_policy=DeliverPolicy.NEW
    )
    rma = await create(shop, return_request(order.id, {a: 2}, "STORE-1"))
    assert (rma.status, rma.lines[0].unit_price) == (rpb.RETURN_STATUS_AUTHORIZED, PRICE)
    got = await shop.returns.stub.ReceiveReturn(
        rpb.ReceiveReturnRequest(id=rma.id, lines=[arrived(a, 2, rpb.CONDITION_SELLABLE, "s1")])
    )
    assert (got.rma.status, got.rma.refunded) == (rpb.RETURN_STATUS_RECEIVED, 2 * PRICE)
    event = returns_msg.ReturnChanged.FromString((await refunds.next_msg(5)).data)
    assert (event.rma.id, event.refund, event.rma.currency) == (rma.id, 2 * PRICE, "EUR")

    async def back_on_sale_at_the_store() -> bool:
        return (await level_of(shop.stock.stub, a, "STORE-1")).available == 2

    await eventually(back_on_sale_at_the_store)
    warehouse = await level_of(shop.stock.stub, a, "WH-N")
    assert (warehouse.on_hand, warehouse.reserved) == (8, 0)  # 10 in, 2 shipped, none back
    await order_status(shop, order.id, opb.ORDER_STATUS_RETURNED)


async def test_returns_on_two_visits_add_up_and_a_third_beyond_the_order_is_refused(
    shop: Shop,
) -> None:
    a = unique("A")
    order = await shipped_order(shop, a, 3)
    first = await create(shop, return_request(order.id, {a: 1}, "STORE-1", cpb.CHANNEL_POS))
    await shop.returns.stub.ReceiveReturn(
        rpb.ReceiveReturnRequest(id=first.id, lines=[arrived(a, 1, rpb.CONDITION_SELLABLE, "x")])
    )
    second = await create(shop, return_request(order.id, {a: 1}, "STORE-2", cpb.CHANNEL_WEB))
    await shop.returns.stub.ReceiveReturn(
        rpb.ReceiveReturnRequest(id=second.id, lines=[arrived(a, 1, rpb.CONDITION_DAMAGED, "y")])
    )
    await order_status(shop, order.id, opb.ORDER_STATUS_PARTIALLY_RETURNED)
    too_many = await refusal(shop, return_request(order.id, {a: 2}, "STORE-1"))
    assert too_many.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "only 1" in (too_many.details() or "")

    async def damaged_at_store_2() -> bool:
        level = await level_of(shop.stock.stub, a, "STORE-2")
        return (level.damaged, level.available) == (1, 0)

    await eventually(damaged_at_store_2)
    assert (await level_of(shop.stock.stub, a, "STORE-1")).available == 1
    listed = await shop.returns.stub.ListReturns(rpb.ListReturnsRequest(order_id=order.id))
    assert [r.id for r in listed.returns] == [second.id, first.id]


async def test_each_check_has_its_own_refusal(shop: Shop) -> None:
    a = unique("A")
    order = await shipped_order(shop, a, 1)
    await create(shop, return_request(order.id, {a: 1}, "STORE-1"))  # returns has caught up
    refusals = [
        (return_request("ord_missing", {a: 1}, "STORE-1"), grpc.StatusCode.NOT_FOUND),
        (return_request(order.id, {"OTHER": 1}, "STORE-1"), grpc.StatusCode.FAILED_PRECONDITION),
        (return_request(order.id, {a: 1}, "STORE-NO"), grpc.StatusCode.FAILED_PRECONDITION),
        (return_request(order.id, {a: 1}, "NOWHERE"), grpc.StatusCode.NOT_FOUND),
        (return_request(order.id, {a: 1}, "STORE-2"), grpc.StatusCode.FAILED_PRECONDITION),
    ]
    for request, code in refusals:
        refused = await refusal(shop, request)
        assert refused.code() == code, refused.details()


async def test_outside_the_window_only_a_manager_override_opens_a_return(
    urls: dict[str, str], nats_server: EmbeddedNats
) -> None:
    async with shop_running(urls, nats_server, window_seconds=0.3) as shop:
        a = unique("A")
        order = await shipped_order(shop, a, 1)
        await asyncio.sleep(0.5)
        request = return_request(order.id, {a: 1}, "STORE-1")

        refused = await refusal(shop, request)
        assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "window" in (refused.details() or "")
        request.override.CopyFrom(rpb.Override(manager_id="mgr-1", reason="gift receipt"))
        rma = (await shop.returns.stub.CreateReturn(request)).rma
        assert (rma.override.manager_id, rma.override.reason) == ("mgr-1", "gift receipt")


async def test_a_receipt_sent_twice_restocks_once_and_refunds_once(shop: Shop) -> None:
    a = unique("A")
    order = await shipped_order(shop, a, 2)
    refunds = await shop.returns.bus.jetstream().subscribe(
        "returns.events.refund_issued", deliver_policy=DeliverPolicy.NEW
    )
    rma = await create(shop, return_request(order.id, {a: 2}, "STORE-1"))
    receipt = rpb.ReceiveReturnRequest(
        id=rma.id,
        lines=[
            arrived(a, 1, rpb.CONDITION_SELLABLE, "u1"),
            arrived(a, 1, rpb.CONDITION_MISSING, "u2"),
        ],
    )
    for _ in range(2):
        got = (await shop.returns.stub.ReceiveReturn(receipt)).rma
        assert (got.refunded, got.lines[0].sellable, got.lines[0].missing) == (PRICE, 1, 1)
    event = returns_msg.ReturnChanged.FromString((await refunds.next_msg(5)).data)
    assert event.refund == PRICE
    with pytest.raises(TimeoutError):
        await refunds.next_msg(0.5)
    assert (await level_of(shop.stock.stub, a, "STORE-1")).on_hand == 1
    await order_status(shop, order.id, opb.ORDER_STATUS_PARTIALLY_RETURNED)


async def test_a_return_counter_opens_and_receives_in_one_call(shop: Shop) -> None:
    a = unique("A")
    order = await shipped_order(shop, a, 1)

    async def instant() -> rpb.Return | None:
        request = rpb.ReturnAtCounterRequest(
            create=return_request(order.id, {a: 1}, "STORE-2"),
            received=[arrived(a, 1, rpb.CONDITION_SELLABLE, "pos-1")],
        )
        request.create.idempotency_key = "counter-1"
        try:
            return (await shop.returns.stub.ReturnAtCounter(request)).rma
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            return None

    rma = await eventually(instant)
    assert (rma.status, rma.refunded) == (rpb.RETURN_STATUS_RECEIVED, PRICE)
    await order_status(shop, order.id, opb.ORDER_STATUS_RETURNED)


async def test_a_return_for_an_order_returns_has_not_heard_of_is_only_ever_retryable(
    urls: dict[str, str], nats_server: EmbeddedNats
) -> None:
    async with shop_running(urls, nats_server) as shop:
        await shop.returns.app.stop()  # returns is down while the order is sold and shipped
        a = unique("A")
        order = await shipped_order(shop, a, 1)
        # Plenty of other order events for it to read first when it is back.
        js = shop.orders.bus.jetstream()
        for n in range(300):
            other = opb.Order(id=f"ord_other_{n}", customer_id="c", currency="EUR", version=1)
            payload = orders_msg.OrderChanged(event_id=f"evt_other_{n}", order=other)
            await js.publish("orders.events.placed", payload.SerializeToString())
        async with running_returns(urls["returns"], nats_server) as returns:
            request = return_request(order.id, {a: 1}, "STORE-1")
            answers = []
            while True:
                try:
                    rma = (await returns.stub.CreateReturn(request)).rma
                    break
                except grpc.aio.AioRpcError as exc:
                    answers.append(exc.code())
                    await asyncio.sleep(0.05)
            # Never refused for good before it had read the order; authorized once it had.
            assert set(answers) <= {grpc.StatusCode.UNAVAILABLE}
            assert rma.status == rpb.RETURN_STATUS_AUTHORIZED


async def test_an_order_unknown_to_returns_is_refused_for_good_only_by_orders_itself(
    shop: Shop,
) -> None:
    """The guard itself: returns asks orders before refusing; if orders cannot answer, the
    refusal is UNAVAILABLE (retry), and NOT_FOUND only when orders says there is no order."""
    request = return_request("ord_unknown", {"A": 1}, "STORE-1")

    async def only_the_order_unknown() -> bool:  # the store's location event has been read
        return "order" in ((await refusal(shop, request)).details() or "")

    await eventually(only_the_order_unknown)
    command = returns_requests.create_return(request)

    async def orders_away(order_id: str) -> KnownOrder | None:
        raise Unavailable("orders is unreachable")

    async def orders_knows_none(order_id: str) -> KnownOrder | None:
        return None

    async def caught_up() -> bool:
        return True

    for fetch, expected in ((orders_away, Unavailable), (orders_knows_none, NotFound)):
        with pytest.raises(expected):
            await returns_handlers.create_return(
                shop.returns.app.uow,
                command,
                window=timedelta(days=30),
                fetch_order=fetch,
                locations_caught_up=caught_up,
            )
