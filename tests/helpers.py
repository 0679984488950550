"""Helpers for tests: run the services for real, and talk to them like a client does."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from omni.common.v1 import common_pb2 as cpb
from omni.orders.app import OrdersApp
from omni.orders.settings import OrdersSettings
from omni.orders.v1 import orders_pb2_grpc
from omni.pickup.app import PickupApp
from omni.pickup.settings import PickupSettings
from omni.pickup.v1 import pickup_pb2_grpc
from omni.platform import client
from omni.platform.service import Service
from omni.returns.app import ReturnsApp
from omni.returns.settings import ReturnsSettings
from omni.returns.v1 import returns_pb2_grpc
from omni.stock.app import StockApp
from omni.stock.domain.model import Movement, MovementKind, StockLevel, fold
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Stock:
    app: StockApp
    stub: stock_pb2_grpc.StockServiceStub
    channel: grpc.aio.Channel


@dataclass
class Orders:
    app: OrdersApp
    stub: orders_pb2_grpc.OrdersServiceStub
    channel: grpc.aio.Channel


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
# What every service process a test starts gets: the tokens, and no metrics port (several
# replicas on one machine would want the same one).
PROCESS_ENV = {
    "OMNI_AUTH_TOKENS": AUTH_TOKENS,
    **{f"OMNI_{s}_METRICS_PORT": "-1" for s in ("STOCK", "ORDERS", "PICKUP", "RETURNS")},
}
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
async def running_stock(database_url: str, nats_url: str, **overrides: Any) -> AsyncIterator[Stock]:
    """A stock service in this process, on a real gRPC port, as its composition root builds it."""
    settings = StockSettings(
        database_url=database_url,
        nats_url=nats_url,
        **{**TEST_SETTINGS, "expiry_interval_seconds": 0.1, **overrides},
    )
    async with _serving(StockApp(settings)) as (app, channel):
        yield Stock(app, stock_pb2_grpc.StockServiceStub(channel), channel)


@asynccontextmanager
async def running_orders(
    database_url: str, nats_url: str, **overrides: Any
) -> AsyncIterator[Orders]:
    """An orders service in this process, on a real gRPC port."""
    settings = OrdersSettings(
        database_url=database_url, nats_url=nats_url, **{**TEST_SETTINGS, **overrides}
    )
    async with _serving(OrdersApp(settings)) as (app, channel):
        yield Orders(app, orders_pb2_grpc.OrdersServiceStub(channel), channel)


@dataclass
class Pickup:
    app: PickupApp
    stub: pickup_pb2_grpc.PickupServiceStub
    channel: grpc.aio.Channel


# The key pickup codes are sealed with in tests (the notification system's copy).
TEST_CODE_KEY = "uJzQq1vvXQdW3f0ZbMyzBkqnOdHq9WmV_U1dwz1zZ0o="


@asynccontextmanager
async def running_pickup(
    database_url: str, nats_url: str, **overrides: Any
) -> AsyncIterator[Pickup]:
    """A pickup service in this process, on a real gRPC port."""
    settings = PickupSettings(
        database_url=database_url,
        nats_url=nats_url,
        **{**TEST_SETTINGS, "code_key": TEST_CODE_KEY, "expiry_interval_seconds": 0.1, **overrides},
    )
    async with _serving(PickupApp(settings)) as (app, channel):
        yield Pickup(app, pickup_pb2_grpc.PickupServiceStub(channel), channel)


@dataclass
class Returns:
    app: ReturnsApp
    stub: returns_pb2_grpc.ReturnsServiceStub
    channel: grpc.aio.Channel


@asynccontextmanager
async def running_returns(
    database_url: str, nats_url: str, **overrides: Any
) -> AsyncIterator[Returns]:
    """A returns service in this process, on a real gRPC port."""
    settings = ReturnsSettings(
        database_url=database_url, nats_url=nats_url, **{**TEST_SETTINGS, **overrides}
    )
    async with _serving(ReturnsApp(settings)) as (app, channel):
        yield Returns(app, returns_pb2_grpc.ReturnsServiceStub(channel), channel)


A = TypeVar("A", bound=Service)


@asynccontextmanager
async def _serving(app: A) -> AsyncIterator[tuple[A, grpc.aio.Channel]]:
    await app.start()
    channel = authorized(f"127.0.0.1:{app.port}")
    try:
        yield app, channel
    finally:
        await channel.close()
        await app.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_process(module: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Starts `python -m module` with the given environment (and the test tokens) added."""
    env = {**os.environ, **PROCESS_ENV, **env}
    return subprocess.Popen([sys.executable, "-m", module], env=env)


