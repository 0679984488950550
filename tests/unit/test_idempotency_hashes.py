"""A request's fingerprint is part of what is stored with its idempotency key: a retry after
an upgrade must hash as it did before, or it is refused as "the same key, another request".
These pin the fingerprints of requests as the entrypoints build them."""

from __future__ import annotations

from omni.common.v1 import common_pb2 as cpb
from omni.orders.entrypoints import requests as orders
from omni.orders.v1 import orders_pb2 as opb
from omni.platform.idempotency import request_hash
from omni.returns.entrypoints import requests as returns
from omni.returns.v1 import returns_pb2 as rpb
from omni.stock.entrypoints import requests as stock
from omni.stock.v1 import stock_pb2 as spb


def test_a_place_order_hashes_as_it_always_has() -> None:
    command = orders.place_order(
        opb.PlaceOrderRequest(
            idempotency_key="checkout-1",
            channel=cpb.CHANNEL_WEB,
            customer_id="c-1",
            currency="USD",
            lines=[opb.PlaceOrderLine(sku="JEANS-32-32", quantity=1, unit_price=4999)],
            ship=cpb.ShipTo(region="us-east"),
        )
    )
    assert request_hash(command) == PLACE_ORDER


def test_a_return_hashes_as_it_always_has() -> None:
    command = returns.create_return(
        rpb.CreateReturnRequest(
            idempotency_key="pos-77-1",
            order_id="ord_1",
            channel=cpb.CHANNEL_POS,
            location_id="STORE-NYC",
            lines=[rpb.CreateReturnLine(sku="JEANS-32-32", quantity=1, reason="too long")],
        )
    )
    assert request_hash(command) == CREATE_RETURN


# As computed by the code before omni.common.v1 and platform.wire (commit 6ffe6cb).


def test_a_scan_hashes_as_it_did_before_it_could_name_a_purchase_order() -> None:
    """ApplyScan.purchase_order_id was added later (omni.platform.fingerprints.added): left
    empty, it leaves the fingerprint as it was; set, it changes it."""
    scan = spb.ScanRequest(
        scan_id="s-1",
        device_id="gun-7",
        kind=spb.SCAN_KIND_RECEIVE,
        sku="JEANS-32-32",
        location_id="STORE-NYC",
        quantity=12,
        reference="asn-9",
    )
    assert request_hash(stock.scan(scan)) == SCAN
    scan.purchase_order_id = "po_1"
    assert request_hash(stock.scan(scan)) != SCAN


PLACE_ORDER = "3b4a42abf05d880ba61eb62ccdd0a903c8759b9631d648e59f00169387caab04"
CREATE_RETURN = "ef39b84f12054cff64a0a82194f4fce94adc407974ffadad5f8beda600ddf8a4"
SCAN = "1a77b933f0560ee4982717b0c461f3e4ed5c06335549b668bfd7a9676ab2e4c3"
