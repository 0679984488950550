"""Demo data for the embedded run: two warehouses, two stores, a few SKUs. Safe to rerun."""

from __future__ import annotations

import grpc

from omni.platform import client
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

WAREHOUSE, STORE = pb.LOCATION_KIND_WAREHOUSE, pb.LOCATION_KIND_STORE
LOCATIONS = [
    pb.Location(
        id="WH-EAST",
        name="East DC (Newark)",
        kind=WAREHOUSE,
        ships=True,
        accepts_returns=True,
        region="us-east",
        latitude=40.73,
        longitude=-74.17,
        priority=1,
    ),
    pb.Location(
        id="WH-WEST",
        name="West DC (Reno)",
        kind=WAREHOUSE,
        ships=True,
        accepts_returns=True,
        region="us-west",
        latitude=39.53,
        longitude=-119.81,
        priority=1,
    ),
    pb.Location(
        id="STORE-NYC",
        name="Store NYC 5th Ave",
        kind=STORE,
        ships=True,
        pickup=True,
        accepts_returns=True,
        region="us-east",
        latitude=40.76,
        longitude=-73.97,
        priority=5,
    ),
    pb.Location(
        id="STORE-SF",
        name="Store San Francisco",
        kind=STORE,
        pickup=True,
        accepts_returns=True,
        region="us-west",
        latitude=37.78,
        longitude=-122.41,
        priority=5,
    ),
]
STOCK = {
    "TSHIRT-BLK-M": {"WH-EAST": 120, "WH-WEST": 80, "STORE-NYC": 6, "STORE-SF": 4},
    "JEANS-32-32": {"WH-EAST": 40, "WH-WEST": 25, "STORE-NYC": 3},
    "SNEAKER-42": {"WH-WEST": 12, "STORE-SF": 2},
}


def seed(target: str, token: str) -> None:
    """Creates the demo locations and receives the demo stock once (idempotency keys)."""
    with client.sync_channel(target, token) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        for loc in LOCATIONS:
            try:
                stub.CreateLocation(pb.CreateLocationRequest(location=loc), timeout=10)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise
        for sku, per_location in STOCK.items():
            for location_id, qty in per_location.items():
                stub.ReceiveStock(
                    pb.ReceiveStockRequest(
                        sku=sku,
                        location_id=location_id,
                        quantity=qty,
                        reference="demo",
                        actor="demo-seed",
                        idempotency_key=f"demo-{sku}-{location_id}",
                    ),
                    timeout=10,
                )
