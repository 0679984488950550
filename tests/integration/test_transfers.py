"""Transfers between locations through two stock replicas (SQLite and PostgreSQL): held at the
origin, in transit, received accepted or rejected at the destination, cancelled before they
ship; every step once, seen by watchers at both ends, the ledgers adding up."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import unique
from tests.helpers.running import Stock
from tests.helpers.stock import add_location, as_domain, ledger_fold, level_of, receive, short_lines

T = pb.TransferStatus


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    await add_location(two_replicas[0].stub, "WH-1")
    await add_location(two_replicas[0].stub, "STORE-1", kind=pb.LOCATION_KIND_STORE)
    return two_replicas


def new_transfer(key: str, ready: bool = False, **lines: int) -> pb.CreateTransferRequest:
    return pb.CreateTransferRequest(
        idempotency_key=key,
        origin_id="WH-1",
        destination_id="STORE-1",
        reference="weekly refill",
        lines=[pb.NewTransferLine(sku=s, quantity=q) for s, q in lines.items()],
        ready=ready,
    )


def arrival(
    transfer_id: str, key: str, sku: str, accepted: int, rejected: int = 0
) -> pb.ReceiveTransferRequest:
    return pb.ReceiveTransferRequest(
        id=transfer_id,
        idempotency_key=key,
        lines=[pb.ArrivedLine(sku=sku, accepted=accepted, rejected=rejected)],
    )


async def levels(stock: Stock, sku: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(on_hand, reserved, incoming) at the origin, then (on_hand, incoming, damaged) at the
    destination."""
    origin = await level_of(stock.stub, sku, "WH-1")
    destination = await level_of(stock.stub, sku, "STORE-1")
    return (
        (origin.on_hand, origin.reserved, origin.incoming),
        (destination.on_hand, destination.incoming, destination.damaged),
    )


async def test_a_transfer_is_held_shipped_and_received_once_per_step(replicas: list[Stock]) -> None:
    a, b = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 10)
    events = await a.bus.jetstream().subscribe(
        "stock.events.transfer.*", deliver_policy=DeliverPolicy.NEW
    )
    made = (await a.stub.CreateTransfer(new_transfer("t1", **{sku: 6}))).transfer
    assert (await b.stub.CreateTransfer(new_transfer("t1", **{sku: 6}))).transfer.id == made.id
    assert made.status == T.TRANSFER_STATUS_DRAFT
    assert await levels(a, sku) == ((10, 0, 0), (0, 0, 0))  # a draft holds nothing

    for stub in (a.stub, b.stub):  # twice: harmless
        ready = (await stub.ReadyTransfer(pb.ReadyTransferRequest(id=made.id))).transfer
    assert ready.status == T.TRANSFER_STATUS_READY_TO_SHIP and ready.reservation_id
    assert await levels(a, sku) == ((10, 6, 0), (0, 0, 0))
    for stub in (b.stub, a.stub):
        shipped = (await stub.ShipTransfer(pb.ShipTransferRequest(id=made.id))).transfer
    assert shipped.status == T.TRANSFER_STATUS_IN_TRANSIT
    assert await levels(a, sku) == ((4, 0, 0), (0, 6, 0))

    part = await a.stub.ReceiveTransfer(arrival(made.id, "r1", sku, 3, 1))
    await b.stub.ReceiveTransfer(arrival(made.id, "r1", sku, 3, 1))  # resent
    assert part.transfer.status == T.TRANSFER_STATUS_PARTIALLY_RECEIVED
    assert await levels(a, sku) == ((4, 0, 0), (3, 2, 1))
    done = (await b.stub.ReceiveTransfer(arrival(made.id, "r2", sku, 2))).transfer
    assert done.status == T.TRANSFER_STATUS_RECEIVED
    assert [(ln.accepted, ln.rejected) for ln in done.lines] == [(5, 1)]
    assert await levels(a, sku) == ((4, 0, 0), (5, 0, 1))
    for location in ("WH-1", "STORE-1"):
        assert await ledger_fold(a.stub, sku, location) == as_domain(
            await level_of(a.stub, sku, location)
        )
    # Relayed by either replica: the transfer's version, not the stream, orders the steps.
    changes = {}
    for _ in range(5):
        message = await events.next_msg(5)
        version = msg_pb.TransferChanged.FromString(message.data).transfer.version
        changes[version] = message.subject.rsplit(".", 1)[1]
    assert [changes[v] for v in sorted(changes)] == [
        "created",
        "ready",
        "shipped",
        "received",
        "received",
    ]


async def test_watchers_at_both_ends_see_the_units_move(replicas: list[Stock]) -> None:
    a, b = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 4)
    watch = b.stub.WatchAvailability(
        pb.WatchAvailabilityRequest(skus=[sku], location_ids=["WH-1", "STORE-1"])
    )
    seen: dict[str, tuple[int, int]] = {}

    async def until_moved() -> None:
        async for update in watch:
            if update.HasField("level"):
                seen[update.level.location_id] = (update.level.on_hand, update.level.incoming)
            if seen.get("WH-1") == (1, 0) and seen.get("STORE-1") == (0, 3):
                return

    watching = asyncio.create_task(until_moved())
    made = (await a.stub.CreateTransfer(new_transfer("t1", ready=True, **{sku: 3}))).transfer
    await a.stub.ShipTransfer(pb.ShipTransferRequest(id=made.id))
    await asyncio.wait_for(watching, 10)
    watch.cancel()


