"""Availability propagation: a change committed through one replica, seen by watchers on another."""

from __future__ import annotations

import asyncio
import time

from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.bench.harness import Result, open_channels

PLENTY = 10**6


async def bench_propagation(
    db: str, writer_target: str, watcher_target: str, changes: int
) -> list[Result]:
    """Latency of a change to its arrival at 1 and at 100 watchers on another replica.

    Timed from the moment the Reserve call is made, so it includes the write itself: an upper
    bound on commit-to-watcher time (the relay publishes while the caller is being answered)."""
    writer = stock_pb2_grpc.StockServiceStub(open_channels(writer_target, 1)[0])
    watchers = [stock_pb2_grpc.StockServiceStub(c) for c in open_channels(watcher_target)]
    results = []
    for count in (1, 100):
        sku = f"WATCHED-{count}"
        request = pb.ReceiveStockRequest(sku=sku, location_id="L1", quantity=PLENTY)
        await writer.ReceiveStock(request)
        results.append(await _measure(writer, watchers, sku, count, changes, db))
    return results


async def _measure(
    writer: stock_pb2_grpc.StockServiceStub,
    watchers: list[stock_pb2_grpc.StockServiceStub],
    sku: str,
    count: int,
    changes: int,
    db: str,
) -> Result:
    committed: dict[int, float] = {}
    latencies: list[float] = []
    live = 0
    all_live = asyncio.Event()

    async def follow(stub: stock_pb2_grpc.StockServiceStub) -> None:
        nonlocal live
        request = pb.WatchAvailabilityRequest(skus=[sku], location_ids=["L1"])
        async for reply in stub.WatchAvailability(request):
            if not reply.HasField("level"):
                continue  # network availability: not timed here
            arrived = time.perf_counter()
            version = reply.level.version
            if version == 1:  # the current value: this watcher is following
                live += 1
                if live == count:
                    all_live.set()
            elif version in committed:
                latencies.append((arrived - committed[version]) * 1000)
            if version >= 1 + changes:
                return

    followers = [asyncio.create_task(follow(watchers[i % len(watchers)])) for i in range(count)]
    await asyncio.wait_for(all_live.wait(), 30)
    started = time.perf_counter()
    for i in range(changes):
        line = pb.ReserveLine(sku=sku, location_id="L1", quantity=1)
        committed[2 + i] = time.perf_counter()
        await writer.Reserve(pb.ReserveRequest(idempotency_key=f"{sku}-{i}", lines=[line]))
        await asyncio.sleep(0.005)  # one change at a time: each version is its own
    await asyncio.wait_for(asyncio.gather(*followers), 60)
    name = f"Reserve to {count} watcher(s), other replica, {db}"
    return Result(name, len(latencies), time.perf_counter() - started, latencies)
