"""Reservations through the real gRPC API, on SQLite and PostgreSQL, with a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import select, update

from omni.platform.clock import utcnow
from omni.platform.db import write_transaction
from omni.platform.natsserver import EmbeddedNats
from omni.stock.adapters import tables
from omni.stock.adapters.purging import purge_reservations
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import eventually, unique
from tests.helpers.running import Stock, running_stock
from tests.helpers.stock import add_location, as_domain, ledger_fold, level_of, receive, short_lines


@pytest.fixture
async def stock(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[Stock]:
    async with running_stock(database_url, nats_server) as running:
        await add_location(running.stub, "L1")
        await add_location(running.stub, "L2")
        yield running


def reserve_request(key: str, *lines: tuple[str, str, int], ttl: int = 0) -> pb.ReserveRequest:
    return pb.ReserveRequest(
        idempotency_key=key,
        reference=f"cart-{key}",
        lines=[pb.ReserveLine(sku=s, location_id=loc, quantity=q) for s, loc, q in lines],
        ttl_seconds=ttl,
    )


async def test_a_reservation_holds_units_and_release_gives_them_back(stock: Stock) -> None:
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 10)
    reply = await stock.stub.Reserve(reserve_request("k1", (sku, "L1", 4)))
    assert reply.reservation.status == pb.RESERVATION_STATUS_ACTIVE
    level = await level_of(stock.stub, sku, "L1")
    assert (level.on_hand, level.reserved, level.available) == (10, 4, 6)

    released = await stock.stub.Release(pb.ReleaseRequest(reservation_id=reply.reservation.id))
    again = await stock.stub.Release(pb.ReleaseRequest(reservation_id=reply.reservation.id))
    assert released.reservation.status == again.reservation.status == pb.RESERVATION_STATUS_RELEASED
    assert (await level_of(stock.stub, sku, "L1")).available == 10


async def test_a_multi_line_reservation_short_on_one_line_changes_nothing(stock: Stock) -> None:
    a, b = unique("A"), unique("B")
    await receive(stock.stub, a, "L1", 5)
    await receive(stock.stub, b, "L2", 1)
    before = [await level_of(stock.stub, a, "L1"), await level_of(stock.stub, b, "L2")]

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stock.stub.Reserve(reserve_request("k1", (a, "L1", 5), (b, "L2", 3)))

    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [
        (s.sku, s.location_id, s.requested, s.available) for s in short_lines(failure.value)
    ] == [(b, "L2", 3, 1)]
    assert [await level_of(stock.stub, a, "L1"), await level_of(stock.stub, b, "L2")] == before


async def test_same_key_same_request_answers_the_same_and_reserves_once(stock: Stock) -> None:
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 5)
    first = await stock.stub.Reserve(reserve_request("same", (sku, "L1", 2)))
    second = await stock.stub.Reserve(reserve_request("same", (sku, "L1", 2)))
    assert first.reservation.id == second.reservation.id
    assert (await level_of(stock.stub, sku, "L1")).reserved == 2

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stock.stub.Reserve(reserve_request("same", (sku, "L1", 3)))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert (await level_of(stock.stub, sku, "L1")).reserved == 2


async def test_a_rejected_reservation_stays_rejected_for_its_key(stock: Stock) -> None:
    """A retried rejection must not start holding stock that arrived since (orphan hold)."""
    sku = unique("SKU")
    with pytest.raises(grpc.aio.AioRpcError):
        await stock.stub.Reserve(reserve_request("k-short", (sku, "L1", 1)))
    await receive(stock.stub, sku, "L1", 5)
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await stock.stub.Reserve(reserve_request("k-short", (sku, "L1", 1)))
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await level_of(stock.stub, sku, "L1")).reserved == 0


async def test_an_expired_reservation_frees_its_stock_and_emits_its_event(
    stock: Stock, nats_server: EmbeddedNats
) -> None:
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 3)
    await stock.app.nats.ready.wait()
    expired_events = await stock.bus.subscribe("stock.events.expired")
    await stock.bus.flush()  # the server has the subscription before the event

    reply = await stock.stub.Reserve(reserve_request("k1", (sku, "L1", 3), ttl=1))
    assert (await level_of(stock.stub, sku, "L1")).available == 0

    async def freed() -> bool:
        return (await level_of(stock.stub, sku, "L1")).available == 3

    await eventually(freed, within=3.0)
    event = msg_pb.ReservationChanged.FromString((await expired_events.next_msg(3.0)).data)
    assert event.reservation.id == reply.reservation.id
    assert event.reservation.status == pb.RESERVATION_STATUS_EXPIRED
    got = await stock.stub.GetReservation(pb.GetReservationRequest(id=reply.reservation.id))
    assert got.reservation.status == pb.RESERVATION_STATUS_EXPIRED


async def test_commit_ships_units_partially_then_fully_and_is_idempotent_by_key(
    stock: Stock,
) -> None:
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 10)
    res = (await stock.stub.Reserve(reserve_request("k1", (sku, "L1", 5)))).reservation
    part = pb.CommitRequest(
        reservation_id=res.id,
        idempotency_key="shipment-1",
        lines=[pb.CommitLine(sku=sku, location_id="L1", quantity=2)],
    )
    await stock.stub.Commit(part)
    await stock.stub.Commit(part)  # resent: changes nothing
    level = await level_of(stock.stub, sku, "L1")
    assert (level.on_hand, level.reserved) == (8, 3)

    done = await stock.stub.Commit(pb.CommitRequest(reservation_id=res.id))
    assert done.reservation.status == pb.RESERVATION_STATUS_COMMITTED
    level = await level_of(stock.stub, sku, "L1")
    assert (level.on_hand, level.reserved, level.available) == (5, 0, 5)
    assert await ledger_fold(stock.stub, sku, "L1") == as_domain(level)


async def test_adjust_and_safety_stock_change_what_channels_see(stock: Stock) -> None:
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 10)
    await stock.stub.SetSafetyStock(
        pb.SetSafetyStockRequest(sku=sku, location_id="L1", safety_stock=3)
    )
    adjusted = await stock.stub.AdjustStock(
        pb.AdjustStockRequest(sku=sku, location_id="L1", delta=-2, reason="broken shelf")
    )
    assert (adjusted.level.on_hand, adjusted.level.available) == (8, 5)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stock.stub.AdjustStock(pb.AdjustStockRequest(sku=sku, location_id="L1", delta=-9))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await ledger_fold(stock.stub, sku, "L1") == as_domain(
        await level_of(stock.stub, sku, "L1")
    )


async def test_a_resent_receipt_with_its_key_is_counted_once(stock: Stock) -> None:
    sku = unique("SKU")
    request = pb.ReceiveStockRequest(sku=sku, location_id="L1", quantity=7, idempotency_key="asn-1")
    first = await stock.stub.ReceiveStock(request)
    second = await stock.stub.ReceiveStock(request)
    assert first.level == second.level
    assert (await level_of(stock.stub, sku, "L1")).on_hand == 7


async def test_network_availability_sums_only_locations_that_ship(stock: Stock) -> None:
    sku = unique("SKU")
    await add_location(stock.stub, "STORE", kind=pb.LOCATION_KIND_STORE, ships=False, pickup=True)
    for loc, qty in (("L1", 4), ("L2", 5), ("STORE", 6)):
        await receive(stock.stub, sku, loc, qty)
    reply = await stock.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku, "NONE"]))
    assert {n.sku: n.available for n in reply.network} == {sku: 9, "NONE": 0}
    assert len(reply.levels) == 3


async def test_a_partial_release_and_a_commit_apply_in_either_order(stock: Stock) -> None:
    """An order cancelled after a partial shipment: stock may see the release first."""
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 10)
    res = (await stock.stub.Reserve(reserve_request("k1", (sku, "L1", 5)))).reservation
    line = [pb.CommitLine(sku=sku, location_id="L1", quantity=3)]
    release = pb.ReleaseRequest(reservation_id=res.id, lines=line, idempotency_key="cancel-1")
    await stock.stub.Release(release)
    await stock.stub.Release(release)  # resent: changes nothing
    level = await level_of(stock.stub, sku, "L1")
    assert (level.on_hand, level.reserved) == (10, 2)

    ship = [pb.CommitLine(sku=sku, location_id="L1", quantity=2)]
    done = await stock.stub.Commit(pb.CommitRequest(reservation_id=res.id, lines=ship))
    assert done.reservation.status == pb.RESERVATION_STATUS_COMMITTED
    level = await level_of(stock.stub, sku, "L1")
    assert (level.on_hand, level.reserved, level.available) == (8, 0, 8)
    assert await ledger_fold(stock.stub, sku, "L1") == as_domain(level)


async def test_a_partial_release_needs_a_key_and_gives_back_at_most_what_is_held(
    stock: Stock,
) -> None:
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 10)
    res = (await stock.stub.Reserve(reserve_request("k1", (sku, "L1", 2)))).reservation
    line = [pb.CommitLine(sku=sku, location_id="L1", quantity=3)]
    with pytest.raises(grpc.aio.AioRpcError) as no_key:
        await stock.stub.Release(pb.ReleaseRequest(reservation_id=res.id, lines=line))
    assert no_key.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await level_of(stock.stub, sku, "L1")).reserved == 2
    # More than is held (a sender that missed a commit or a cut): what is held goes back.
    released = await stock.stub.Release(
        pb.ReleaseRequest(reservation_id=res.id, lines=line, idempotency_key="r")
    )
    assert released.reservation.status == pb.RESERVATION_STATUS_RELEASED
    assert released.reservation.lines[0].released == 2
    level = await level_of(stock.stub, sku, "L1")
    assert (level.reserved, level.available) == (0, 10)


async def test_finished_reservations_are_purged_after_their_retention_and_nothing_else(
    stock: Stock,
) -> None:
    """Released, committed and expired reservations go (lines too) once past retention; an
    active one, a recent one, and one a transfer names stay; levels and the
    ledger are untouched."""
    sku = unique("SKU")
    await receive(stock.stub, sku, "L1", 20)
    ids = {}
    for name in ("released", "committed", "active", "recent"):
        reply = await stock.stub.Reserve(reserve_request(unique(name), (sku, "L1", 1)))
        ids[name] = reply.reservation.id
    for name in ("released", "recent"):
        await stock.stub.Release(pb.ReleaseRequest(reservation_id=ids[name]))
    await stock.stub.Commit(pb.CommitRequest(reservation_id=ids["committed"]))
    moving = await stock.stub.CreateTransfer(
        pb.CreateTransferRequest(
            idempotency_key=unique("t"),
            origin_id="L1",
            destination_id="L2",
            lines=[pb.NewTransferLine(sku=sku, quantity=2)],
            ready=True,
        )
    )
    shipped = await stock.stub.ShipTransfer(pb.ShipTransferRequest(id=moving.transfer.id))
    ids["hold of a transfer"] = shipped.transfer.reservation_id
    before = await level_of(stock.stub, sku, "L1")
    ledger = await ledger_fold(stock.stub, sku, "L1")
    long_ago = utcnow() - timedelta(days=40)
    old = [ids[n] for n in ("released", "committed", "active", "hold of a transfer")]
    async with write_transaction(stock.app.engine) as conn:
        await conn.execute(
            update(tables.reservations)
            .where(tables.reservations.c.id.in_(old))
            .values(updated_at=long_ago)
        )
    assert await purge_reservations(stock.app.engine, utcnow() - timedelta(days=30)) == 2
    async with stock.app.engine.connect() as conn:
        left = set((await conn.execute(select(tables.reservations.c.id))).scalars())
        lines = set(
            (await conn.execute(select(tables.reservation_lines.c.reservation_id))).scalars()
        )
    gone = {ids["released"], ids["committed"]}
    assert not gone & left and not gone & lines
    assert {ids["active"], ids["recent"], ids["hold of a transfer"]} <= left
    assert await level_of(stock.stub, sku, "L1") == before
    assert await ledger_fold(stock.stub, sku, "L1") == ledger
    with pytest.raises(grpc.aio.AioRpcError) as purged:
        await stock.stub.GetReservation(pb.GetReservationRequest(id=ids["released"]))
    assert purged.value.code() == grpc.StatusCode.NOT_FOUND
