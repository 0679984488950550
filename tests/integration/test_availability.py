"""WatchAvailability across replicas, on SQLite and PostgreSQL, with a real nats-server."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import unique
from tests.helpers.running import Stock
from tests.helpers.stock import add_location, receive


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    await add_location(two_replicas[0].stub, "L1")
    return two_replicas


def watch(stub: stock_pb2_grpc.StockServiceStub, *skus: str, locations: tuple[str, ...] = ("L1",)):  # type: ignore[no-untyped-def]
    return stub.WatchAvailability(
        pb.WatchAvailabilityRequest(skus=list(skus), location_ids=list(locations))
    )


async def next_level(replies) -> pb.StockLevel:  # type: ignore[no-untyped-def]
    """The next level update, past any network availability updates."""
    while True:
        reply = await anext(replies)
        if reply.HasField("level"):
            return reply.level


async def until_version(stream, sku: str, version: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Reads the stream until `sku` reaches `version`; returns the versions seen for it."""
    seen: list[int] = []
    async for reply in stream:
        if reply.level.sku == sku:
            seen.append(reply.level.version)
            if reply.level.version >= version:
                return seen
    raise AssertionError("the stream ended")


async def test_a_watcher_on_one_replica_sees_a_reservation_made_through_another(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("SKU")
    await receive(a.stub, sku, "L1", 10)
    stream = watch(b.stub, sku)
    first = await next_level(aiter(stream))
    assert (first.available, first.version) == (10, 1)

    await a.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="k1", lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=3)]
        )
    )
    seen = await asyncio.wait_for(until_version(stream, sku, 2), 5)
    assert seen == [2]
    level = (await b.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku]))).levels[0]
    assert (level.available, level.version) == (7, 2)
    stream.cancel()


async def test_the_first_values_cover_every_requested_pair_even_without_stock(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    await add_location(a.stub, "L2")
    sku = unique("SKU")
    await receive(a.stub, sku, "L1", 4)
    stream = watch(a.stub, sku, locations=("L1", "L2"))
    replies = aiter(stream)
    firsts = [await next_level(replies) for _ in range(2)]
    assert {(lv.location_id, lv.available, lv.version) for lv in firsts} == {
        ("L1", 4, 1),
        ("L2", 0, 0),
    }
    stream.cancel()


async def test_a_slow_watcher_delays_no_one_and_ends_on_the_latest_version(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("SKU")
    await receive(a.stub, sku, "L1", 1000)
    slow = watch(b.stub, sku)  # opened, then not read while the changes happen
    fast = watch(b.stub, sku)
    fast_seen = asyncio.ensure_future(until_version(fast, sku, 201))
    for i in range(200):
        await a.stub.Reserve(
            pb.ReserveRequest(
                idempotency_key=f"k{i}",
                lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=1)],
            )
        )
    fast_versions = await asyncio.wait_for(fast_seen, 10)
    assert fast_versions == sorted(fast_versions) and fast_versions[-1] == 201

    slow_versions = await asyncio.wait_for(until_version(slow, sku, 201), 10)
    assert slow_versions == sorted(set(slow_versions)), "versions went backwards or repeated"
    assert slow_versions[-1] == 201
    # Held for the slow watcher while it did not read: at most its one key.
    assert b.app.hub.most_waiting <= 1
    slow.cancel()
    fast.cancel()


async def test_a_watch_needs_skus_and_a_bounded_number_of_keys(replicas: list[Stock]) -> None:
    a, _ = replicas
    for request in (
        pb.WatchAvailabilityRequest(),
        pb.WatchAvailabilityRequest(
            skus=[f"S{i}" for i in range(1000)], location_ids=[f"L{i}" for i in range(11)]
        ),
        pb.WatchAvailabilityRequest(skus=["bad sku"]),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            async for _ in a.stub.WatchAvailability(request):
                pass
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_watcher_catches_up_after_nats_was_away(
    replicas: list[Stock], nats_server: EmbeddedNats
) -> None:
    a, b = replicas
    sku = unique("SKU")
    await receive(a.stub, sku, "L1", 5)
    stream = watch(b.stub, sku)
    assert (await next_level(aiter(stream))).version == 1
    nats_server.stop()
    await a.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="k1", lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=2)]
        )
    )
    nats_server.start()
    seen = await asyncio.wait_for(until_version(stream, sku, 2), 15)
    assert seen[-1] == 2
    stream.cancel()


async def test_network_availability_comes_first_and_follows_every_shipping_location(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    await add_location(a.stub, "L2")
    await add_location(a.stub, "SHOP", kind=pb.LOCATION_KIND_STORE, ships=False, pickup=True)
    sku = unique("SKU")
    for location, qty in (("L1", 4), ("L2", 1), ("SHOP", 9)):
        await receive(a.stub, sku, location, qty)
    replies = aiter(watch(b.stub, sku))  # levels of L1 only; network over L1 and L2
    first, network = await anext(replies), await anext(replies)
    assert (first.level.location_id, first.level.available) == ("L1", 4)
    assert (network.network.sku, network.network.available) == (sku, 5)  # SHOP does not ship

    await a.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="k1", lines=[pb.ReserveLine(sku=sku, location_id="L2", quantity=1)]
        )
    )
    changed = await asyncio.wait_for(anext(replies), 5)
    assert (changed.network.sku, changed.network.available) == (sku, 4)
