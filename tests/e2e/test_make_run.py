"""End to end: `make run` as a newcomer starts it, then only gRPC calls, then Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.pickup.v1 import pickup_pb2_grpc
from omni.returns.v1 import returns_pb2 as rpb
from omni.returns.v1 import returns_pb2_grpc
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import eventually
from tests.helpers.processes import free_port, wait_serving
from tests.helpers.running import AUTH_TOKENS, authorized
from tests.helpers.stock import short_lines

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    stock: str
    orders: str
    pickup: str
    returns: str
    console: str  # http://...


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Running]:
    """`make run` on free ports with its data in tmp; yields the services' addresses."""
    ports = {name: free_port() for name in ("STOCK", "ORDERS", "PICKUP", "RETURNS")}
    console = free_port()
    env = {
        **os.environ,
        "OMNI_DATA_DIR": str(tmp_path / "data"),
        "OMNI_NATS_PORT": "-1",
        "OMNI_AUTH_TOKENS": AUTH_TOKENS,
        **{f"OMNI_{name}_GRPC_PORT": str(port) for name, port in ports.items()},
        "OMNI_CONSOLE_HTTP_PORT": str(console),
    }
    proc = subprocess.Popen(["make", "-s", "run"], cwd=REPO, env=env, start_new_session=True)
    try:
        yield Running(
            *(f"127.0.0.1:{port}" for port in ports.values()), f"http://127.0.0.1:{console}"
        )
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        proc.wait(30)
    for name, port in {**ports, "CONSOLE": console}.items():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"{name} listening after Ctrl-C"


