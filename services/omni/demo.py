"""Demo data for the embedded run: two warehouses, two stores, a few SKUs, and a sneaker not
released yet that the web storefront may preorder against its purchase order. Safe to rerun."""

from __future__ import annotations

from datetime import timedelta

import grpc

from omni.common.v1 import common_pb2 as cpb
from omni.platform import client
from omni.platform.clock import utcnow
from omni.platform.wire import timestamp
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


# Not released yet: 200 due at the East DC in two weeks, the web may take 100 preorders.
LAUNCH_SKU, LAUNCH_UNITS, PREORDERS = "SNEAKER-43", 200, 100


def seed(target: str, token: str) -> None:
    """Creates the demo locations and receives the demo stock once (idempotency keys)."""
    with client.sync_channel(target, token) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        for loc in LOCATIONS:
            _once(stub.CreateLocation, pb.CreateLocationRequest(location=loc))
        due = timestamp(utcnow() + timedelta(days=14))
        line = pb.NewPurchaseOrderLine(sku=LAUNCH_SKU, quantity=LAUNCH_UNITS, expected_at=due)
        order = pb.CreatePurchaseOrderRequest(
            idempotency_key="demo-po-launch",
            location_id="WH-EAST",
            supplier="Stride Footwear",
            reference="PO-LAUNCH-43",
            lines=[line],
        )
        _once(stub.CreatePurchaseOrder, order)  # a rerun's later due time: made already
        policy = pb.PresalePolicy(
            channel=cpb.CHANNEL_WEB, sku=LAUNCH_SKU, kind=pb.PRESALE_KIND_PREORDER, cap=PREORDERS
        )
        stub.SetPresalePolicy(pb.SetPresalePolicyRequest(policy=policy), timeout=10)
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


def _once(call: grpc.UnaryUnaryMultiCallable, request: object) -> None:
    """Made now, or by an earlier run (ALREADY_EXISTS)."""
    try:
        call(request, timeout=10)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
