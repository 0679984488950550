"""Orders placed per second end to end: PlaceOrder until stock has CONFIRMED it (allocation
through NATS and back), with stock and orders each in its own process."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.bench.harness import Outcome, Result, drive, open_channels, seed, server
from tests.helpers.checks import eventually
from tests.helpers.processes import free_port, wait_serving

SKUS = [f"ITEM-{i:03d}" for i in range(200)]
PLENTY = 10**6


async def bench_orders(
    db: str, stock_url: str, orders_url: str, nats: EmbeddedNats, seconds: float
) -> Result:
    async with ordering(stock_url, orders_url, nats) as (call, stubs, stock):
        await drive("warm-up", call, seconds=min(0.5, seconds))
        result = await drive(f"PlaceOrder until CONFIRMED, {db}", call, seconds=seconds)
        await check_promises(stubs[0], stock)
        return result


@asynccontextmanager
async def ordering(
    stock_url: str, orders_url: str, nats: EmbeddedNats, code: dict[str, str] | None = None
) -> AsyncIterator[
    tuple[
        Callable[[int], Awaitable[None]],
        list[orders_pb2_grpc.OrdersServiceStub],
        stock_pb2_grpc.StockServiceStub,
    ]
]:
    """Stock and orders each in its own process (`code`: the environment that picks another
    commit's code), stocked; yields a call placing an order until CONFIRMED (else Outcome)."""
    ports = {"STOCK": free_port(), "ORDERS": free_port()}
    env = {"OMNI_LOG_LEVEL": "WARNING", **(code or {})}
    stock_env = {
        **env,
        **nats.env("stock"),
        "OMNI_STOCK_DATABASE_URL": stock_url,
        "OMNI_STOCK_GRPC_PORT": str(ports["STOCK"]),
    }
    orders_env = {
        **env,
        **nats.env("orders"),
        "OMNI_ORDERS_DATABASE_URL": orders_url,
        "OMNI_ORDERS_GRPC_PORT": str(ports["ORDERS"]),
    }
    async with (
        server(["omni.stock"], stock_env, ports["STOCK"]) as stock_target,
        server(["omni.orders"], orders_env, ports["ORDERS"]) as orders_target,
    ):
        await wait_serving(stock_target)
        await wait_serving(orders_target)
        stock = stock_pb2_grpc.StockServiceStub(open_channels(stock_target, 1)[0])
        await seed(stock, dict.fromkeys(SKUS, PLENTY))
        stubs = [orders_pb2_grpc.OrdersServiceStub(c) for c in open_channels(orders_target)]
        keys = itertools.count()

        async def call(i: int) -> None:
            request = order_request(f"checkout-{next(keys)}", i)
            order = (await stubs[i % len(stubs)].PlaceOrder(request, timeout=10)).order
            if order.status != opb.ORDER_STATUS_CONFIRMED:
                raise Outcome(opb.OrderStatus.Name(order.status))

        yield call, stubs, stock


def order_request(key: str, i: int) -> opb.PlaceOrderRequest:
    """A web order of 1 to 3 of SKUS (stocked at L1 by `seed`), shipped."""
    skus = random.sample(SKUS, random.randint(1, 3))
    return opb.PlaceOrderRequest(
        idempotency_key=key,
        channel=cpb.CHANNEL_WEB,
        customer_id=f"c-{i % 1000}",
        currency="EUR",
        lines=[
            opb.PlaceOrderLine(sku=s, quantity=random.randint(1, 3), unit_price=999) for s in skus
        ],
        ship=cpb.ShipTo(region="eu"),
    )


async def check_promises(
    orders: orders_pb2_grpc.OrdersServiceStub, stock: stock_pb2_grpc.StockServiceStub
) -> None:
    """Once every order is decided, stock holds exactly what confirmed orders were promised."""

    async def all_decided() -> bool:
        pending = opb.ListOrdersRequest(status=opb.ORDER_STATUS_PENDING)
        return not (await orders.ListOrders(pending)).orders

    await eventually(all_decided, within=60)
    promised: Counter[str] = Counter()
    token = ""
    while True:
        page = await orders.ListOrders(
            opb.ListOrdersRequest(
                status=opb.ORDER_STATUS_CONFIRMED, page_size=500, page_token=token
            )
        )
        for order in page.orders:
            promised.update({ln.sku: ln.quantity for ln in order.lines})
        token = page.next_page_token
        if not token:
            break
    view = await stock.GetAvailability(pb.GetAvailabilityRequest(skus=SKUS, location_ids=["L1"]))
    reserved = {lv.sku: lv.reserved for lv in view.levels if lv.reserved}
    assert reserved == dict(promised), "stock holds other than what confirmed orders were promised"