async def demo_seeded(stock: str) -> None:
    """Waits for make run's demo stock (seeded right after the services report healthy)."""
    await wait_serving(stock, within=120)
    async with authorized(stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        demo = {"SNEAKER-42": {"WH-WEST": 12, "STORE-SF": 2}}

        async def seeded() -> bool:
            view = await stub.GetAvailability(pb.GetAvailabilityRequest(skus=["SNEAKER-42"]))
            return {"SNEAKER-42": {lv.location_id: lv.available for lv in view.levels}} == demo

        await eventually(seeded, within=60)


async def test_make_run_serves_demo_stock_that_can_be_reserved_and_allocated(
    make_run: Running,
) -> None:
    await demo_seeded(make_run.stock)
    async with authorized(make_run.stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        locations = await stub.ListLocations(pb.ListLocationsRequest())
        assert {x.id for x in locations.locations} == {
            "WH-EAST",
            "WH-WEST",
            "STORE-NYC",
            "STORE-SF",
        }

        pickup = await stub.Allocate(
            pb.AllocateRequest(
                idempotency_key="e2e-order-1",
                reference="order-1",
                lines=[pb.AllocateLine(sku="SNEAKER-42", quantity=2)],
                pickup=cpb.PickupAt(location_id="STORE-SF"),
            )
        )
        assert [(ln.location_id, ln.quantity) for ln in pickup.reservation.lines] == [
            ("STORE-SF", 2)
        ]
        with pytest.raises(grpc.aio.AioRpcError) as sold_out:
            await stub.Reserve(
                pb.ReserveRequest(
                    idempotency_key="e2e-cart-2",
                    lines=[pb.ReserveLine(sku="SNEAKER-42", location_id="STORE-SF", quantity=1)],
                )
            )
        assert sold_out.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert short_lines(sold_out.value)[0].available == 0

        # An order over the orders service: allocated by stock through NATS, then shipped.
        await wait_serving(make_run.orders, within=60)
        async with authorized(make_run.orders, "manager-anywhere") as orders_channel:
            orders = orders_pb2_grpc.OrdersServiceStub(orders_channel)
            placed = await orders.PlaceOrder(
                opb.PlaceOrderRequest(
                    idempotency_key="e2e-checkout-1",
                    channel=cpb.CHANNEL_WEB,
                    customer_id="c-1",
                    currency="USD",
                    lines=[opb.PlaceOrderLine(sku="JEANS-32-32", quantity=2, unit_price=4999)],
                    ship=cpb.ShipTo(region="us-east"),  # same region: priority decides
                ),
                timeout=10,
            )
            order = placed.order
            assert order.status == opb.ORDER_STATUS_CONFIRMED
            [allocation] = order.lines[0].allocations
            assert (allocation.location_id, allocation.quantity) == ("WH-EAST", 2)
            shipped = await orders.RecordShipment(
                opb.RecordShipmentRequest(
                    order_id=order.id,
                    shipment_id="e2e-shp-1",
                    location_id="WH-EAST",
                    lines=[opb.ShipmentLine(sku="JEANS-32-32", quantity=2)],
                )
            )
            assert shipped.order.status == opb.ORDER_STATUS_FULFILLED
            # The demo's sneaker not released yet: the web takes it as a preorder.
            preorder = await orders.PlaceOrder(
                opb.PlaceOrderRequest(
                    idempotency_key="e2e-preorder-1",
                    channel=cpb.CHANNEL_WEB,
                    customer_id="c-2",
                    currency="USD",
                    lines=[opb.PlaceOrderLine(sku="SNEAKER-43", quantity=1, unit_price=12900)],
                    ship=cpb.ShipTo(region="us-east"),
                ),
                timeout=10,
            )
            assert preorder.order.status == opb.ORDER_STATUS_CONFIRMED
            [waits] = preorder.order.lines[0].allocations
            assert (waits.location_id, waits.backordered) == ("WH-EAST", 1)
            assert waits.HasField("expected_at")

        async def shipped_from_stock() -> bool:
            view = await stub.GetAvailability(
                pb.GetAvailabilityRequest(skus=["JEANS-32-32"], location_ids=["WH-EAST"])
            )
            return (view.levels[0].on_hand, view.levels[0].reserved) == (38, 0)

        await eventually(shipped_from_stock, within=10)

        # Brought back to a store: restocked there, refunded, the order RETURNED.
        await wait_serving(make_run.returns, within=60)
        async with authorized(make_run.returns, "manager-anywhere") as returns_channel:
            returns = returns_pb2_grpc.ReturnsServiceStub(returns_channel)

            async def returned() -> rpb.Return | None:
                request = rpb.ReturnAtCounterRequest(
                    create=rpb.CreateReturnRequest(
                        idempotency_key="e2e-return-1",
                        order_id=order.id,
                        channel=cpb.CHANNEL_POS,
                        lines=[rpb.CreateReturnLine(sku="JEANS-32-32", quantity=2, reason="fit")],
                        location_id="STORE-NYC",
                    ),
                    received=[
                        rpb.ReceivedLine(
                            sku="JEANS-32-32",
                            quantity=2,
                            condition=rpb.CONDITION_SELLABLE,
                            scan_id="e2e-r-1",
                        )
                    ],
                )
                try:
                    return (await returns.ReturnAtCounter(request)).rma
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.UNAVAILABLE:  # still catching up: retry
                        raise
                    return None

            rma = await eventually(returned, within=20)
            assert (rma.status, rma.refunded) == (rpb.RETURN_STATUS_RECEIVED, 2 * 4999)

        async def restocked_at_the_store() -> bool:
            view = await stub.GetAvailability(
                pb.GetAvailabilityRequest(skus=["JEANS-32-32"], location_ids=["STORE-NYC"])
            )
            return view.levels[0].on_hand == 5  # 3 seeded + 2 returned

        await eventually(restocked_at_the_store, within=10)


async def test_make_run_turns_a_pickup_order_into_a_store_task(make_run: Running) -> None:
    await demo_seeded(make_run.stock)
    await wait_serving(make_run.orders, within=60)
    await wait_serving(make_run.pickup, within=60)
    async with (
        authorized(make_run.orders, "storefront") as orders_channel,
        authorized(make_run.pickup, "manager-anywhere") as pickup_channel,
    ):
        orders = orders_pb2_grpc.OrdersServiceStub(orders_channel)
        pickup = pickup_pb2_grpc.PickupServiceStub(pickup_channel)
        reply = await orders.PlaceOrder(
            opb.PlaceOrderRequest(
                idempotency_key="e2e-bopis-1",
                channel=cpb.CHANNEL_APP,
                customer_id="c-2",
                currency="USD",
                lines=[opb.PlaceOrderLine(sku="TSHIRT-BLK-M", quantity=1, unit_price=1500)],
                pickup=cpb.PickupAt(location_id="STORE-NYC"),
            ),
            timeout=10,
        )
        order = reply.order
        assert order.status == opb.ORDER_STATUS_CONFIRMED, order.reason

        async def task() -> ppb.PickupTask | None:
            queue = await pickup.ListPickups(ppb.ListPickupsRequest(store_id="STORE-NYC"))
            return next((t for t in queue.tasks if t.order_id == order.id), None)

        opened = await eventually(task, within=10)
        await pickup.StartPicking(ppb.StartPickingRequest(id=opened.id, associate_id="e2e"))
        pick = ppb.RecordPickRequest(id=opened.id, scan_id="e2e-1", sku="TSHIRT-BLK-M")
        await pickup.RecordPick(pick)
        ready = await pickup.MarkReady(ppb.MarkReadyRequest(id=opened.id))
        assert ready.task.status == ppb.PICKUP_STATUS_READY
        with pytest.raises(grpc.aio.AioRpcError) as wrong:
            await pickup.CompletePickup(
                ppb.CompletePickupRequest(id=opened.id, code="2222-2222", associate_id="e2e")
            )
        assert wrong.value.code() == grpc.StatusCode.PERMISSION_DENIED
        await orders.CancelOrder(opb.CancelOrderRequest(id=order.id, reason="changed mind"))

        async def task_cancelled() -> bool:
            got = await pickup.GetPickup(ppb.GetPickupRequest(id=opened.id))
            return got.task.status == ppb.PICKUP_STATUS_CANCELLED

        await eventually(task_cancelled, within=10)


def _page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.read().decode())


async def test_make_run_serves_the_console_with_a_sign_in_button_per_dev_token(
    make_run: Running,
) -> None:
    await demo_seeded(make_run.stock)

    async def answering() -> bool:
        try:
            return await asyncio.to_thread(_page, make_run.console + "/healthz") == "ok"
        except OSError:
            return False

    await eventually(answering, within=30, interval=0.2)
    signin = await asyncio.to_thread(_page, make_run.console + "/signin")
    assert "Sign in as test-associate (associate at STORE-1)" in signin
    assert "Sign in as test-service (service)" in signin
    assert "Sign in as test-storefront" not in signin  # machines do not sign in here
