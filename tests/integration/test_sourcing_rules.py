"""A channel's sourcing rules for ship orders (SQLite and PostgreSQL): tried in order, the
first that fills the whole order within its limits decides; a channel without rules, and
every other channel, source as by default."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from omni.common.v1 import common_pb2 as cpb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import unique
from tests.helpers.running import Stock, running_stock
from tests.helpers.stock import add_location, receive

STORE = pb.LOCATION_KIND_STORE


@pytest.fixture
async def stock(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[Stock]:
    """A store that ships and a warehouse in the north, a warehouse in the south."""
    async with running_stock(database_url, nats_server) as running:
        await add_location(running.stub, "STORE-N", kind=STORE, region="north", priority=0)
        await add_location(running.stub, "WH-N", region="north", priority=1)
        await add_location(running.stub, "WH-S", region="south")
        yield running


async def ship_north(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, quantity: int, channel: int = cpb.CHANNEL_WEB
) -> dict[str, int]:
    """Where an order's units come from."""
    key = unique("alloc")
    request = pb.AllocateRequest(
        idempotency_key=key,
        reference=key,
        lines=[pb.AllocateLine(sku=sku, quantity=quantity)],
        ship=cpb.ShipTo(region="north"),
        channel=channel,
    )
    made = (await stub.Allocate(request)).reservation
    return {line.location_id: line.quantity for line in made.lines}


async def set_rules(stub: stock_pb2_grpc.StockServiceStub, *rules: pb.SourcingRule) -> None:
    request = pb.SetSourcingRulesRequest(
        rules=pb.SourcingRules(channel=cpb.CHANNEL_WEB, rules=list(rules))
    )
    await stub.SetSourcingRules(request)


async def test_a_channels_rules_decide_where_its_ship_orders_come_from(stock: Stock) -> None:
    stub = stock.stub
    sku = unique("SKU")
    for loc in ("STORE-N", "WH-S"):
        await receive(stub, sku, loc, 10)
    assert await ship_north(stub, sku, 1) == {"STORE-N": 1}  # no rules: the nearest

    await set_rules(stub, pb.SourcingRule())  # warehouses only
    assert await ship_north(stub, sku, 1) == {"WH-S": 1}
    assert await ship_north(stub, sku, 1, cpb.CHANNEL_APP) == {"STORE-N": 1}  # its own way
    got = await stub.GetSourcingRules(pb.GetSourcingRulesRequest(channel=cpb.CHANNEL_WEB))
    assert [r.stores_may_ship for r in got.rules.rules] == [False]

    await set_rules(stub, pb.SourcingRule(stores_may_ship=True, location_ids=["STORE-N"]))
    assert await ship_north(stub, sku, 1) == {"STORE-N": 1}
    await set_rules(stub)  # none: the default again
    got = await stub.GetSourcingRules(pb.GetSourcingRulesRequest(channel=cpb.CHANNEL_WEB))
    assert list(got.rules.rules) == []
    assert await ship_north(stub, sku, 1) == {"STORE-N": 1}


async def test_rules_are_tried_in_order_each_within_its_limits(stock: Stock) -> None:
    stub = stock.stub
    sku = unique("SKU")
    for loc in ("WH-N", "WH-S"):
        await receive(stub, sku, loc, 2)
    # First the north alone, in one parcel; else any warehouse, in as many as it takes.
    await set_rules(
        stub,
        pb.SourcingRule(same_region_only=True, max_locations=1),
        pb.SourcingRule(),
    )
    assert await ship_north(stub, sku, 1) == {"WH-N": 1}
    assert await ship_north(stub, sku, 3) == {"WH-N": 1, "WH-S": 2}

    await set_rules(stub, pb.SourcingRule(same_region_only=True))
    with pytest.raises(grpc.aio.AioRpcError) as short:  # the south may not
        await ship_north(stub, sku, 1)
    assert short.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    await receive(stub, sku, "WH-N", 1)
    await receive(stub, sku, "WH-S", 2)
    await set_rules(stub, pb.SourcingRule(max_locations=1))
    with pytest.raises(grpc.aio.AioRpcError) as split:  # 1 in the north, 2 in the south
        await ship_north(stub, sku, 3)
    assert split.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "within its limits" in (split.value.details() or "")


async def test_a_rule_naming_an_unknown_location_is_refused(stock: Stock) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await set_rules(stock.stub, pb.SourcingRule(location_ids=["NOWHERE"]))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    got = await stock.stub.GetSourcingRules(pb.GetSourcingRulesRequest(channel=cpb.CHANNEL_WEB))
    assert list(got.rules.rules) == []