def migrate_database(module: str, env: Mapping[str, str]) -> None:
    """Runs `python -m module migrate` and fails the test if it fails."""
    subprocess.run([sys.executable, "-m", module, "migrate"], env={**os.environ, **env}, check=True)


async def wait_serving(target: str, within: float = 30.0) -> None:
    """Waits until the gRPC health service at `target` answers SERVING."""
    deadline = time.monotonic() + within
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{target} did not become SERVING in {within}s")


async def eventually(check: Callable[[], Any], within: float = 5.0, interval: float = 0.05) -> Any:
    """Polls an async check until it returns something truthy; fails after `timeout`."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(interval)


def location(location_id: str, **fields: Any) -> pb.Location:
    defaults: dict[str, Any] = {
        "id": location_id,
        "name": location_id,
        "kind": pb.LOCATION_KIND_WAREHOUSE,
        "ships": True,
        "region": "eu",
    }
    return pb.Location(**{**defaults, **fields})


async def add_location(stub: stock_pb2_grpc.StockServiceStub, location_id: str, **f: Any) -> None:
    await stub.CreateLocation(pb.CreateLocationRequest(location=location(location_id, **f)))


async def receive(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, location_id: str, qty: int
) -> pb.StockLevel:
    reply = await stub.ReceiveStock(
        pb.ReceiveStockRequest(sku=sku, location_id=location_id, quantity=qty)
    )
    return reply.level


async def level_of(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, location_id: str
) -> pb.StockLevel:
    reply = await stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=[sku], location_ids=[location_id])
    )
    return reply.levels[0] if reply.levels else pb.StockLevel(sku=sku, location_id=location_id)


async def ledger_fold(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, location_id: str
) -> StockLevel:
    """Reads the whole ledger page by page and folds it from zero."""
    movements: list[Movement] = []
    token = ""
    while True:
        page = await stub.ListMovements(
            pb.ListMovementsRequest(
                sku=sku, location_id=location_id, page_size=100, page_token=token
            )
        )
        movements += [
            Movement(
                m.sku,
                m.location_id,
                MovementKind(pb.MovementKind.Name(m.kind)[14:]),
                m.on_hand_delta,
                m.reserved_delta,
                m.damaged_delta,
                m.safety_stock_delta,
                m.reference,
                m.actor,
                m.version,
            )
            for m in page.movements
        ]
        token = page.next_page_token
        if not token:
            return fold(movements, sku, location_id)


def short_lines(error: grpc.aio.AioRpcError) -> list[cpb.ShortLine]:
    """The InsufficientStock detail carried by a FAILED_PRECONDITION."""
    status = rpc_status.from_call(error)
    assert status is not None, "no google.rpc.Status detail on the error"
    detail = pb.InsufficientStock()
    assert status.details[0].Unpack(detail)
    return list(detail.lines)


def as_domain(level: pb.StockLevel) -> StockLevel:
    """A level from the wire as the domain's StockLevel (to compare with a folded ledger)."""
    return StockLevel(
        level.sku,
        level.location_id,
        level.on_hand,
        level.reserved,
        level.safety_stock,
        level.damaged,
        level.version,
    )


TextCase = tuple[str, Any, str]  # (rpc, request, the field holding the bad text)


async def assert_text_refused(stub: Any, nul: list[TextCase], control: list[TextCase]) -> None:
    """Each call, with a NUL or a control character in one text field, is INVALID_ARGUMENT
    naming that field."""
    for cases, what in ((nul, "a NUL character"), (control, "control characters")):
        for rpc, request, field in cases:
            try:
                await getattr(stub, rpc)(request)
            except grpc.aio.AioRpcError as failure:
                assert (rpc, failure.code()) == (rpc, grpc.StatusCode.INVALID_ARGUMENT), (
                    failure.details()
                )
                assert failure.details().startswith(f"{field} may not contain {what}")
            else:
                raise AssertionError(f"{rpc} took {what} in {field}")
