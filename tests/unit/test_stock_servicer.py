"""The stock servicer through grpcio-testing (tests.helpers.servicers): levels, reservations,
sourcing, access and bad input, as a caller meets them, with no network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from omni.common.v1 import common_pb2 as cpb
from omni.platform.clock import utcnow
from omni.platform.wire import timestamp
from omni.stock.app import StockApp
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.running import TEST_SETTINGS
from tests.helpers.servicers import Served, served
from tests.helpers.stock import location

SERVICE = pb.DESCRIPTOR.services_by_name["StockService"]
NORTH = cpb.ShipTo(region="north", latitude=59.0, longitude=18.0)
Stock = Served[StockApp]


@pytest.fixture
async def stock(tmp_path: Path) -> AsyncIterator[Stock]:
    settings = StockSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}",
        nats_url="nats://127.0.0.1:1",  # never connected: servicer tests need no NATS
        **TEST_SETTINGS,
    )
    async with served(StockApp(settings), SERVICE) as stock:
        for loc, where in (("WH-NEAR", (59.3, 18.1)), ("WH-FAR", (41.4, 2.2))):
            place = location(loc, region="north", latitude=where[0], longitude=where[1])
            await stock.ok("CreateLocation", pb.CreateLocationRequest(location=place))
        store = location("STORE-1", kind=pb.LOCATION_KIND_STORE, ships=False, pickup=True)
        await stock.ok("CreateLocation", pb.CreateLocationRequest(location=store))
        yield stock


async def receive(stock: Stock, sku: str, loc: str, qty: int, key: str = "") -> pb.StockLevel:
    request = pb.ReceiveStockRequest(sku=sku, location_id=loc, quantity=qty, idempotency_key=key)
    return (await stock.ok("ReceiveStock", request)).level


async def level(stock: Stock, sku: str, loc: str) -> pb.StockLevel:
    request = pb.GetAvailabilityRequest(skus=[sku], location_ids=[loc])
    levels = (await stock.ok("GetAvailability", request)).levels
    return levels[0] if levels else pb.StockLevel(sku=sku, location_id=loc)


def reserve(key: str, lines: dict[tuple[str, str], int]) -> pb.ReserveRequest:
    return pb.ReserveRequest(
        idempotency_key=key,
        reference=f"ref-{key}",
        lines=[pb.ReserveLine(sku=s, location_id=loc, quantity=q) for (s, loc), q in lines.items()],
    )


async def test_received_units_are_on_hand_once_per_key(stock: Stock) -> None:
    assert (await receive(stock, "A", "WH-NEAR", 5, key="po-1")).on_hand == 5
    assert (await receive(stock, "A", "WH-NEAR", 5, key="po-1")).on_hand == 5  # resent
    assert (await receive(stock, "A", "WH-NEAR", 2)).on_hand == 7
    assert (await level(stock, "A", "WH-NEAR")).available == 7


async def test_an_adjustment_below_zero_is_refused_and_changes_nothing(stock: Stock) -> None:
    await receive(stock, "A", "WH-NEAR", 2)
    adjust = pb.AdjustStockRequest(sku="A", location_id="WH-NEAR", delta=-3, reason="count")
    answer = await stock.call("AdjustStock", adjust)
    assert answer.code is grpc.StatusCode.FAILED_PRECONDITION
    assert (await level(stock, "A", "WH-NEAR")).on_hand == 2


async def test_a_reservation_holds_every_line_or_none_naming_the_short_ones(stock: Stock) -> None:
    await receive(stock, "A", "WH-NEAR", 3)
    await receive(stock, "B", "WH-NEAR", 1)
    short = await stock.call("Reserve", reserve("r1", {("A", "WH-NEAR"): 2, ("B", "WH-NEAR"): 2}))
    assert short.code is grpc.StatusCode.FAILED_PRECONDITION and "B" in short.details
    assert (await level(stock, "A", "WH-NEAR")).reserved == 0
    held = await stock.ok("Reserve", reserve("r2", {("A", "WH-NEAR"): 2, ("B", "WH-NEAR"): 1}))
    assert held.reservation.status == pb.RESERVATION_STATUS_ACTIVE
    assert (await level(stock, "A", "WH-NEAR")).available == 1


async def test_a_ship_order_is_sourced_from_the_nearest_location_that_can_fill_it(
    stock: Stock,
) -> None:
    await receive(stock, "A", "WH-NEAR", 1)
    await receive(stock, "A", "WH-FAR", 5)
    await receive(stock, "A", "STORE-1", 9)  # does not ship
    allocate = pb.AllocateRequest(
        idempotency_key="o1", reference="order-o1", lines=[pb.AllocateLine(sku="A", quantity=3)]
    )
    allocate.ship.CopyFrom(NORTH)
    reply = await stock.ok("Allocate", allocate)
    assert {(ln.location_id, ln.quantity) for ln in reply.reservation.lines} == {("WH-FAR", 3)}


async def test_store_staff_act_at_their_store_and_each_role_only_as_allowed(
    stock: Stock,
) -> None:
    elsewhere = pb.ReceiveStockRequest(sku="A", location_id="WH-NEAR", quantity=1)
    answer = await stock.call("ReceiveStock", elsewhere, role="manager")  # works at STORE-1
    assert answer.code is grpc.StatusCode.PERMISSION_DENIED
    at_home = pb.ReceiveStockRequest(sku="A", location_id="STORE-1", quantity=1)
    assert (await stock.ok("ReceiveStock", at_home, role="manager")).level.on_hand == 1
    for role in ("associate", "storefront"):
        answer = await stock.call("ReceiveStock", at_home, role=role)
        assert answer.code is grpc.StatusCode.PERMISSION_DENIED
    assert (await level(stock, "A", "WH-NEAR")).on_hand == 0


async def test_bad_input_is_invalid_argument_and_changes_nothing(stock: Stock) -> None:
    for request in (
        pb.ReceiveStockRequest(sku="A", location_id="WH-NEAR", quantity=-1),
        pb.ReceiveStockRequest(sku="", location_id="WH-NEAR", quantity=1),
        pb.ReceiveStockRequest(sku="A" * 10_000, location_id="WH-NEAR", quantity=1),
    ):
        answer = await stock.call("ReceiveStock", request)
        assert answer.code is grpc.StatusCode.INVALID_ARGUMENT, answer
        assert len(answer.details) < 300  # names the field, never quotes the input
    unknown = await stock.call("ReceiveStock", pb.ReceiveStockRequest(sku="A", location_id="X"))
    assert unknown.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    assert (await level(stock, "A", "WH-NEAR")).on_hand == 0


async def test_a_purchase_order_s_units_are_incoming_then_on_hand(stock: Stock) -> None:
    line = pb.NewPurchaseOrderLine(sku="A", quantity=5, expected_at=timestamp(utcnow()))
    create = pb.CreatePurchaseOrderRequest(
        idempotency_key="po-1", location_id="STORE-1", supplier="Acme", lines=[line]
    )
    po = (await stock.ok("CreatePurchaseOrder", create, role="manager")).purchase_order
    assert (await level(stock, "A", "STORE-1")).incoming == 5
    arrived = pb.ReceivePurchaseOrderRequest(
        id=po.id, idempotency_key="r-1", lines=[pb.ReceivedLine(sku="A", quantity=5)]
    )
    for _ in range(2):  # resent: once
        received = await stock.ok("ReceivePurchaseOrder", arrived, role="associate")
    assert received.purchase_order.status == pb.PURCHASE_ORDER_STATUS_RECEIVED
    now = await level(stock, "A", "STORE-1")
    assert (now.on_hand, now.incoming, now.available) == (5, 0, 5)
    close = pb.ClosePurchaseOrderRequest(id=po.id)
    assert (await stock.call("ClosePurchaseOrder", close, role="associate")).code is (
        grpc.StatusCode.PERMISSION_DENIED
    )
