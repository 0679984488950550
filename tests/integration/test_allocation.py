"""Allocate: sourcing and reservation in one step, over gRPC and over NATS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.platform.messaging import MSG_ID_HEADER
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import eventually, unique
from tests.helpers.running import Stock, running_stock
from tests.helpers.stock import add_location, level_of, receive, short_lines

STORE = pb.LOCATION_KIND_STORE


@pytest.fixture
async def stock(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[Stock]:
    async with running_stock(database_url, nats_server) as running:
        await add_location(running.stub, "WH-NEAR", region="north", latitude=59.3, longitude=18.1)
        await add_location(running.stub, "WH-FAR", region="south", latitude=41.4, longitude=2.2)
        await add_location(
            running.stub, "STORE-1", kind=STORE, ships=False, pickup=True, region="north"
        )
        await running.app.nats.ready.wait()
        yield running


def allocate_request(key: str, lines: dict[str, int], **fulfilment: object) -> pb.AllocateRequest:
    return pb.AllocateRequest(
        idempotency_key=key,
        reference=f"order-{key}",
        lines=[pb.AllocateLine(sku=s, quantity=q) for s, q in lines.items()],
        **fulfilment,
    )


def plan(reservation: pb.Reservation) -> dict[tuple[str, str], int]:
    return {(ln.sku, ln.location_id): ln.quantity for ln in reservation.lines}


NORTH = cpb.ShipTo(region="north", latitude=59.0, longitude=18.0)


async def test_a_ship_order_is_filled_from_one_location_the_nearest(stock: Stock) -> None:
    a = unique("A")
    await receive(stock.stub, a, "WH-NEAR", 5)
    await receive(stock.stub, a, "WH-FAR", 5)
    reply = await stock.stub.Allocate(allocate_request("o1", {a: 3}, ship=NORTH))
    assert plan(reply.reservation) == {(a, "WH-NEAR"): 3}
    assert (await level_of(stock.stub, a, "WH-NEAR")).reserved == 3


async def test_a_ship_order_no_location_can_fill_is_split_across_two(stock: Stock) -> None:
    a, b = unique("A"), unique("B")
    await receive(stock.stub, a, "WH-NEAR", 2)
    await receive(stock.stub, b, "WH-FAR", 2)
    reply = await stock.stub.Allocate(allocate_request("o1", {a: 2, b: 1}, ship=NORTH))
    assert plan(reply.reservation) == {(a, "WH-NEAR"): 2, (b, "WH-FAR"): 1}


async def test_a_pickup_order_reserves_at_its_store_only(stock: Stock) -> None:
    a = unique("A")
    await receive(stock.stub, a, "STORE-1", 1)
    await receive(stock.stub, a, "WH-NEAR", 50)
    pickup = cpb.PickupAt(location_id="STORE-1")
    reply = await stock.stub.Allocate(allocate_request("o1", {a: 1}, pickup=pickup))
    assert plan(reply.reservation) == {(a, "STORE-1"): 1}
    with pytest.raises(grpc.aio.AioRpcError) as short:
        await stock.stub.Allocate(allocate_request("o2", {a: 1}, pickup=pickup))
    assert [(s.location_id, s.available) for s in short_lines(short.value)] == [("STORE-1", 0)]
    assert (await level_of(stock.stub, a, "WH-NEAR")).reserved == 0


async def test_a_rejected_order_holds_nothing_and_is_announced(stock: Stock) -> None:
    a, b = unique("A"), unique("B")
    await receive(stock.stub, a, "WH-NEAR", 5)
    await receive(stock.stub, b, "WH-FAR", 1)
    rejections = await stock.bus.subscribe("stock.events.allocation_rejected")
    await stock.bus.flush()  # the server has the subscription before the event
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stock.stub.Allocate(allocate_request("o1", {a: 5, b: 2}, ship=NORTH))
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [(s.sku, s.requested, s.available) for s in short_lines(failure.value)] == [(b, 2, 1)]
    for sku, loc in ((a, "WH-NEAR"), (b, "WH-FAR")):
        assert (await level_of(stock.stub, sku, loc)).reserved == 0
    event = msg_pb.AllocationRejected.FromString((await rejections.next_msg(3)).data)
    assert (event.reference, event.idempotency_key) == ("order-o1", "o1")


async def test_allocate_over_nats_request_reply(stock: Stock) -> None:
    a = unique("A")
    await receive(stock.stub, a, "WH-FAR", 3)
    nc = stock.bus
    request = allocate_request("o1", {a: 2}, ship=NORTH).SerializeToString()
    ok = msg_pb.AllocateReply.FromString((await nc.request("stock.rpc.allocate", request, 5)).data)
    assert plan(ok.allocated.reservation) == {(a, "WH-FAR"): 2}
    short = allocate_request("o2", {a: 2}, ship=NORTH).SerializeToString()
    refused = msg_pb.AllocateReply.FromString(
        (await nc.request("stock.rpc.allocate", short, 5)).data
    )
    assert refused.error.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert [s.available for s in refused.error.short_lines] == [1]
    garbage = msg_pb.AllocateReply.FromString(
        (await nc.request("stock.rpc.allocate", b"\xff", 5)).data
    )
    assert garbage.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]


async def test_a_durable_allocate_command_resent_allocates_once(stock: Stock) -> None:
    a = unique("A")
    await receive(stock.stub, a, "WH-NEAR", 5)
    js = stock.bus.jetstream()
    reserved = await js.subscribe("stock.events.reserved", deliver_policy=DeliverPolicy.NEW)
    command = allocate_request("order-77", {a: 2}, ship=NORTH).SerializeToString()
    # Two different messages (a resend after a lost ack): both handled, one allocation.
    await js.publish("stock.commands.allocate", command, headers={MSG_ID_HEADER: "c1"})
    await js.publish("stock.commands.allocate", command, headers={MSG_ID_HEADER: "c2"})
    event = msg_pb.StockReserved.FromString((await reserved.next_msg(5)).data)
    assert event.idempotency_key == "order-77"
    assert plan(event.reservation) == {(a, "WH-NEAR"): 2}
    await asyncio.sleep(0.5)  # give the second command time to be handled
    assert (await level_of(stock.stub, a, "WH-NEAR")).reserved == 2
    with pytest.raises(TimeoutError):
        await reserved.next_msg(0.3)


async def test_durable_release_and_commit_commands_apply_once(stock: Stock) -> None:
    a = unique("A")
    await receive(stock.stub, a, "WH-NEAR", 5)
    res = (await stock.stub.Allocate(allocate_request(unique("k"), {a: 4}, ship=NORTH))).reservation
    js = stock.bus.jetstream()
    commit = pb.CommitRequest(
        reservation_id=res.id,
        idempotency_key="shipment-1",
        lines=[pb.CommitLine(sku=a, location_id="WH-NEAR", quantity=1)],
    )
    release = pb.ReleaseRequest(reservation_id=res.id, lines=commit.lines, idempotency_key="c-1")
    for n in (1, 2):  # each sent twice as different messages
        await js.publish(
            "stock.commands.commit", commit.SerializeToString(), headers={MSG_ID_HEADER: f"c{n}"}
        )
        await js.publish(
            "stock.commands.release", release.SerializeToString(), headers={MSG_ID_HEADER: f"r{n}"}
        )

    async def settled() -> pb.StockLevel | None:
        level = await level_of(stock.stub, a, "WH-NEAR")
        return level if level.reserved == 2 else None

    await eventually(settled)
    await asyncio.sleep(0.3)  # a second application would show by now
    level = await level_of(stock.stub, a, "WH-NEAR")
    assert (level.on_hand, level.reserved) == (4, 2)


async def test_a_durable_allocate_refused_outright_is_answered_with_its_reason(
    stock: Stock,
) -> None:
    js = stock.bus.jetstream()
    rejected = await js.subscribe(
        "stock.events.allocation_rejected", deliver_policy=DeliverPolicy.NEW
    )
    command = allocate_request("order-9", {"SKU-1": 1}, pickup=cpb.PickupAt(location_id="GONE"))
    await js.publish("stock.commands.allocate", command.SerializeToString())
    event = msg_pb.AllocationRejected.FromString((await rejected.next_msg(5)).data)
    assert (event.idempotency_key, list(event.lines)) == ("order-9", [])
    assert "GONE" in event.reason
