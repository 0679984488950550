"""A closed-loop load generator (N concurrent callers for a fixed time, latencies recorded),
and servers in their own processes."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc

from omni.platform import client
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.processes import PROCESS_ENV
from tests.helpers.running import TOKENS


@dataclass
class Result:
    name: str
    calls: int
    seconds: float
    latencies_ms: list[float]
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def drive(
    name: str, call: Callable[[int], Awaitable[None]], *, seconds: float, concurrency: int = 64
) -> Result:
    """Runs `call(i)` from `concurrency` callers for `seconds`; i is unique per call."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    counter = iter(range(10**12))
    stop_at = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < stop_at:
            i = next(counter)
            started = time.perf_counter()
            try:
                await call(i)
                outcomes["OK"] += 1
            except grpc.aio.AioRpcError as exc:
                outcomes[exc.code().name] += 1
            except Outcome as outcome:
                outcomes[str(outcome)] += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return Result(name, len(latencies), time.perf_counter() - started, latencies, outcomes)


class Outcome(Exception):
    """Raised by a call whose answer is not a success (e.g. an order left PENDING)."""


CONNECTIONS = 8  # many storefronts, not one: each channel gets its own HTTP/2 connection


def open_channels(target: str, count: int = CONNECTIONS) -> list[grpc.aio.Channel]:
    return [
        client.channel(target, TOKENS["service"], [("grpc.use_local_subchannel_pool", 1)])
        for _ in range(count)
    ]


@asynccontextmanager
async def server(args: list[str], env: dict[str, str], port: int) -> AsyncIterator[str]:
    """`python -m args...` in its own process, once it accepts calls on `port`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *args, env={**os.environ, **PROCESS_ENV, **env}
    )
    target = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            await asyncio.wait_for(channel.channel_ready(), 30)
        yield target
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)


async def seed(stub: stock_pb2_grpc.StockServiceStub, stock: dict[str, int]) -> None:
    location = pb.Location(id="L1", name="L1", kind=pb.LOCATION_KIND_WAREHOUSE, ships=True)
    await stub.CreateLocation(pb.CreateLocationRequest(location=location))
    # At most 100 calls at once: a connection's first calls can race the server's stream limit
    # (grpc_server.Limits.max_streams_per_connection) and be refused.
    room = asyncio.Semaphore(100)

    async def receive(sku: str, qty: int) -> None:
        async with room:
            await stub.ReceiveStock(pb.ReceiveStockRequest(sku=sku, location_id="L1", quantity=qty))

    await asyncio.gather(*(receive(sku, qty) for sku, qty in stock.items()))
