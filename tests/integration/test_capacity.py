"""A location's daily capacity for ship orders and its pause switch, through two stock
replicas on one database (SQLite and PostgreSQL): sourcing skips a location that is full or
paused, a place is taken with the allocation in one transaction (never more than the
capacity, however many replicas allocate at once) and given back when the order is cancelled
before it ships."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from omni.common.v1 import common_pb2 as cpb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import unique
from tests.helpers.running import Stock
from tests.helpers.stock import add_location, location, receive

SHORT = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    """WH-NEAR (north, taking 3 ship orders a day) and WH-FAR (south, no limit)."""
    a = two_replicas[0].stub
    await add_location(a, "WH-NEAR", region="north", daily_capacity=3)
    await add_location(a, "WH-FAR", region="south")
    return two_replicas


def ship_north(sku: str, quantity: int = 1) -> pb.AllocateRequest:
    key = unique("alloc")
    return pb.AllocateRequest(
        idempotency_key=key,
        reference=key,
        lines=[pb.AllocateLine(sku=sku, quantity=quantity)],
        ship=cpb.ShipTo(region="north"),
    )


async def taken(stub: stock_pb2_grpc.StockServiceStub, location_id: str) -> int:
    return (await stub.GetLocation(pb.GetLocationRequest(id=location_id))).location.taken_today


async def test_concurrent_ship_orders_through_two_replicas_never_exceed_a_daily_capacity(
    replicas: list[Stock],
) -> None:
    # A SKU per order, stocked only where the capacity is 3: the orders share no stock level,
    # so only the location's day keeps them from all going there at once.
    skus = [unique("CAP") for _ in range(24)]
    for sku in skus:
        await receive(replicas[0].stub, sku, "WH-NEAR", 100)

    async def attempt(i: int) -> pb.Reservation | None:
        try:
            return (await replicas[i % 2].stub.Allocate(ship_north(skus[i]))).reservation
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == SHORT
            return None

    outcomes = await asyncio.gather(*(attempt(i) for i in range(24)))
    made = [r for r in outcomes if r is not None]
    assert len(made) == 3
    assert await taken(replicas[1].stub, "WH-NEAR") == 3

    # Cancelled before it ships: its place is given back, and taken by the next order.
    await replicas[0].stub.Release(pb.ReleaseRequest(reservation_id=made[0].id))
    assert await taken(replicas[0].stub, "WH-NEAR") == 2
    await replicas[1].stub.Allocate(ship_north(skus[0]))
    assert await taken(replicas[0].stub, "WH-NEAR") == 3

    # Shipped work keeps its place.
    await replicas[0].stub.Commit(pb.CommitRequest(reservation_id=made[1].id))
    assert await taken(replicas[0].stub, "WH-NEAR") == 3


async def test_a_full_or_paused_location_is_skipped_for_the_next_best(
    replicas: list[Stock],
) -> None:
    a = replicas[0].stub
    sku = unique("CAP")
    for loc in ("WH-NEAR", "WH-FAR"):
        await receive(a, sku, loc, 100)
    places = [(await a.Allocate(ship_north(sku))).reservation for _ in range(4)]
    assert [r.lines[0].location_id for r in places] == ["WH-NEAR"] * 3 + ["WH-FAR"]

    pause = pb.SetLocationCapacityRequest(location_id="WH-NEAR", paused=True)
    got = (await a.SetLocationCapacity(pause)).location
    assert (got.paused, got.daily_capacity, got.taken_today) == (True, 3, 3)
    await a.Release(pb.ReleaseRequest(reservation_id=places[0].id))  # room again, but paused
    assert (await a.Allocate(ship_north(sku))).reservation.lines[0].location_id == "WH-FAR"
    # A change of the location's other attributes keeps its capacity and pause.
    renamed = location("WH-NEAR", name="Near", region="north")
    await a.UpdateLocation(pb.UpdateLocationRequest(location=renamed))
    got = (await a.GetLocation(pb.GetLocationRequest(id="WH-NEAR"))).location
    assert (got.name, got.paused, got.daily_capacity, got.taken_today) == ("Near", True, 3, 2)
    resume = pb.SetLocationCapacityRequest(location_id="WH-NEAR", paused=False, no_limit=True)
    got = (await a.SetLocationCapacity(resume)).location
    assert (got.paused, got.HasField("daily_capacity")) == (False, False)
    assert (await a.Allocate(ship_north(sku))).reservation.lines[0].location_id == "WH-NEAR"


async def test_pickup_orders_and_plain_reservations_take_no_place(replicas: list[Stock]) -> None:
    a = replicas[0].stub
    sku = unique("CAP")
    await receive(a, sku, "WH-NEAR", 10)
    line = pb.ReserveLine(sku=sku, location_id="WH-NEAR", quantity=1)
    for _ in range(4):
        await a.Reserve(pb.ReserveRequest(idempotency_key=unique("r"), lines=[line]))
    assert await taken(a, "WH-NEAR") == 0


async def test_units_brought_by_transfer_take_the_origins_place_until_they_leave(
    replicas: list[Stock],
) -> None:
    a = replicas[0].stub
    sku = unique("CAP")
    await receive(a, sku, "WH-NEAR", 10)
    await add_location(a, "STORE-9", region="north", kind=pb.LOCATION_KIND_STORE, ships=False)

    async def bring(units: int) -> tuple[pb.Reservation, str]:
        key = unique("alloc")
        request = pb.AllocateRequest(
            idempotency_key=key,
            reference=key,
            lines=[pb.AllocateLine(sku=sku, quantity=units)],
            near=pb.ShipNear(location_id="STORE-9", by_transfer=True),
        )
        made = (await a.Allocate(request)).reservation
        listed = await a.ListTransfers(pb.ListTransfersRequest(location_id="STORE-9"))
        (transfer,) = [t for t in listed.transfers if t.for_reservation_id == made.id]
        return made, transfer.id

    _, cancelled = await bring(1)
    assert await taken(a, "WH-NEAR") == 1
    await a.CancelTransfer(pb.CancelTransferRequest(id=cancelled, reason="no van"))
    assert await taken(a, "WH-NEAR") == 0  # never left: given back

    made, shipped = await bring(1)
    await a.ShipTransfer(pb.ShipTransferRequest(id=shipped))
    await a.Release(pb.ReleaseRequest(reservation_id=made.id))  # the order cancelled after
    assert await taken(a, "WH-NEAR") == 1  # the work was done: kept


async def test_a_split_order_released_at_one_location_gives_back_that_place(
    replicas: list[Stock],
) -> None:
    a = replicas[0].stub
    sku = unique("CAP")
    await receive(a, sku, "WH-NEAR", 1)
    await receive(a, sku, "WH-FAR", 2)
    made = (await a.Allocate(ship_north(sku, 3))).reservation
    assert {line.location_id for line in made.lines} == {"WH-NEAR", "WH-FAR"}
    assert await taken(a, "WH-NEAR") == 1
    near = pb.CommitLine(sku=sku, location_id="WH-NEAR", quantity=1)
    await a.Release(
        pb.ReleaseRequest(reservation_id=made.id, lines=[near], idempotency_key=unique("rel"))
    )
    assert await taken(a, "WH-NEAR") == 0
