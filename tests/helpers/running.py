"""Services run for real in the test's process, on real ports; the tokens tests call with."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import nats as nats_py
from nats.aio.client import Client as NatsClient

from omni.orders.app import OrdersApp
from omni.orders.settings import OrdersSettings
from omni.orders.v1 import orders_pb2_grpc
from omni.pickup.app import PickupApp
from omni.pickup.settings import PickupSettings
from omni.pickup.v1 import pickup_pb2_grpc
from omni.platform import client
from omni.platform.natsserver import EmbeddedNats
from omni.platform.service import Service
from omni.returns.app import ReturnsApp
from omni.returns.settings import ReturnsSettings
from omni.returns.v1 import returns_pb2_grpc
from omni.stock.app import StockApp
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2_grpc


@dataclass
class Stock:
    app: StockApp
    stub: stock_pb2_grpc.StockServiceStub
    channel: grpc.aio.Channel
    # NATS as the operator: the test's own view of the bus (subjects the service's user may
    # not read), never the service's connection.
    bus: NatsClient


@dataclass
class Orders:
    app: OrdersApp
    stub: orders_pb2_grpc.OrdersServiceStub
    channel: grpc.aio.Channel
    # NATS as the operator: the test's own view of the bus (subjects the service's user may
    # not read), never the service's connection.
    bus: NatsClient


# One token per role; associates and managers work at STORE-1 ("*-anywhere": any location),
# and so does "scanner-store" (the "scanner" scans anywhere).
TOKENS = {
    "service": "test-service-token",
    "storefront": "test-storefront-token",
    "scanner": "test-scanner-token",
    "scanner-store": "test-scanner-store-token",
    "associate": "test-associate-token",
    "manager": "test-manager-token",
    "associate-anywhere": "test-associate-anywhere-token",
    "manager-anywhere": "test-manager-anywhere-token",
}


AUTH_TOKENS = json.dumps(
    [
        {"token": token, "role": name.split("-")[0], "subject": f"test-{name}"}
        | ({"store": "STORE-1"} if name in ("associate", "manager", "scanner-store") else {})
        for name, token in TOKENS.items()
    ]
)


# What every in-process service in a test gets unless the test says otherwise.
TEST_SETTINGS: dict[str, Any] = {
    "grpc_host": "127.0.0.1",
    "grpc_port": 0,
    "shutdown_grace_seconds": 0.5,
    "auth_tokens": AUTH_TOKENS,
    "metrics_port": -1,
}


def authorized(target: str, role: str = "service") -> grpc.aio.Channel:
    """A channel to `target` whose calls carry the test token of `role`."""
    return client.channel(target, TOKENS[role])


@asynccontextmanager
async def running_stock(
    database_url: str, nats: EmbeddedNats, **overrides: Any
) -> AsyncIterator[Stock]:
    """A stock service in this process, on a real gRPC port, as its composition root builds it,
    connected to `nats` as its own user (`nats_url=` in `overrides`: through a proxy)."""
    settings = StockSettings(
        database_url=database_url,
        **{
            **nats.settings("stock"),
            **TEST_SETTINGS,
            "expiry_interval_seconds": 0.1,
            "backorder_interval_seconds": 0.1,
            **overrides,
        },
    )
    async with _serving(StockApp(settings), nats) as (app, channel, bus):
        yield Stock(app, stock_pb2_grpc.StockServiceStub(channel), channel, bus)


@asynccontextmanager
async def running_orders(
    database_url: str, nats: EmbeddedNats, **overrides: Any
) -> AsyncIterator[Orders]:
    """An orders service in this process, on a real gRPC port."""
    settings = OrdersSettings(
        database_url=database_url, **{**nats.settings("orders"), **TEST_SETTINGS, **overrides}
    )
    async with _serving(OrdersApp(settings), nats) as (app, channel, bus):
        yield Orders(app, orders_pb2_grpc.OrdersServiceStub(channel), channel, bus)


@dataclass
class Pickup:
    app: PickupApp
    stub: pickup_pb2_grpc.PickupServiceStub
    channel: grpc.aio.Channel
    # NATS as the operator: the test's own view of the bus (subjects the service's user may
    # not read), never the service's connection.
    bus: NatsClient


# The key pickup codes are sealed with in tests (the notification system's copy).
TEST_CODE_KEY = "uJzQq1vvXQdW3f0ZbMyzBkqnOdHq9WmV_U1dwz1zZ0o="


@asynccontextmanager
async def running_pickup(
    database_url: str, nats: EmbeddedNats, **overrides: Any
) -> AsyncIterator[Pickup]:
    """A pickup service in this process, on a real gRPC port."""
    settings = PickupSettings(
        database_url=database_url,
        **{
            **nats.settings("pickup"),
            **TEST_SETTINGS,
            "code_key": TEST_CODE_KEY,
            "expiry_interval_seconds": 0.1,
            **overrides,
        },
    )
    async with _serving(PickupApp(settings), nats) as (app, channel, bus):
        yield Pickup(app, pickup_pb2_grpc.PickupServiceStub(channel), channel, bus)


@dataclass
class Returns:
    app: ReturnsApp
    stub: returns_pb2_grpc.ReturnsServiceStub
    channel: grpc.aio.Channel
    # NATS as the operator: the test's own view of the bus (subjects the service's user may
    # not read), never the service's connection.
    bus: NatsClient


@asynccontextmanager
async def running_returns(
    database_url: str, nats: EmbeddedNats, **overrides: Any
) -> AsyncIterator[Returns]:
    """A returns service in this process, on a real gRPC port."""
    settings = ReturnsSettings(
        database_url=database_url, **{**nats.settings("returns"), **TEST_SETTINGS, **overrides}
    )
    async with _serving(ReturnsApp(settings), nats) as (app, channel, bus):
        yield Returns(app, returns_pb2_grpc.ReturnsServiceStub(channel), channel, bus)


A = TypeVar("A", bound=Service)


@asynccontextmanager
async def _serving(
    app: A, nats: EmbeddedNats
) -> AsyncIterator[tuple[A, grpc.aio.Channel, NatsClient]]:
    await app.start()
    channel = authorized(f"127.0.0.1:{app.port}")
    bus = await nats_py.connect(nats.operator_url)
    try:
        yield app, channel, bus
    finally:
        await bus.close()
        await channel.close()
        await app.stop()
