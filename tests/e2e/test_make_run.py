"""End to end: `make run` as a newcomer starts it, then only gRPC calls, then Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers import eventually, free_port, short_lines, wait_serving

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[str]:
    """`make run` on free ports with its data in tmp; yields the stock address."""
    port = free_port()
    env = {
        **os.environ,
        "OMNI_DATA_DIR": str(tmp_path / "data"),
        "OMNI_NATS_PORT": "-1",
        "OMNI_STOCK_GRPC_PORT": str(port),
    }
    proc = subprocess.Popen(["make", "-s", "run"], cwd=REPO, env=env, start_new_session=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        proc.wait(30)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "stock still listening after Ctrl-C"


async def test_make_run_serves_demo_stock_that_can_be_reserved_and_allocated(make_run: str) -> None:
    await wait_serving(make_run, within=120)
    async with grpc.aio.insecure_channel(make_run) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        demo = {"SNEAKER-42": {"WH-WEST": 12, "STORE-SF": 2}}

        async def demo_seeded() -> bool:
            # make run seeds the demo data right after the service reports healthy.
            view = await stub.GetAvailability(pb.GetAvailabilityRequest(skus=["SNEAKER-42"]))
            return {"SNEAKER-42": {lv.location_id: lv.available for lv in view.levels}} == demo

        await eventually(demo_seeded, within=30)
        locations = await stub.ListLocations(pb.ListLocationsRequest())
        assert {x.id for x in locations.locations} == {
            "WH-EAST",
            "WH-WEST",
            "STORE-NYC",
            "STORE-SF",
        }

        pickup = await stub.Allocate(
            pb.AllocateRequest(
                idempotency_key="e2e-order-1",
                reference="order-1",
                lines=[pb.AllocateLine(sku="SNEAKER-42", quantity=2)],
                pickup=pb.PickupAt(location_id="STORE-SF"),
            )
        )
        assert [(ln.location_id, ln.quantity) for ln in pickup.reservation.lines] == [
            ("STORE-SF", 2)
        ]
        with pytest.raises(grpc.aio.AioRpcError) as sold_out:
            await stub.Reserve(
                pb.ReserveRequest(
                    idempotency_key="e2e-cart-2",
                    lines=[pb.ReserveLine(sku="SNEAKER-42", location_id="STORE-SF", quantity=1)],
                )
            )
        assert sold_out.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert short_lines(sold_out.value)[0].available == 0
