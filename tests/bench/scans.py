"""Scans per second over one scanner stream, pipelined: the device does not wait for each ack."""

from __future__ import annotations

import asyncio
import time

from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.bench.harness import Result, open_channels


async def bench_scans(db: str, target: str, seconds: float, window: int = 32) -> Result:
    """RECEIVE scans over one stream with up to `window` unacknowledged; ack latency timed."""
    stub = stock_pb2_grpc.StockServiceStub(open_channels(target, 1)[0])
    call = stub.Scan()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    in_flight = asyncio.Semaphore(window)
    stop_at = time.perf_counter() + seconds

    async def write() -> None:
        i = 0
        while time.perf_counter() < stop_at:
            await in_flight.acquire()
            scan_id = f"bench-{i}"
            sent[scan_id] = time.perf_counter()
            await call.write(
                pb.ScanRequest(
                    scan_id=scan_id,
                    device_id="bench-gun",
                    kind=pb.SCAN_KIND_RECEIVE,
                    sku=f"SCANNED-{i % 50}",
                    location_id="L1",
                    quantity=1,
                )
            )
            i += 1
        await call.done_writing()

    async def read() -> None:
        async for reply in call:
            latencies.append((time.perf_counter() - sent[reply.scan_id]) * 1000)
            assert not reply.HasField("error"), reply.error.message
            in_flight.release()

    started = time.perf_counter()
    await asyncio.gather(write(), read())
    name = f"scans over one stream ({window} in flight), {db}"
    return Result(name, len(latencies), time.perf_counter() - started, latencies)
