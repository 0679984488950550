"""A request id given to PlaceOrder follows the order: stock's command and event, and orders'
confirmation all carry it (NATS header), even when many orders share one batch."""

from __future__ import annotations

import asyncio
import json
import logging

import nats
import pytest
from nats.aio.msg import Msg
from prometheus_client import REGISTRY

from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.platform import logs
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import messaging_pb2 as stock_msg
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import running_orders, running_stock
from tests.helpers.stock import add_location, receive
from tests.integration.test_orders import NORTH, order_request


async def test_each_order_carries_its_own_request_id_through_stock_and_back(
    database_url: str, new_database: NewDatabase, nats_server: EmbeddedNats
) -> None:
    sku = unique("SKU")
    seen: dict[str, dict[str, str]] = {"reserved": {}, "confirmed": {}}

    async def on_reserved(msg: Msg) -> None:
        event = stock_msg.StockReserved.FromString(msg.data)
        seen["reserved"][event.reservation.reference] = (msg.headers or {}).get(logs.NATS_HEADER)

    async def on_confirmed(msg: Msg) -> None:
        event = orders_msg.OrderChanged.FromString(msg.data)
        seen["confirmed"][event.order.id] = (msg.headers or {}).get(logs.NATS_HEADER)

    nc = await nats.connect(nats_server.operator_url)
    await nc.subscribe("stock.events.reserved", cb=on_reserved)
    await nc.subscribe("orders.events.confirmed", cb=on_confirmed)
    async with (
        running_stock(database_url, nats_server) as stock,
        running_orders(await new_database("orders"), nats_server) as orders,
    ):
        await add_location(stock.stub, "WH-N", region="north", latitude=59.3, longitude=18.1)
        await receive(stock.stub, sku, "WH-N", 100)
        for service in (stock.app, orders.app):
            await service.nats.ready.wait()

        async def place(n: int) -> tuple[str, str]:
            request_id = f"req-{n}-{unique('r')}"
            reply = await orders.stub.PlaceOrder(
                order_request(unique("key"), {sku: 1}, ship=NORTH),
                metadata=((logs.METADATA_KEY, request_id),),
                timeout=10,
            )
            return reply.order.id, request_id

        placed = dict(await asyncio.gather(*(place(n) for n in range(12))))

        async def all_confirmed() -> bool:
            return len(seen["confirmed"]) == len(placed)

        await eventually(all_confirmed, within=10)
    await nc.close()
    assert seen["reserved"] == placed
    assert seen["confirmed"] == placed
    # Stock's allocate consumer reports its lag, and it has caught up.
    lag = {"stream": "STOCK_COMMANDS", "durable": "stock-allocate"}
    assert REGISTRY.get_sample_value("omni_consumer_pending", lag) == 0


def test_a_log_line_is_one_json_object_with_its_service_and_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("stock", "INFO", "json")
    try:
        with logs.request_scope("abc-123"):
            logging.getLogger("omni.test").warning("reserved %d units", 3)
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        logging.basicConfig(handlers=[logging.NullHandler()], force=True)
    assert {k: line[k] for k in ("level", "message", "service", "request_id")} == {
        "level": "WARNING",
        "message": "reserved 3 units",
        "service": "stock",
        "request_id": "abc-123",
    }
    assert "timestamp" in line


@pytest.mark.parametrize("given", ["", "x" * 65, "bad id\n", None])
def test_an_unusable_request_id_is_replaced_by_a_new_one(given: str | None) -> None:
    made = logs.request_id_from(given)
    assert made != given and len(made) == 32
