"""Orders when a service or NATS is away: nothing is lost, nothing stays held for nothing."""

from __future__ import annotations

import time

import grpc
import pytest
from google.rpc.error_details_pb2 import RetryInfo
from grpc_status import rpc_status

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.platform.messaging import MSG_ID_HEADER
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as spb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.processes import free_port
from tests.helpers.running import Orders, running_orders, running_stock
from tests.helpers.stock import add_location, level_of, receive
from tests.integration.test_orders import order_request

# PlaceOrder gives up waiting quickly: these tests want the PENDING answer.
QUICK = {"decision_wait_seconds": 0.2}


@pytest.fixture
async def orders_url(new_database: NewDatabase) -> str:
    return await new_database("orders")


async def stocked(database_url: str, nats: EmbeddedNats, sku: str, qty: int) -> None:
    """Sets up a warehouse holding `qty` of `sku`, then stops stock again."""
    async with running_stock(database_url, nats) as stock:
        await add_location(stock.stub, "WH-N", region="north")
        await receive(stock.stub, sku, "WH-N", qty)


async def status_of(orders: Orders, order_id: str) -> int:
    reply = await orders.stub.GetOrder(opb.GetOrderRequest(id=order_id))
    return reply.order.status


async def confirmed(orders: Orders, order_id: str, within: float) -> None:
    """Waits until the order is CONFIRMED, which nobody but the services themselves does."""

    async def done() -> bool:
        return await status_of(orders, order_id) == opb.ORDER_STATUS_CONFIRMED

    await eventually(done, within=within)


async def test_an_order_placed_while_stock_is_down_is_decided_when_stock_returns(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("A")
    await stocked(database_url, nats_server, sku, 5)
    async with running_orders(orders_url, nats_server, **QUICK) as orders:
        await orders.app.nats.ready.wait()
        order = (await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}))).order
        assert order.status == opb.ORDER_STATUS_PENDING
        async with running_stock(database_url, nats_server) as stock:
            await confirmed(orders, order.id, within=10)
            assert (await level_of(stock.stub, sku, "WH-N")).reserved == 2


async def test_an_order_placed_while_nats_is_down_is_decided_when_it_returns(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("A")
    await stocked(database_url, nats_server, sku, 5)
    async with (
        running_stock(database_url, nats_server) as stock,
        running_orders(orders_url, nats_server, **QUICK) as orders,
    ):
        await orders.app.nats.ready.wait()
        await stock.app.nats.ready.wait()
        nats_server.stop()
        order = (await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}))).order
        assert order.status == opb.ORDER_STATUS_PENDING
        nats_server.restart()

        await confirmed(orders, order.id, within=15)
        assert (await level_of(stock.stub, sku, "WH-N")).reserved == 2


async def test_a_decision_made_while_orders_is_down_is_applied_when_it_returns(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("A")
    await stocked(database_url, nats_server, sku, 5)
    async with running_orders(orders_url, nats_server, **QUICK) as orders:
        await orders.app.nats.ready.wait()
        order = (await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}))).order

        async def sent() -> bool:
            return await orders.app.relay.pending() == 0

        await eventually(sent)
    async with running_stock(database_url, nats_server) as stock:

        async def reserved() -> bool:
            return (await level_of(stock.stub, sku, "WH-N")).reserved == 2

        await eventually(reserved, within=10)
    async with running_orders(orders_url, nats_server) as orders:
        await confirmed(orders, order.id, within=10)


async def test_an_order_cancelled_before_stock_decided_gets_its_reservation_released(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("A")
    await stocked(database_url, nats_server, sku, 5)
    async with running_orders(orders_url, nats_server, **QUICK) as orders:
        await orders.app.nats.ready.wait()
        order = (await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}))).order
        await orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))
        async with running_stock(database_url, nats_server) as stock:

            async def released() -> bool:
                res = await stock.stub.GetAvailability(
                    spb.GetAvailabilityRequest(skus=[sku], location_ids=["WH-N"])
                )
                level = res.levels[0]
                # Reserved by the allocate command, then given back: version 1 + 2 changes.
                return level.version == 3 and level.reserved == 0

            await eventually(released, within=10)
        assert await status_of(orders, order.id) == opb.ORDER_STATUS_CANCELLED


