"""No unit is promised twice: concurrent reservations through several stock replicas."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers import (
    add_location,
    free_port,
    ledger_fold,
    level_of,
    migrate_database,
    receive,
    running_stock,
    start_process,
    unique,
    wait_serving,
)

UNITS = 50
BUYERS = 300


@asynccontextmanager
async def stock_processes(database_url: str, nats_url: str, count: int) -> AsyncIterator[list[str]]:
    """`count` stock service processes on one database; yields their gRPC addresses."""
    ports = [free_port() for _ in range(count)]
    env = {"OMNI_STOCK_DATABASE_URL": database_url, "NATS_URL": nats_url}
    # Migrate once up front, as the Kubernetes migration Job does before a rollout.
    migrate_database("omni.stock", env)
    procs = [
        start_process(
            "omni.stock",
            {**env, "OMNI_STOCK_GRPC_PORT": str(p), "OMNI_STOCK_MIGRATE_ON_START": "false"},
        )
        for p in ports
    ]
    try:
        targets = [f"127.0.0.1:{p}" for p in ports]
        for target in targets:
            await wait_serving(target)
        yield targets
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            assert proc.wait(20) == 0, "a stock process did not stop cleanly on SIGTERM"


async def reserve_one_each(stubs: list[stock_pb2_grpc.StockServiceStub], sku: str) -> Counter[str]:
    """BUYERS concurrent one-unit reservations, spread round-robin over the replicas."""

    async def buy(i: int) -> str:
        request = pb.ReserveRequest(
            idempotency_key=f"buyer-{i}",
            reference=f"cart-{i}",
            lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=1)],
        )
        try:
            await stubs[i % len(stubs)].Reserve(request, timeout=60)
            return "OK"
        except grpc.aio.AioRpcError as exc:
            return exc.code().name

    return Counter(await asyncio.gather(*(buy(i) for i in range(BUYERS))))


async def assert_sold_exactly_the_units(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, outcomes: Counter[str]
) -> None:
    assert outcomes == Counter({"OK": UNITS, "FAILED_PRECONDITION": BUYERS - UNITS})
    level = await level_of(stub, sku, "L1")
    assert (level.on_hand, level.reserved, level.available) == (UNITS, UNITS, 0)
    folded = await ledger_fold(stub, sku, "L1")
    assert (folded.on_hand, folded.reserved, folded.version) == (UNITS, UNITS, level.version)
    assert level.version == 1 + UNITS  # one receipt, one movement per unit sold


async def test_two_stock_processes_on_postgresql_never_oversell(
    postgres_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("HOT")
    async with stock_processes(postgres_url, nats_server.url, 2) as targets:
        channels = [grpc.aio.insecure_channel(t) for t in targets]
        stubs = [stock_pb2_grpc.StockServiceStub(c) for c in channels]
        await add_location(stubs[0], "L1")
        await receive(stubs[1], sku, "L1", UNITS)
        outcomes = await reserve_one_each(stubs, sku)
        await assert_sold_exactly_the_units(stubs[1], sku, outcomes)
        for channel in channels:
            await channel.close()


async def test_one_stock_service_on_sqlite_never_oversells(
    tmp_path: object, nats_server: EmbeddedNats
) -> None:
    sku = unique("HOT")
    async with running_stock(f"sqlite+aiosqlite:///{tmp_path}/stock.db", nats_server.url) as stock:
        await add_location(stock.stub, "L1")
        await receive(stock.stub, sku, "L1", UNITS)
        outcomes = await reserve_one_each([stock.stub], sku)
        await assert_sold_exactly_the_units(stock.stub, sku, outcomes)