async def test_not_enough_at_the_origin_holds_nothing_and_says_what_is_short(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 2)
    with pytest.raises(grpc.aio.AioRpcError) as short:
        await a.stub.CreateTransfer(new_transfer("t1", ready=True, **{sku: 3}))
    assert short.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [(s.requested, s.available) for s in short_lines(short.value)] == [(3, 2)]
    assert await levels(a, sku) == ((2, 0, 0), (0, 0, 0))
    made = (await a.stub.CreateTransfer(new_transfer("t2", **{sku: 3}))).transfer
    with pytest.raises(grpc.aio.AioRpcError) as not_ready:
        await a.stub.ShipTransfer(pb.ShipTransferRequest(id=made.id))
    assert not_ready.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_cancelled_before_it_ships_its_units_go_back_after_never(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 5)
    held = (await a.stub.CreateTransfer(new_transfer("t1", ready=True, **{sku: 2}))).transfer
    for stub in (a.stub, b.stub):
        reply = await stub.CancelTransfer(pb.CancelTransferRequest(id=held.id, reason="no van"))
        assert reply.transfer.status == T.TRANSFER_STATUS_CANCELLED
    assert await levels(a, sku) == ((5, 0, 0), (0, 0, 0))
    moving = (await a.stub.CreateTransfer(new_transfer("t2", ready=True, **{sku: 2}))).transfer
    await a.stub.ShipTransfer(pb.ShipTransferRequest(id=moving.id))
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await b.stub.CancelTransfer(pb.CancelTransferRequest(id=moving.id))
    assert late.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as too_many:
        await b.stub.ReceiveTransfer(arrival(moving.id, "r1", sku, 3))
    assert too_many.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await levels(a, sku) == ((3, 0, 0), (0, 2, 0))
    listed = await a.stub.ListTransfers(
        pb.ListTransfersRequest(location_id="STORE-1", status=T.TRANSFER_STATUS_IN_TRANSIT)
    )
    assert [t.id for t in listed.transfers] == [moving.id]


async def test_bad_input_is_refused_by_field(replicas: list[Stock]) -> None:
    a, _ = replicas
    sku = unique("A")
    to_itself = new_transfer("t1", **{sku: 1})
    to_itself.destination_id = "WH-1"
    twice = new_transfer("t2", **{sku: 1})
    twice.lines.append(twice.lines[0])
    cases = [
        ("CreateTransfer", to_itself, "from one location to another"),
        ("CreateTransfer", twice, "each sku may appear on one line only"),
        ("CreateTransfer", new_transfer("t3"), "lines must have at least one line"),
        ("ReceiveTransfer", arrival("trf_x", "k", sku, 0), "lines[0] receives nothing"),
        ("ListTransfers", pb.ListTransfersRequest(location_id="WH-1", status=42), "status must"),
    ]
    for rpc, request, words in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await getattr(a.stub, rpc)(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
        assert words in (refused.value.details() or "")


async def test_a_transfer_s_held_units_move_only_with_the_transfer(replicas: list[Stock]) -> None:
    a, _ = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 10)
    made = (await a.stub.CreateTransfer(new_transfer("t1", ready=True, **{sku: 5}))).transfer
    hold = made.reservation_id
    line = pb.CommitLine(sku=sku, location_id="WH-1", quantity=3)
    for call in (
        a.stub.Release(pb.ReleaseRequest(reservation_id=hold, lines=[line], idempotency_key="k")),
        a.stub.Release(pb.ReleaseRequest(reservation_id=hold)),
        a.stub.Commit(pb.CommitRequest(reservation_id=hold)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"transfer {made.id}" in (refused.value.details() or "")
    await a.stub.ShipTransfer(pb.ShipTransferRequest(id=made.id))
    await a.stub.ReceiveTransfer(arrival(made.id, "r1", sku, 5))
    total = [await level_of(a.stub, sku, where) for where in ("WH-1", "STORE-1")]
    assert sum(level.on_hand for level in total) == 10  # nothing made, nothing lost


async def test_what_never_arrives_is_given_up_by_closing_the_transfer(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 4)
    made = (await a.stub.CreateTransfer(new_transfer("t1", ready=True, **{sku: 4}))).transfer
    with pytest.raises(grpc.aio.AioRpcError) as too_soon:
        await a.stub.CloseTransfer(pb.CloseTransferRequest(id=made.id))
    assert too_soon.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await a.stub.ShipTransfer(pb.ShipTransferRequest(id=made.id))
    await a.stub.ReceiveTransfer(arrival(made.id, "r1", sku, 3))
    for stub in (a.stub, b.stub):  # twice: harmless
        closed = await stub.CloseTransfer(pb.CloseTransferRequest(id=made.id, reason="lost"))
        assert closed.transfer.status == T.TRANSFER_STATUS_CLOSED
    assert await levels(a, sku) == ((0, 0, 0), (3, 0, 0))
    assert await ledger_fold(a.stub, sku, "STORE-1") == as_domain(
        await level_of(a.stub, sku, "STORE-1")
    )
