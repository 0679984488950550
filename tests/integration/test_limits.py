"""One client cannot exhaust a replica: oversized requests and calls beyond the limit are
refused with RESOURCE_EXHAUSTED, and the service goes on serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.running import running_stock


async def test_oversized_requests_and_calls_beyond_the_limit_are_refused(
    tmp_path: Path, nats_server: EmbeddedNats
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    limits = {"grpc_max_message_bytes": 2048, "grpc_max_concurrent_rpcs": 2}
    async with running_stock(database, nats_server, **limits) as stock:
        big = pb.GetAvailabilityRequest(skus=[f"SKU-{i:060d}" for i in range(100)])
        with pytest.raises(grpc.aio.AioRpcError) as too_big:
            await stock.stub.GetAvailability(big)
        assert too_big.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        watch = pb.WatchAvailabilityRequest(skus=["A"], location_ids=["L1"])
        watchers = [stock.stub.WatchAvailability(watch) for _ in range(2)]
        await asyncio.gather(*(w.read() for w in watchers))  # both in flight
        with pytest.raises(grpc.aio.AioRpcError) as too_many:
            await stock.stub.ListLocations(pb.ListLocationsRequest())
        assert too_many.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        for w in watchers:
            w.cancel()
        await asyncio.sleep(0.2)
        await stock.stub.ListLocations(pb.ListLocationsRequest())  # serving again
