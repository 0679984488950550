"""No unit is promised twice: concurrent reservations through several stock replicas."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
import nats

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from omni.stock.v1.messaging_pb2 import StockReserved
from tests.helpers.checks import unique
from tests.helpers.processes import free_port, migrate_database, start_process, wait_serving
from tests.helpers.running import authorized, running_stock
from tests.helpers.stock import add_location, ledger_fold, level_of, receive

UNITS = 50
BUYERS = 300


@dataclass
class Replicas:
    targets: list[str]
    processes: list[subprocess.Popen[bytes]]


@asynccontextmanager
async def stock_processes(
    database_url: str, nats: EmbeddedNats, count: int
) -> AsyncIterator[Replicas]:
    """`count` stock service processes on one database, each stopped with SIGTERM at the end."""
    ports = [free_port() for _ in range(count)]
    env = {"OMNI_STOCK_DATABASE_URL": database_url, **nats.env("stock")}
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
        yield Replicas(targets, procs)
    finally:
        running = [p for p in procs if p.poll() is None]
        for proc in running:
            proc.terminate()
        for proc in running:
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
    async with stock_processes(postgres_url, nats_server, 2) as replicas:
        channels = [authorized(t) for t in replicas.targets]
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
    async with running_stock(f"sqlite+aiosqlite:///{tmp_path}/stock.db", nats_server) as stock:
        await add_location(stock.stub, "L1")
        await receive(stock.stub, sku, "L1", UNITS)
        outcomes = await reserve_one_each([stock.stub], sku)
        await assert_sold_exactly_the_units(stock.stub, sku, outcomes)


async def test_a_replica_killed_mid_load_loses_no_event_and_doubles_none(
    postgres_url: str, nats_server: EmbeddedNats
) -> None:
    """SIGKILL one of two replicas while it commits: the survivor relays what it left behind."""
    sku = unique("SKU")
    async with stock_processes(postgres_url, nats_server, 2) as replicas:
        channels = [authorized(t) for t in replicas.targets]
        stubs = [stock_pb2_grpc.StockServiceStub(c) for c in channels]
        await add_location(stubs[1], "L1")
        await receive(stubs[1], sku, "L1", BUYERS)
        buying = asyncio.create_task(reserve_one_each(stubs, sku))
        await asyncio.sleep(0.2)
        replicas.processes[0].kill()
        await buying
        reserved = (await level_of(stubs[1], sku, "L1")).reserved
        assert reserved > 0
        announced = await reserved_events(
            nats_server.operator_url, sku, within=15, expected=reserved
        )
        assert sorted(announced) == sorted(set(announced)), "an event arrived twice"
        assert len(announced) == reserved, "a committed reservation was never announced"
        for channel in channels:
            await channel.close()


async def reserved_events(url: str, sku: str, *, within: float, expected: int) -> list[str]:
    """Ids of reservations of `sku` announced on stock.events.reserved, once `expected` came
    or `within` seconds passed (then a few more seconds, to catch any duplicate)."""
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().pull_subscribe("stock.events.reserved", stream="STOCK_EVENTS")
        ids: list[str] = []
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            try:
                batch = await sub.fetch(100, timeout=1)
            except TimeoutError:
                if len(ids) >= expected:
                    break
                continue
            for m in batch:
                res = StockReserved.FromString(m.data).reservation
                if res.lines and res.lines[0].sku == sku:
                    ids.append(res.id)
        return ids
    finally:
        await nc.close()
