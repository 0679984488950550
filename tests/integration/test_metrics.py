"""A Prometheus scrape after a few calls shows them, by method and status code."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from pathlib import Path

import grpc
import pytest

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.running import running_stock
from tests.helpers.stock import add_location, receive


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return reply.read().decode()


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value (0 if absent)."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_a_scrape_counts_calls_by_method_and_code(
    tmp_path: Path, nats_server: EmbeddedNats
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    async with running_stock(database, nats_server, metrics_port=0) as stock:
        port = stock.app.metrics_port
        ok = {"service": "stock", "method": "ListLocations", "code": "OK"}
        bad = {"service": "stock", "method": "GetLocation", "code": "INVALID_ARGUMENT"}
        before = await asyncio.to_thread(scrape, port)
        for _ in range(3):
            await stock.stub.ListLocations(pb.ListLocationsRequest())
        with pytest.raises(grpc.aio.AioRpcError):
            await stock.stub.GetLocation(pb.GetLocationRequest())
        after = await asyncio.to_thread(scrape, port)
        assert value(after, "omni_rpc_total", **ok) - value(before, "omni_rpc_total", **ok) == 3
        assert value(after, "omni_rpc_total", **bad) - value(before, "omni_rpc_total", **bad) == 1
        seconds = {"service": "stock", "method": "ListLocations"}
        assert value(after, "omni_rpc_seconds_count", **seconds) >= 3
        # The standard gRPC server series, as off-the-shelf dashboards query them.
        standard = {"grpc_type": "unary", "grpc_service": "omni.stock.v1.StockService"}
        handled = "grpc_server_handled_total"
        ok_std = {**standard, "grpc_method": "ListLocations", "grpc_code": "OK"}
        bad_std = {**standard, "grpc_method": "GetLocation", "grpc_code": "INVALID_ARGUMENT"}
        assert value(after, handled, **ok_std) - value(before, handled, **ok_std) == 3
        assert value(after, handled, **bad_std) - value(before, handled, **bad_std) == 1
        timed = {**standard, "grpc_method": "ListLocations"}
        assert value(after, "grpc_server_handling_seconds_count", **timed) >= 3
        assert "omni_outbox_pending" in after

        await add_location(stock.stub, "WH-M")
        await receive(stock.stub, "SKU-M", "WH-M", 5)
        for n in range(2):
            await stock.stub.Reserve(
                pb.ReserveRequest(
                    idempotency_key=f"metrics-{n}",
                    reference="cart-1",
                    lines=[pb.ReserveLine(sku="SKU-M", location_id="WH-M", quantity=1)],
                )
            )
        await stock.app.sample()
        sampled = await asyncio.to_thread(scrape, port)
        assert value(sampled, "omni_reservations_active", service="stock") == 2
