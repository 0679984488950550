"""Channel views: each channel sees availability less its buffer per location kind."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from omni.common.v1 import common_pb2 as cpb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import unique
from tests.helpers.running import Stock
from tests.helpers.stock import add_location, receive

STORE, WAREHOUSE = pb.LOCATION_KIND_STORE, pb.LOCATION_KIND_WAREHOUSE
MARKETPLACE = cpb.CHANNEL_MARKETPLACE


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    await add_location(two_replicas[0].stub, "WH")
    await add_location(two_replicas[0].stub, "ST", kind=STORE, ships=True, pickup=True)
    return two_replicas


def view(channel: int, **buffers: int) -> pb.SetChannelViewRequest:
    kinds = {"STORE": STORE, "WAREHOUSE": WAREHOUSE}
    return pb.SetChannelViewRequest(
        view=pb.ChannelView(
            channel=channel,
            buffers=[pb.ChannelBuffer(location_kind=kinds[k], units=u) for k, u in buffers.items()],
        )
    )


async def seen(stock: Stock, sku: str, channel: int = 0) -> tuple[dict[str, int], int]:
    reply = await stock.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku], channel=channel))
    return {lv.location_id: lv.available for lv in reply.levels}, reply.network[0].available


async def test_a_channel_sees_each_level_less_its_buffer_never_below_zero(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("SKU")
    await receive(a.stub, sku, "WH", 10)
    await receive(a.stub, sku, "ST", 5)
    await a.stub.SetChannelView(view(MARKETPLACE, STORE=2))

    assert await seen(a, sku, MARKETPLACE) == ({"WH": 10, "ST": 3}, 13)
    assert await seen(a, sku, cpb.CHANNEL_WEB) == ({"WH": 10, "ST": 5}, 15)  # no view: no buffer
    assert await seen(a, sku) == ({"WH": 10, "ST": 5}, 15)  # no channel: the level itself

    await a.stub.AdjustStock(pb.AdjustStockRequest(sku=sku, location_id="ST", delta=-4))
    assert await seen(a, sku, MARKETPLACE) == ({"WH": 10, "ST": 0}, 10)


async def test_channel_views_are_stored_and_replaced_whole(replicas: list[Stock]) -> None:
    a, b = replicas
    await a.stub.SetChannelView(view(MARKETPLACE, STORE=2, WAREHOUSE=1))
    await a.stub.SetChannelView(view(MARKETPLACE, STORE=3))
    await a.stub.SetChannelView(view(cpb.CHANNEL_POS, WAREHOUSE=5))
    listed = (await b.stub.ListChannelViews(pb.ListChannelViewsRequest())).views
    assert {(v.channel, b.location_kind, b.units) for v in listed for b in v.buffers} == {
        (MARKETPLACE, STORE, 3),
        (cpb.CHANNEL_POS, WAREHOUSE, 5),
    }


async def test_bad_channel_views_are_refused_and_change_nothing(replicas: list[Stock]) -> None:
    a, _ = replicas
    await a.stub.SetChannelView(view(MARKETPLACE, STORE=2))
    bad = [
        view(cpb.CHANNEL_UNSPECIFIED, STORE=1),
        view(99, STORE=1),
        view(MARKETPLACE, STORE=-1),
        pb.SetChannelViewRequest(
            view=pb.ChannelView(
                channel=MARKETPLACE,
                buffers=[
                    pb.ChannelBuffer(location_kind=STORE, units=1),
                    pb.ChannelBuffer(location_kind=STORE, units=2),
                ],
            )
        ),
        pb.SetChannelViewRequest(
            view=pb.ChannelView(
                channel=MARKETPLACE, buffers=[pb.ChannelBuffer(location_kind=0, units=1)]
            )
        ),
    ]
    for request in bad:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await a.stub.SetChannelView(request)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await a.stub.GetAvailability(pb.GetAvailabilityRequest(skus=["A"], channel=99))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    listed = (await a.stub.ListChannelViews(pb.ListChannelViewsRequest())).views
    assert [(b.location_kind, b.units) for v in listed for b in v.buffers] == [(STORE, 2)]


async def test_a_channel_watcher_sees_its_view_and_a_changed_view_at_once(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("SKU")
    await receive(a.stub, sku, "ST", 5)
    await a.stub.SetChannelView(view(MARKETPLACE, STORE=2))
    stream = b.stub.WatchAvailability(
        pb.WatchAvailabilityRequest(skus=[sku], location_ids=["ST"], channel=MARKETPLACE)
    )
    replies = aiter(stream)
    first, network = await anext(replies), await anext(replies)
    assert (first.level.available, first.level.version) == (3, 1)
    assert (network.network.sku, network.network.available) == (sku, 3)  # ST ships

    await a.stub.SetChannelView(view(MARKETPLACE, STORE=4))  # no level changes
    changed, network = await asyncio.wait_for(anext(replies), 5), await anext(replies)
    assert (changed.level.available, changed.level.version) == (1, 1)
    assert network.network.available == 1

    await a.stub.ReceiveStock(pb.ReceiveStockRequest(sku=sku, location_id="ST", quantity=2))
    later = (await asyncio.wait_for(anext(replies), 5)).level
    assert (later.available, later.version) == (3, 2)
    stream.cancel()
