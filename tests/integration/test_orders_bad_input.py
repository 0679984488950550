"""Malformed input on every orders RPC: a clear error with the fitting code, nothing stored."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select

from omni.common.v1 import common_pb2 as cpb
from omni.orders.adapters import tables
from omni.orders.v1 import orders_pb2 as pb
from omni.platform.natsserver import EmbeddedNats
from tests.conftest import NewDatabase
from tests.helpers.checks import assert_text_refused, eventually
from tests.helpers.running import Orders, running_orders

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
LONG = "x" * 65
LINE = pb.PlaceOrderLine(sku="SKU-1", quantity=1, unit_price=100)
SHIP = cpb.ShipTo(region="north")


def order(**fields: Any) -> pb.PlaceOrderRequest:
    defaults: dict[str, Any] = {
        "idempotency_key": "k-1",
        "channel": cpb.CHANNEL_WEB,
        "customer_id": "c-1",
        "currency": "EUR",
        "lines": [LINE],
        "ship": SHIP,
    }
    if "pickup" in fields:
        defaults.pop("ship")
    return pb.PlaceOrderRequest(**{**defaults, **fields})


def shipment(**fields: Any) -> pb.RecordShipmentRequest:
    defaults: dict[str, Any] = {
        "order_id": "ord_1",
        "shipment_id": "s-1",
        "location_id": "WH-1",
        "lines": [pb.ShipmentLine(sku="SKU-1", quantity=1)],
    }
    return pb.RecordShipmentRequest(**{**defaults, **fields})


def no_fulfilment() -> pb.PlaceOrderRequest:
    request = order()
    request.ClearField("ship")
    return request


def line(**fields: Any) -> pb.PlaceOrderLine:
    return pb.PlaceOrderLine(**{"sku": "SKU-1", "quantity": 1, "unit_price": 100, **fields})


def token_after(last_id: str) -> str:
    """A page token as the service makes them, but after an id it never gave out."""
    return _b64(f"2026-01-01T00:00:00+00:00|{last_id}")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


CASES: list[tuple[str, Any, grpc.StatusCode]] = [
    ("PlaceOrder", order(idempotency_key=""), INVALID),
    ("PlaceOrder", order(idempotency_key=LONG), INVALID),
    ("PlaceOrder", order(channel=cpb.CHANNEL_UNSPECIFIED), INVALID),
    ("PlaceOrder", order(channel=99), INVALID),
    ("PlaceOrder", order(customer_id=""), INVALID),
    ("PlaceOrder", order(customer_id="has space"), INVALID),
    ("PlaceOrder", order(currency=""), INVALID),
    ("PlaceOrder", order(currency="eur"), INVALID),
    ("PlaceOrder", order(currency="EURO"), INVALID),
    ("PlaceOrder", order(currency="EUR\n"), INVALID),
    ("PlaceOrder", order(currency="E" * 10_000), INVALID),
    ("PlaceOrder", order(lines=[]), INVALID),
    ("PlaceOrder", order(lines=[line(sku="SKU-1", quantity=1)] * 201), INVALID),
    ("PlaceOrder", order(lines=[line(quantity=0)]), INVALID),
    ("PlaceOrder", order(lines=[line(quantity=-3)]), INVALID),
    ("PlaceOrder", order(lines=[line(unit_price=-1)]), INVALID),
    # A total past int64 (each line within its bounds): INTERNAL before (found by fuzzing).
    (
        "PlaceOrder",
        order(lines=[line(sku=f"S{i}", quantity=10**6, unit_price=10**12) for i in range(10)]),
        INVALID,
    ),
    ("PlaceOrder", order(lines=[line(sku="")]), INVALID),
    ("PlaceOrder", order(lines=[line(), line(quantity=2)]), INVALID),
    ("PlaceOrder", no_fulfilment(), INVALID),
    ("PlaceOrder", order(ship=cpb.ShipTo()), INVALID),
    ("PlaceOrder", order(ship=cpb.ShipTo(region="n", latitude=1)), INVALID),
    ("PlaceOrder", order(ship=cpb.ShipTo(region="n", latitude=91, longitude=0)), INVALID),
    ("PlaceOrder", order(ship=cpb.ShipTo(region="n", latitude=float("nan"), longitude=0)), INVALID),
    ("PlaceOrder", order(pickup=cpb.PickupAt()), INVALID),
    ("GetOrder", pb.GetOrderRequest(), INVALID),
    ("GetOrder", pb.GetOrderRequest(id="ord_missing"), NOT_FOUND),
    ("ListOrders", pb.ListOrdersRequest(page_size=-1), INVALID),
    ("ListOrders", pb.ListOrdersRequest(page_size=501), INVALID),
    ("ListOrders", pb.ListOrdersRequest(status=99), INVALID),
    ("ListOrders", pb.ListOrdersRequest(channel=42), INVALID),
    ("ListOrders", pb.ListOrdersRequest(placed_from=Timestamp(seconds=10**12)), INVALID),
    ("ListOrders", pb.ListOrdersRequest(placed_before=Timestamp(nanos=-1)), INVALID),
    (
        "ListOrders",
        pb.ListOrdersRequest(
            placed_from=Timestamp(seconds=100), placed_before=Timestamp(seconds=50)
        ),
        INVALID,
    ),
    ("ListOrders", pb.ListOrdersRequest(customer_id="has space"), INVALID),
    ("ListOrders", pb.ListOrdersRequest(page_token="!!not a token"), INVALID),
    ("ListOrders", pb.ListOrdersRequest(page_token="bm90fGE="), INVALID),
    ("ListOrders", pb.ListOrdersRequest(page_token=token_after("ord_\x00")), INVALID),
    # A time without its zone (found by tests/integration/test_fuzz.py): INTERNAL before.
    ("ListOrders", pb.ListOrdersRequest(page_token=_b64("2026-12-01|ord_1")), INVALID),
    ("WatchOrder", pb.WatchOrderRequest(), INVALID),
    ("WatchOrder", pb.WatchOrderRequest(id="ord_missing"), NOT_FOUND),
    ("CancelOrder", pb.CancelOrderRequest(), INVALID),
    ("CancelOrder", pb.CancelOrderRequest(id="ord_missing"), NOT_FOUND),
    ("CancelOrder", pb.CancelOrderRequest(id="ord_1", reason="x" * 257), INVALID),
    ("RecordShipment", shipment(order_id=""), INVALID),
    ("RecordShipment", shipment(shipment_id=""), INVALID),
    ("RecordShipment", shipment(location_id=""), INVALID),
    ("RecordShipment", shipment(lines=[]), INVALID),
    ("RecordShipment", shipment(lines=[pb.ShipmentLine(sku="SKU-1", quantity=0)]), INVALID),
    ("RecordShipment", shipment(lines=[pb.ShipmentLine(sku="S", quantity=1)] * 2), INVALID),
    ("RecordShipment", shipment(carrier="x" * 257), INVALID),
    ("RecordShipment", shipment(), NOT_FOUND),
]


NUL = "a\x00b"  # PostgreSQL cannot store a NUL: it must be refused before it gets there


def nul_in_text(order_id: str) -> list[tuple[str, Any, str]]:
    """Requests valid but for a NUL in one string (the order to cancel is PENDING)."""
    return [
        ("CancelOrder", pb.CancelOrderRequest(id=order_id, reason=NUL), "reason"),
        ("RecordShipment", shipment(order_id=order_id, carrier=NUL), "carrier"),
        ("RecordShipment", shipment(order_id=order_id, tracking_number=NUL), "tracking_number"),
        ("PlaceOrder", order(idempotency_key="k-2", customer_id=NUL), "customer_id"),
        ("PlaceOrder", order(idempotency_key="k-2", lines=[line(sku=NUL)]), "lines[0].sku"),
    ]


def control_in_text(order_id: str) -> list[tuple[str, Any, str]]:
    """Requests valid but for a control character in one line of text."""
    return [
        ("CancelOrder", pb.CancelOrderRequest(id=order_id, reason="late\nagain"), "reason"),
        ("CancelOrder", pb.CancelOrderRequest(id=order_id, reason="\x1b[31mred"), "reason"),
        ("RecordShipment", shipment(order_id=order_id, carrier="DHL\x07"), "carrier"),
        (
            "RecordShipment",
            shipment(order_id=order_id, tracking_number="1Z\x85"),
            "tracking_number",
        ),
    ]


@pytest.fixture
async def orders(new_database: NewDatabase, nats_server: EmbeddedNats) -> AsyncIterator[Orders]:
    async with running_orders(await new_database("orders"), nats_server) as running:
        await running.app.nats.ready.wait()
        yield running


async def fingerprint(orders: Orders) -> dict[str, int]:
    """Row counts of every orders table, and events published."""
    counts: dict[str, int] = {}
    async with orders.app.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = (await conn.execute(query)).scalar_one()
    await eventually(lambda: _relayed(orders))
    counts["events"] = (await orders.bus.jetstream().stream_info("ORDERS_EVENTS")).state.messages
    return counts


async def _relayed(orders: Orders) -> bool:
    return await orders.app.relay.pending() == 0


def test_every_rpc_has_bad_input_cases() -> None:
    rpcs = {m.name for m in pb.DESCRIPTOR.services_by_name["OrdersService"].methods}
    assert rpcs == {name for name, _, _ in CASES}


async def test_malformed_requests_get_a_clear_error_and_store_nothing(orders: Orders) -> None:
    before = await fingerprint(orders)
    for rpc, request, code in CASES:
        call = getattr(orders.stub, rpc)(request)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            if rpc == "WatchOrder":
                await call.read()
            else:
                await call
        assert (rpc, failure.value.code()) == (rpc, code), failure.value.details()
        assert failure.value.details()
    assert await fingerprint(orders) == before


async def test_bytes_that_are_not_a_message_are_invalid_argument_not_internal(
    orders: Orders,
) -> None:
    for rpc in ("PlaceOrder", "RecordShipment", "ListOrders"):
        call = orders.channel.unary_unary(f"/omni.orders.v1.OrdersService/{rpc}")
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(b"\xff\xff\xff\xff garbage")
        assert failure.value.code() == INVALID


async def test_a_nul_or_control_character_in_text_is_refused_naming_the_field(
    orders: Orders,
) -> None:
    # No stock service runs here: the order stays PENDING, so it could still be cancelled.
    placed = (await orders.stub.PlaceOrder(order(), timeout=1)).order
    before = await fingerprint(orders)
    await assert_text_refused(orders.stub, nul_in_text(placed.id), control_in_text(placed.id))
    assert await fingerprint(orders) == before
    now = (await orders.stub.GetOrder(pb.GetOrderRequest(id=placed.id))).order
    assert (now.status, now.version) == (pb.ORDER_STATUS_PENDING, placed.version)


async def test_a_huge_currency_is_refused_with_a_short_message(orders: Orders) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await orders.stub.PlaceOrder(order(currency="€" * 10_000))
    assert failure.value.code() == INVALID
    assert failure.value.details() == (
        "currency must be an ISO 4217 code of three capital letters, "
        f"got {'€' * 40!r}… (10000 characters)"
    )


async def test_a_look_up_over_nats_of_an_id_with_a_nul_finds_no_order(orders: Orders) -> None:
    request = pb.GetOrderRequest(id="ord_\x00").SerializeToString()
    answer = await orders.bus.request("orders.rpc.get", request, 5)
    assert not pb.GetOrderResponse.FromString(answer.data).HasField("order")
