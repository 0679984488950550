"""Every RPC of every service: refused without a token, refused for a role it does not allow,
let through for one it does — one table, which fails when an RPC is added without a rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from omni.orders.entrypoints.grpc_api import ACCESS as ORDERS_ACCESS
from omni.orders.v1 import orders_pb2
from omni.pickup.entrypoints.grpc_api import ACCESS as PICKUP_ACCESS
from omni.pickup.v1 import pickup_pb2, pickup_pb2_grpc
from omni.platform.auth import Role
from omni.platform.natsserver import EmbeddedNats
from omni.returns.entrypoints.grpc_api import ACCESS as RETURNS_ACCESS
from omni.returns.v1 import returns_pb2, returns_pb2_grpc
from omni.stock.entrypoints.grpc_api import ACCESS as STOCK_ACCESS
from omni.stock.v1 import stock_pb2
from tests.helpers import (
    authorized,
    running_orders,
    running_pickup,
    running_returns,
    running_stock,
)

SERVICES: dict[str, tuple[ServiceDescriptor, dict[str, Any]]] = {
    "stock": (stock_pb2.DESCRIPTOR.services_by_name["StockService"], dict(STOCK_ACCESS)),
    "orders": (orders_pb2.DESCRIPTOR.services_by_name["OrdersService"], dict(ORDERS_ACCESS)),
    "pickup": (pickup_pb2.DESCRIPTOR.services_by_name["PickupService"], dict(PICKUP_ACCESS)),
    "returns": (returns_pb2.DESCRIPTOR.services_by_name["ReturnsService"], dict(RETURNS_ACCESS)),
}
REFUSED = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
# A token per role that may act anywhere (store scoping is tested separately).
ROLE_TOKENS = {
    Role.STOREFRONT: "storefront",
    Role.SCANNER: "scanner",
    Role.ASSOCIATE: "associate-anywhere",
    Role.MANAGER: "manager-anywhere",
    Role.SERVICE: "service",
}


@pytest.fixture
async def targets(tmp_path: Path, nats_server: EmbeddedNats) -> AsyncIterator[dict[str, str]]:
    url = nats_server.url

    def db(name: str) -> str:
        return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"

    async with (
        running_stock(db("stock"), url) as stock,
        running_orders(db("orders"), url) as orders,
        running_pickup(db("pickup"), url) as pickup,
        running_returns(db("returns"), url) as returns,
    ):
        yield {
            name: f"127.0.0.1:{running.app.port}"
            for name, running in (
                ("stock", stock),
                ("orders", orders),
                ("pickup", pickup),
                ("returns", returns),
            )
        }


def test_every_rpc_of_every_service_has_an_access_rule() -> None:
    for name, (service, access) in SERVICES.items():
        assert {m.name for m in service.methods} == set(access), name


async def call(channel: grpc.aio.Channel, method: MethodDescriptor) -> grpc.StatusCode:
    """Calls `method` with an empty request (or stream) and returns the status code."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    try:
        if method.client_streaming:
            stream = channel.stream_stream(path)(iter(()))
            async for _ in stream:
                pass
        elif method.server_streaming:
            stream = channel.unary_stream(path)(b"")
            await stream.read()
            stream.cancel()
        else:
            await channel.unary_unary(path)(b"", timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def test_each_rpc_admits_exactly_its_roles(targets: dict[str, str]) -> None:
    for name, (service, access) in SERVICES.items():
        target = targets[name]
        async with grpc.aio.insecure_channel(target) as anonymous:
            for method in service.methods:
                assert await call(anonymous, method) == grpc.StatusCode.UNAUTHENTICATED, method.name
        for role, token_name in ROLE_TOKENS.items():
            async with authorized(target, token_name) as channel:
                for method in service.methods:
                    code = await call(channel, method)
                    allowed = role in access[method.name]
                    expected = "let through" if allowed else "PERMISSION_DENIED"
                    got_through = code not in REFUSED
                    assert got_through == allowed, (name, method.name, role, expected, code)


async def test_a_wrong_token_is_unauthenticated(targets: dict[str, str]) -> None:
    from omni.platform import client

    async with client.channel(targets["stock"], "not-a-token") as channel:
        method = SERVICES["stock"][0].methods_by_name["ListLocations"]
        assert await call(channel, method) == grpc.StatusCode.UNAUTHENTICATED


async def test_store_staff_act_at_their_own_store_only(targets: dict[str, str]) -> None:
    """The associate and manager test tokens work at STORE-1."""
    async with authorized(targets["pickup"], "associate") as channel:
        stub = pickup_pb2_grpc.PickupServiceStub(channel)
        await stub.ListPickups(pickup_pb2.ListPickupsRequest(store_id="STORE-1"))
        with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
            await stub.ListPickups(pickup_pb2.ListPickupsRequest(store_id="STORE-2"))
        assert elsewhere.value.code() == grpc.StatusCode.PERMISSION_DENIED
    request = returns_pb2.CreateReturnRequest(
        idempotency_key="k",
        order_id="ord_1",
        channel=stock_pb2.CHANNEL_POS,
        lines=[returns_pb2.CreateReturnLine(sku="A", quantity=1)],
        location_id="STORE-2",
    )
    async with authorized(targets["returns"], "manager") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as other_store:
            await returns_pb2_grpc.ReturnsServiceStub(channel).CreateReturn(request)
        assert other_store.value.code() == grpc.StatusCode.PERMISSION_DENIED
    request.location_id = "STORE-1"
    request.override.CopyFrom(returns_pb2.Override(manager_id="m", reason="gift"))
    async with authorized(targets["returns"], "associate") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as not_a_manager:
            await returns_pb2_grpc.ReturnsServiceStub(channel).CreateReturn(request)
        assert not_a_manager.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "manager" in (not_a_manager.value.details() or "")
