"""`make bench`: Reserve and PlaceOrder throughput and latency on SQLite and PostgreSQL beside a
gRPC echo ceiling.

Every server runs in its own process, as in production; the load comes from this process: 64
concurrent calls over 8 connections. BENCH_SECONDS (default 10) sets each run's length.
Figures are printed, never asserted; oversell is checked after every run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable

import grpc
import uvloop

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.bench.harness import Result, drive, open_channels, seed, server
from tests.bench.orders import bench_orders
from tests.bench.propagation import bench_propagation
from tests.bench.scans import bench_scans
from tests.bench.transaction import transaction_cpu_us
from tests.conftest import create_postgres_database, postgres_admin
from tests.helpers.processes import free_port, wait_serving

SPREAD_SKUS = 1000
PLENTY = 10**6
FLASH_UNITS, FLASH_BUYERS = 50, 500


async def measure(name: str, call: Callable[[int], Awaitable[None]], seconds: float) -> Result:
    await drive("warm-up", call, seconds=min(0.5, seconds))
    return await drive(name, call, seconds=seconds)


async def bench_echo(seconds: float, when: str = "") -> Result:
    port = free_port()
    async with server(["tests.bench.echo", str(port)], {}, port) as target:
        echoes = [c.unary_unary("/bench.Echo/Echo") for c in open_channels(target)]
        payload = pb.ReserveRequest(
            idempotency_key="bench-0000000001",
            lines=[pb.ReserveLine(sku="SKU-0001", location_id="L1", quantity=1)],
        ).SerializeToString()

        async def call(i: int) -> None:
            await echoes[i % len(echoes)](payload)

        return await measure(f"gRPC echo (ceiling) {when}".strip(), call, seconds)


async def bench_stock(
    db: str, database_url: str, nats: EmbeddedNats, seconds: float
) -> list[Result]:
    """Reserve spread over many SKUs, on one hot SKU, then a flash sale; checks oversell."""
    port = free_port()
    env = {
        "OMNI_STOCK_DATABASE_URL": database_url,
        **nats.env("stock"),
        "OMNI_STOCK_GRPC_PORT": str(port),
        "OMNI_LOG_LEVEL": "WARNING",
    }
    async with server(["omni.stock"], env, port) as target:
        await wait_serving(target)
        stubs = [stock_pb2_grpc.StockServiceStub(c) for c in open_channels(target)]
        skus = [f"SKU-{i:04d}" for i in range(SPREAD_SKUS)]
        await seed(stubs[0], {**dict.fromkeys(skus, PLENTY), "HOT": PLENTY, "FLASH": FLASH_UNITS})
        results = []
        keys = itertools.count()  # every call a new buyer, across warm-up and runs
        for label, pick in (
            ("spread over 1000 SKUs", lambda: random.choice(skus)),
            ("one hot SKU", lambda: "HOT"),
        ):

            async def call(i: int, pick: Callable[[], str] = pick) -> None:
                line = pb.ReserveLine(sku=pick(), location_id="L1", quantity=1)
                request = pb.ReserveRequest(idempotency_key=f"cart-{next(keys)}", lines=[line])
                await stubs[i % len(stubs)].Reserve(request)

            results.append(await measure(f"Reserve, {label}, {db}", call, seconds))
        await check_no_oversell(stubs[0], [*skus, "HOT"])
        results.append(await flash_sale(stubs, db))
    return results


async def check_no_oversell(stub: stock_pb2_grpc.StockServiceStub, skus: list[str]) -> None:
    """Every unit promised once: reserved = successful calls (one version each), none < 0."""
    for start in range(0, len(skus), 500):
        view = await stub.GetAvailability(pb.GetAvailabilityRequest(skus=skus[start : start + 500]))
        for level in view.levels:
            assert level.available == level.on_hand - level.reserved >= 0, level
            assert level.version == 1 + level.reserved, f"lost update: {level}"


async def flash_sale(stubs: list[stock_pb2_grpc.StockServiceStub], db: str) -> Result:
    """FLASH_BUYERS buyers at once for FLASH_UNITS units: exactly the units are sold."""

    async def buy(i: int) -> str:
        line = pb.ReserveLine(sku="FLASH", location_id="L1", quantity=1)
        try:
            await stubs[i % len(stubs)].Reserve(
                pb.ReserveRequest(idempotency_key=f"flash-{i}", lines=[line])
            )
            return "OK"
        except grpc.aio.AioRpcError as exc:
            return exc.code().name

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(buy(i) for i in range(FLASH_BUYERS)))
    name = f"flash sale: {FLASH_BUYERS} buyers, {FLASH_UNITS} units, {db}"
    result = Result(name, FLASH_BUYERS, time.perf_counter() - started, [])
    result.outcomes.update(outcomes)
    view = await stubs[0].GetAvailability(pb.GetAvailabilityRequest(skus=["FLASH"]))
    level = view.levels[0]
    assert result.outcomes["OK"] == FLASH_UNITS == level.reserved, (result.outcomes, level)
    return result


def report(echoes: list[Result], results: list[Result]) -> None:
    """Ratios are to the mean of the echo runs: on this 2-core machine one 10 s echo run can
    differ from the next by a quarter, so it is measured before and after the others."""
    ceiling = sum(e.rate for e in echoes) / len(echoes)
    print(f"\n{'run':<50}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs echo':>9}  outcomes")
    for r in [*echoes, *results]:
        timed = bool(r.latencies_ms)
        p50, p99 = (f"{r.percentile(50):.1f}", f"{r.percentile(99):.1f}") if timed else ("", "")
        ratio = (
            f"{r.rate / ceiling:.0%}" if r.name.startswith(("Reserve,", "gRPC", "Place")) else ""
        )
        rate = "" if "watcher" in r.name else f"{r.rate:.0f}"  # scans: scans/s
        print(f"{r.name:<50}{rate:>9}{p50:>9}{p99:>9}{ratio:>9}  {dict(r.outcomes)}")
    runs = ", ".join(f"{e.rate:.0f}" for e in echoes)
    print(f"\nEcho ceiling (100%): {ceiling:.0f} calls/s, the mean of {runs}.")
    print("Oversell checked after every run: none (reserved = successful calls, never < 0).")


async def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    print(f"{os.cpu_count()} cores; {seconds:.0f} s per run; 64 concurrent calls", flush=True)
    # Everything a run writes (databases, the NATS store) is removed when it ends.
    with (
        tempfile.TemporaryDirectory(prefix="omni-bench-") as work,
        EmbeddedNats(os.path.join(work, "nats")) as nats_server,
        postgres_admin(os.path.join(work, "postgres")) as admin,
    ):
        await run_all(work, nats_server, admin, seconds)


async def run_all(work: str, nats: EmbeddedNats, admin: str, seconds: float) -> None:
    echoes = [await bench_echo(seconds, "before")]
    sqlite = f"sqlite+aiosqlite:///{work}/stock.db"
    results = await bench_stock("SQLite", sqlite, nats, seconds)
    postgres = await create_postgres_database(admin)
    results += await bench_stock("PostgreSQL", postgres, nats, seconds)
    results += await two_replicas("PostgreSQL", postgres, nats, changes=200)
    for db, stock_url, orders_url in (
        (
            "SQLite",
            f"sqlite+aiosqlite:///{work}/o-stock.db",
            f"sqlite+aiosqlite:///{work}/o.db",
        ),
        (
            "PostgreSQL",
            await create_postgres_database(admin),
            await create_postgres_database(admin),
        ),
    ):
        results.append(await bench_orders(db, stock_url, orders_url, nats, seconds))
    echoes.append(await bench_echo(seconds, "after"))
    tx_cpu = {
        "SQLite": await transaction_cpu_us(f"sqlite+aiosqlite:///{work}/tx.db"),
        "PostgreSQL": await transaction_cpu_us(await create_postgres_database(admin)),
    }
    report(echoes, results)
    for db, us in tx_cpu.items():
        print(f"Reservation batch transaction, {db}: {us:.0f} us CPU per reservation (32/batch).")


async def two_replicas(
    db: str, database_url: str, nats: EmbeddedNats, changes: int
) -> list[Result]:
    """Two stock processes on one database: propagation from one to watchers on the other."""
    ports = [free_port(), free_port()]
    env = {
        "OMNI_STOCK_DATABASE_URL": database_url,
        **nats.env("stock"),
        "OMNI_LOG_LEVEL": "WARNING",
    }
    async with (
        server(["omni.stock"], {**env, "OMNI_STOCK_GRPC_PORT": str(ports[0])}, ports[0]) as a,
        server(["omni.stock"], {**env, "OMNI_STOCK_GRPC_PORT": str(ports[1])}, ports[1]) as b,
    ):
        await wait_serving(a)
        await wait_serving(b)
        return [
            *await bench_propagation(db, a, b, changes),
            await bench_scans(db, a, seconds=max(0.2, changes / 40)),
        ]


if __name__ == "__main__":
    uvloop.run(main())