async def test_a_reservation_for_an_order_never_stored_is_released(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("A")
    async with (
        running_stock(database_url, nats_server) as stock,
        running_orders(orders_url, nats_server) as orders,
    ):
        await add_location(stock.stub, "WH-N", region="north")
        await receive(stock.stub, sku, "WH-N", 5)
        await orders.app.nats.ready.wait()
        # As if the orders database had lost the order: stock allocates for it all the same.
        command = spb.AllocateRequest(
            idempotency_key="order:ord_lost",
            reference="ord_lost",
            lines=[spb.AllocateLine(sku=sku, quantity=2)],
            ship=cpb.ShipTo(region="north"),
        )
        await orders.bus.jetstream().publish(
            "stock.commands.allocate", command.SerializeToString(), headers={MSG_ID_HEADER: "x1"}
        )

        async def given_back() -> bool:
            level = await level_of(stock.stub, sku, "WH-N")
            return level.version == 3 and level.reserved == 0

        await eventually(given_back, within=10)


async def test_a_replica_that_lost_nats_still_shows_decisions_from_the_store(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    """The replica taking the calls has lost NATS: another replica relays its orders to stock
    and applies the decisions, and no notification of them can reach the first. Its watchers
    still see each decision (it reads watched orders from the store every second), and
    PlaceOrder reads the stored order before it answers PENDING."""
    sku = unique("D")
    await stocked(database_url, nats_server, sku, 5)
    cut_off = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    async with (
        running_orders(orders_url, nats_server, **QUICK) as relaying,
        running_orders(orders_url, nats_server, nats_url=cut_off, migrate_on_start=False) as cut,
    ):
        await relaying.app.nats.ready.wait()
        placed = (await relaying.stub.PlaceOrder(order_request(unique("k"), {sku: 1}))).order
        assert placed.status == opb.ORDER_STATUS_PENDING  # stock is not there yet
        watching = cut.stub.WatchOrder(opb.WatchOrderRequest(id=placed.id), timeout=30)
        assert (await watching.read()).order.status == opb.ORDER_STATUS_PENDING
        async with running_stock(database_url, nats_server):
            assert (await watching.read()).order.status == opb.ORDER_STATUS_CONFIRMED
            watching.cancel()
            reply = await cut.stub.PlaceOrder(order_request(unique("k"), {sku: 2}), timeout=15)
            assert reply.order.status == opb.ORDER_STATUS_CONFIRMED


async def test_past_its_backlog_limit_an_order_is_refused_at_once_with_when_to_retry(
    database_url: str, orders_url: str, nats_server: EmbeddedNats
) -> None:
    """Stock is away and orders pile up: past the limit a new order is UNAVAILABLE at once,
    with a retry delay (google.rpc.RetryInfo), and is not stored; once stock decides the
    waiting ones, orders are taken again."""
    sku = unique("B")
    await stocked(database_url, nats_server, sku, 10)
    limits = {**QUICK, "max_pending_orders": 2}
    async with running_orders(orders_url, nats_server, **limits) as orders:
        keys = [unique("k"), unique("k")]
        waiting = [
            (await orders.stub.PlaceOrder(order_request(key, {sku: 1}))).order for key in keys
        ]
        assert {o.status for o in waiting} == {opb.ORDER_STATUS_PENDING}

        async def refused() -> grpc.aio.AioRpcError | None:
            try:
                await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 1}))
            except grpc.aio.AioRpcError as exc:
                return exc
            raise AssertionError("a third order was taken past the limit")

        started = time.monotonic()
        failure = await refused()
        assert failure is not None and time.monotonic() - started < 1.0  # at once, no 5 s wait
        assert failure.code() == grpc.StatusCode.UNAVAILABLE
        assert "too many orders wait for stock" in (failure.details() or "")
        [retry] = [
            RetryInfo.FromString(d.value)
            for d in rpc_status.from_call(failure).details
            if d.Is(RetryInfo.DESCRIPTOR)
        ]
        assert 1.0 <= retry.retry_delay.ToTimedelta().total_seconds() <= 30.0
        listed = await orders.stub.ListOrders(opb.ListOrdersRequest())
        assert {o.id for o in listed.orders} == {o.id for o in waiting}  # the refused: not kept
        # A client retrying an order already placed is answered, never refused.
        again = await orders.stub.PlaceOrder(order_request(keys[0], {sku: 1}))
        assert again.order.id == waiting[0].id

        async with running_stock(database_url, nats_server):
            for order in waiting:
                await confirmed(orders, order.id, within=15)

            async def taken_again() -> bool:
                try:
                    await orders.stub.PlaceOrder(order_request(unique("k"), {sku: 1}))
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE
                    return False
                return True

            await eventually(taken_again, within=5)
