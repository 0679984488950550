"""Malformed input on every RPC: a clear error with the fitting code, and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select

from omni.common.v1 import common_pb2 as cpb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.adapters import tables
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import assert_text_refused, eventually
from tests.helpers.running import Stock, running_stock
from tests.helpers.stock import level_of, location, receive

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
LONG = "x" * 65
LINE = pb.ReserveLine(sku="SKU-1", location_id="L1", quantity=1)


def loc(**fields: Any) -> pb.Location:
    return location("NEW", **fields)


def presale(**fields: Any) -> pb.PresalePolicy:
    terms: dict[str, Any] = {
        "channel": cpb.CHANNEL_WEB,
        "sku": "SKU-1",
        "kind": pb.PRESALE_KIND_PREORDER,
        **fields,
    }
    return pb.PresalePolicy(**terms)


CASES: list[tuple[str, Any, grpc.StatusCode]] = [
    ("CreateLocation", pb.CreateLocationRequest(location=loc(id="")), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(id=LONG)), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(id="has space")), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(daily_capacity=-1)), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(daily_capacity=10**12)), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(name="")), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(kind=0)), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(kind=99)), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(latitude=91, longitude=0)), INVALID),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(latitude=1)), INVALID),
    (
        "CreateLocation",
        pb.CreateLocationRequest(location=loc(latitude=float("nan"), longitude=1)),
        INVALID,
    ),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(priority=-1)), INVALID),
    (
        "CreateLocation",
        pb.CreateLocationRequest(location=location("L1")),
        grpc.StatusCode.ALREADY_EXISTS,
    ),
    ("UpdateLocation", pb.UpdateLocationRequest(location=loc(id="")), INVALID),
    ("UpdateLocation", pb.UpdateLocationRequest(location=loc(id="MISSING")), NOT_FOUND),
    ("GetLocation", pb.GetLocationRequest(id=""), INVALID),
    ("GetLocation", pb.GetLocationRequest(id="MISSING"), NOT_FOUND),
    ("ReceiveStock", pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=0), INVALID),
    ("ReceiveStock", pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=-5), INVALID),
    (
        "ReceiveStock",
        pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=10**7),
        INVALID,
    ),
    ("ReceiveStock", pb.ReceiveStockRequest(sku="", location_id="L1", quantity=1), INVALID),
    ("ReceiveStock", pb.ReceiveStockRequest(sku=LONG, location_id="L1", quantity=1), INVALID),
    (
        "ReceiveStock",
        pb.ReceiveStockRequest(sku="SKU-1", location_id="NOPE", quantity=1),
        NOT_FOUND,
    ),
    (
        "ReceiveStock",
        pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=1, reference="r" * 300),
        INVALID,
    ),
    (
        "ReceiveStock",
        pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=1, idempotency_key="a b"),
        INVALID,
    ),
    ("AdjustStock", pb.AdjustStockRequest(sku="SKU-1", location_id="L1", delta=0), INVALID),
    ("AdjustStock", pb.AdjustStockRequest(sku="SKU-1", location_id="L1", delta=-(10**7)), INVALID),
    (
        "AdjustStock",
        pb.AdjustStockRequest(sku="SKU-1", location_id="L1", delta=-6),
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
    ("AdjustStock", pb.AdjustStockRequest(sku="SKU-1", location_id="NOPE", delta=1), NOT_FOUND),
    (
        "SetSafetyStock",
        pb.SetSafetyStockRequest(sku="SKU-1", location_id="L1", safety_stock=-1),
        INVALID,
    ),
    ("SetSafetyStock", pb.SetSafetyStockRequest(sku="", location_id="L1", safety_stock=1), INVALID),
    # Longer than the ledger keeps (128): must be refused, not fail in the database.
    (
        "ReceiveStock",
        pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=1, actor="a" * 129),
        INVALID,
    ),
    (
        "AdjustStock",
        pb.AdjustStockRequest(sku="SKU-1", location_id="L1", delta=1, reason="r" * 129),
        INVALID,
    ),
    ("GetAvailability", pb.GetAvailabilityRequest(), INVALID),
    ("GetAvailability", pb.GetAvailabilityRequest(skus=[f"S{i}" for i in range(1001)]), INVALID),
    ("GetAvailability", pb.GetAvailabilityRequest(skus=["SKU-1"], location_ids=[""]), INVALID),
    (
        "ListMovements",
        pb.ListMovementsRequest(sku="SKU-1", location_id="L1", page_size=-1),
        INVALID,
    ),
    (
        "ListMovements",
        pb.ListMovementsRequest(sku="SKU-1", location_id="L1", page_size=5000),
        INVALID,
    ),
    (
        "ListMovements",
        pb.ListMovementsRequest(sku="SKU-1", location_id="L1", page_token="abc"),
        INVALID,
    ),
    # Digits to str.isdigit, but not to int(); and more than a 64-bit id.
    (
        "ListMovements",
        pb.ListMovementsRequest(sku="SKU-1", location_id="L1", page_token="²"),
        INVALID,
    ),
    (
        "ListMovements",
        pb.ListMovementsRequest(sku="SKU-1", location_id="L1", page_token="9" * 30),
        INVALID,
    ),
    ("ListMovements", pb.ListMovementsRequest(sku="", location_id="L1"), INVALID),
    ("ListLevels", pb.ListLevelsRequest(), INVALID),
    ("ListLevels", pb.ListLevelsRequest(location_id="NOPE"), NOT_FOUND),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", page_size=501), INVALID),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", page_size=-1), INVALID),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", page_token="a b"), INVALID),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", page_token=LONG), INVALID),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", sku_prefix="SKU 1"), INVALID),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", sku_prefix=LONG), INVALID),
    ("LookupBarcodes", pb.LookupBarcodesRequest(), INVALID),
    ("LookupBarcodes", pb.LookupBarcodesRequest(codes=[str(n) for n in range(101)]), INVALID),
    ("LookupBarcodes", pb.LookupBarcodesRequest(codes=["0001", ""]), INVALID),
    ("LookupBarcodes", pb.LookupBarcodesRequest(codes=[LONG]), INVALID),
    ("LookupBarcodes", pb.LookupBarcodesRequest(codes=["0001", "0001"]), INVALID),
    ("Reserve", pb.ReserveRequest(lines=[LINE]), INVALID),
    ("Reserve", pb.ReserveRequest(idempotency_key="k"), INVALID),
    (
        "Reserve",
        pb.ReserveRequest(
            idempotency_key="k", lines=[pb.ReserveLine(sku="SKU-1", location_id="L1", quantity=0)]
        ),
        INVALID,
    ),
    ("Reserve", pb.ReserveRequest(idempotency_key="k", lines=[LINE] * 201), INVALID),
    ("Reserve", pb.ReserveRequest(idempotency_key="k", lines=[LINE], ttl_seconds=-1), INVALID),
    ("Reserve", pb.ReserveRequest(idempotency_key="k", lines=[LINE], ttl_seconds=10**9), INVALID),
    (
        "Reserve",
        pb.ReserveRequest(
            idempotency_key="k", lines=[pb.ReserveLine(sku="SKU-1", location_id="NOPE", quantity=1)]
        ),
        NOT_FOUND,
    ),
    ("Release", pb.ReleaseRequest(), INVALID),
    ("Release", pb.ReleaseRequest(reservation_id="res_missing"), NOT_FOUND),
    ("Commit", pb.CommitRequest(), INVALID),
    ("Commit", pb.CommitRequest(reservation_id="res_missing"), NOT_FOUND),
    (
        "Commit",
        pb.CommitRequest(
            reservation_id="res_x", lines=[pb.CommitLine(sku="SKU-1", location_id="L1", quantity=0)]
        ),
        INVALID,
    ),
    (
        "Commit",
        pb.CommitRequest(
            reservation_id="res_x",
            lines=[pb.CommitLine(sku="SKU-1", location_id="L1", quantity=1)] * 201,
        ),
        INVALID,
    ),
    ("GetReservation", pb.GetReservationRequest(), INVALID),
    ("GetReservation", pb.GetReservationRequest(id="res_missing"), NOT_FOUND),
    (
        "Allocate",
        pb.AllocateRequest(idempotency_key="k", lines=[pb.AllocateLine(sku="SKU-1", quantity=1)]),
        INVALID,
    ),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k", lines=[pb.AllocateLine(sku="SKU-1", quantity=1)], ship=cpb.ShipTo()
        ),
        INVALID,
    ),
    (  # units brought by transfer are held until they arrive: no time limit
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            near=pb.ShipNear(location_id="L1", by_transfer=True),
            ttl_seconds=60,
        ),
        INVALID,
    ),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            ship=cpb.ShipTo(region="eu", latitude=1),
        ),
        INVALID,
    ),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            pickup=cpb.PickupAt(),
        ),
        INVALID,
    ),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            pickup=cpb.PickupAt(location_id="NOPE"),
        ),
        NOT_FOUND,
    ),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            ship=cpb.ShipTo(region="eu"),
        ),
        INVALID,
    ),
    ("Allocate", pb.AllocateRequest(idempotency_key="k", ship=cpb.ShipTo(region="eu")), INVALID),
]

# Purchase orders and transfers: what can be malformed in each request (their rules, and
# refusals of well-formed requests, in test_purchase_orders.py and test_transfers.py).
DUE = Timestamp(seconds=1_800_000_000)
PO_LINE = pb.NewPurchaseOrderLine(sku="SKU-1", quantity=1, expected_at=DUE)
CASES += [
    (
        "CreatePurchaseOrder",
        pb.CreatePurchaseOrderRequest(location_id="L1", supplier="A", lines=[PO_LINE]),
        INVALID,
    ),
    (
        "CreatePurchaseOrder",
        pb.CreatePurchaseOrderRequest(idempotency_key="k", location_id="L1", supplier="A"),
        INVALID,
    ),
    (
        "CreatePurchaseOrder",
        pb.CreatePurchaseOrderRequest(idempotency_key="k", location_id="L1", lines=[PO_LINE]),
        INVALID,
    ),
    (
        "CreatePurchaseOrder",
        pb.CreatePurchaseOrderRequest(
            idempotency_key="k",
            location_id="L1",
            supplier="A",
            lines=[pb.NewPurchaseOrderLine(sku="SKU-1", quantity=1)],
        ),
        INVALID,
    ),
    (
        "CreatePurchaseOrder",
        pb.CreatePurchaseOrderRequest(
            idempotency_key="k",
            location_id="L1",
            supplier="A",
            lines=[
                pb.NewPurchaseOrderLine(
                    sku="SKU-1", quantity=1, expected_at=Timestamp(seconds=1, nanos=-5)
                )
            ],
        ),
        INVALID,
    ),
    (
        "CreatePurchaseOrder",
        pb.CreatePurchaseOrderRequest(
            idempotency_key="k", location_id="NOWHERE", supplier="A", lines=[PO_LINE]
        ),
        NOT_FOUND,
    ),
    ("GetPurchaseOrder", pb.GetPurchaseOrderRequest(id=LONG), INVALID),
    ("GetPurchaseOrder", pb.GetPurchaseOrderRequest(id="po_missing"), NOT_FOUND),
    (
        "ListPurchaseOrders",
        pb.ListPurchaseOrdersRequest(location_id="L1", page_token="not ours"),
        INVALID,
    ),
    ("ListPurchaseOrders", pb.ListPurchaseOrdersRequest(location_id="L1", status=77), INVALID),
    ("ListPurchaseOrders", pb.ListPurchaseOrdersRequest(location_id="NOWHERE"), NOT_FOUND),
    (
        "ReceivePurchaseOrder",
        pb.ReceivePurchaseOrderRequest(id="po_x", idempotency_key="k"),
        INVALID,
    ),
    (
        "ReceivePurchaseOrder",
        pb.ReceivePurchaseOrderRequest(id="po_x", lines=[pb.ReceivedLine(sku="SKU-1", quantity=1)]),
        INVALID,
    ),
    (
        "ReceivePurchaseOrder",
        pb.ReceivePurchaseOrderRequest(
            id="po_x", idempotency_key="k", lines=[pb.ReceivedLine(sku="SKU-1", quantity=1)]
        ),
        NOT_FOUND,
    ),
    ("CancelPurchaseOrder", pb.CancelPurchaseOrderRequest(id=""), INVALID),
    ("CancelPurchaseOrder", pb.CancelPurchaseOrderRequest(id="po_x"), NOT_FOUND),
    ("ClosePurchaseOrder", pb.ClosePurchaseOrderRequest(id="po_x", reason="r" * 300), INVALID),
    ("ClosePurchaseOrder", pb.ClosePurchaseOrderRequest(id="po_x"), NOT_FOUND),
    ("AmendPurchaseOrder", pb.AmendPurchaseOrderRequest(id="po_x"), INVALID),  # no lines
    (
        "AmendPurchaseOrder",
        pb.AmendPurchaseOrderRequest(id="po_x", lines=[pb.PurchaseOrderAmendment(sku="SKU-1")]),
        INVALID,  # nothing to change
    ),
    (
        "AmendPurchaseOrder",
        pb.AmendPurchaseOrderRequest(
            id="po_x", lines=[pb.PurchaseOrderAmendment(sku="SKU-1", quantity=-1)]
        ),
        INVALID,
    ),
    (
        "AmendPurchaseOrder",
        pb.AmendPurchaseOrderRequest(
            id="po_x",
            lines=[pb.PurchaseOrderAmendment(sku="SKU-1", expected_at=Timestamp(seconds=10**12))],
        ),
        INVALID,  # more than three years ahead
    ),
    (
        "AmendPurchaseOrder",
        pb.AmendPurchaseOrderRequest(
            id="po_x",
            lines=[
                pb.PurchaseOrderAmendment(sku="SKU-1", quantity=1),
                pb.PurchaseOrderAmendment(sku="SKU-1", quantity=2),
            ],
        ),
        INVALID,  # a SKU twice
    ),
    (
        "AmendPurchaseOrder",
        pb.AmendPurchaseOrderRequest(
            id="po_x", lines=[pb.PurchaseOrderAmendment(sku="SKU-1", quantity=1)]
        ),
        NOT_FOUND,
    ),
    ("SetLocationCapacity", pb.SetLocationCapacityRequest(location_id="L1"), INVALID),
    (
        "SetLocationCapacity",
        pb.SetLocationCapacityRequest(location_id="L1", daily_capacity=-1),
        INVALID,
    ),
    (
        "SetLocationCapacity",
        pb.SetLocationCapacityRequest(location_id="L1", daily_capacity=5, no_limit=True),
        INVALID,
    ),
    ("SetLocationCapacity", pb.SetLocationCapacityRequest(paused=True), INVALID),
    (
        "SetLocationCapacity",
        pb.SetLocationCapacityRequest(location_id="NOWHERE", paused=True),
        grpc.StatusCode.NOT_FOUND,
    ),
    ("SetSourcingRules", pb.SetSourcingRulesRequest(), INVALID),
    (
        "SetSourcingRules",
        pb.SetSourcingRulesRequest(
            rules=pb.SourcingRules(
                channel=cpb.CHANNEL_WEB, rules=[pb.SourcingRule(max_locations=-1)]
            )
        ),
        INVALID,
    ),
    (
        "SetSourcingRules",
        pb.SetSourcingRulesRequest(
            rules=pb.SourcingRules(channel=cpb.CHANNEL_WEB, rules=[pb.SourcingRule()] * 11)
        ),
        INVALID,
    ),
    (
        "SetSourcingRules",
        pb.SetSourcingRulesRequest(
            rules=pb.SourcingRules(
                channel=cpb.CHANNEL_WEB, rules=[pb.SourcingRule(regions=["has space"])]
            )
        ),
        INVALID,
    ),
    ("GetSourcingRules", pb.GetSourcingRulesRequest(), INVALID),
    ("GetSourcingRules", pb.GetSourcingRulesRequest(channel=99), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(channel=0)), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(channel=99)), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(kind=0)), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(kind=7)), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(sku="")), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(sku=LONG)), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(cap=-1)), INVALID),
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(cap=10**7)), INVALID),
    ("ListPresalePolicies", pb.ListPresalePoliciesRequest(channel=42), INVALID),
    ("ListPresalePolicies", pb.ListPresalePoliciesRequest(sku="has space"), INVALID),
    ("ListPresalePolicies", pb.ListPresalePoliciesRequest(page_size=501), INVALID),
    ("ListPresalePolicies", pb.ListPresalePoliciesRequest(page_size=-1), INVALID),
    ("ListPresalePolicies", pb.ListPresalePoliciesRequest(page_token="WEB|a b"), INVALID),
    ("ListPresalePolicies", pb.ListPresalePoliciesRequest(page_token="NOPE|SKU-1"), INVALID),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            ship=cpb.ShipTo(region="north"),
            channel=42,
        ),
        INVALID,
    ),
    (
        "CreateTransfer",
        pb.CreateTransferRequest(
            idempotency_key="k",
            origin_id="L1",
            destination_id="L1",
            lines=[pb.NewTransferLine(sku="SKU-1", quantity=1)],
        ),
        INVALID,
    ),
    (
        "CreateTransfer",
        pb.CreateTransferRequest(
            idempotency_key="k",
            origin_id="L1",
            destination_id="NOWHERE",
            lines=[pb.NewTransferLine(sku="SKU-1", quantity=1)],
        ),
        NOT_FOUND,
    ),
    (
        "CreateTransfer",
        pb.CreateTransferRequest(idempotency_key="k", origin_id="L1", destination_id="L2"),
        INVALID,
    ),
    ("GetTransfer", pb.GetTransferRequest(id="trf_missing"), NOT_FOUND),
    ("ListTransfers", pb.ListTransfersRequest(location_id="L1", status=77), INVALID),
    ("ReadyTransfer", pb.ReadyTransferRequest(id="trf_missing"), NOT_FOUND),
    ("ShipTransfer", pb.ShipTransferRequest(id=""), INVALID),
    (
        "ReceiveTransfer",
        pb.ReceiveTransferRequest(
            id="trf_x", idempotency_key="k", lines=[pb.ArrivedLine(sku="SKU-1")]
        ),
        INVALID,
    ),
    (
        "ReceiveTransfer",
        pb.ReceiveTransferRequest(
            id="trf_x", idempotency_key="k", lines=[pb.ArrivedLine(sku="SKU-1", accepted=1)]
        ),
        NOT_FOUND,
    ),
    ("CancelTransfer", pb.CancelTransferRequest(id="trf_missing"), NOT_FOUND),
    ("CloseTransfer", pb.CloseTransferRequest(id="trf_missing"), NOT_FOUND),
]
NUL = "PO\x007"  # PostgreSQL cannot store a NUL: it must be refused before it gets there


def receipt(**fields: Any) -> pb.ReceiveStockRequest:
    return pb.ReceiveStockRequest(sku="SKU-1", location_id="L1", quantity=1, **fields)


def adjustment(**fields: Any) -> pb.AdjustStockRequest:
    return pb.AdjustStockRequest(sku="SKU-1", location_id="L1", delta=1, **fields)


# Requests valid but for one string: a NUL anywhere, or a control character in a line of text.
# Each is refused naming its field (the error starts so), and nothing changes.
NUL_IN_TEXT: list[tuple[str, Any, str]] = [
    ("SetPresalePolicy", pb.SetPresalePolicyRequest(policy=presale(sku=NUL)), "policy.sku"),
    (
        "AmendPurchaseOrder",
        pb.AmendPurchaseOrderRequest(
            id="po_x", reason=NUL, lines=[pb.PurchaseOrderAmendment(sku="SKU-1", quantity=1)]
        ),
        "reason",
    ),
    ("CreateLocation", pb.CreateLocationRequest(location=loc(name=NUL)), "location.name"),
    (
        "UpdateLocation",
        pb.UpdateLocationRequest(location=location("L1", name=NUL)),
        "location.name",
    ),
    ("ReceiveStock", receipt(reference=NUL), "reference"),
    ("ReceiveStock", receipt(actor=NUL), "actor"),
    ("AdjustStock", adjustment(reason=NUL), "reason"),
    ("AdjustStock", adjustment(actor=NUL), "actor"),
    (
        "SetSafetyStock",
        pb.SetSafetyStockRequest(sku="SKU-1", location_id="L1", safety_stock=1, actor=NUL),
        "actor",
    ),
    (
        "Reserve",
        pb.ReserveRequest(
            idempotency_key="k", lines=[pb.ReserveLine(sku=NUL, location_id="L1", quantity=1)]
        ),
        "lines[0].sku",
    ),
    (
        "Allocate",
        pb.AllocateRequest(
            idempotency_key="k",
            lines=[pb.AllocateLine(sku="SKU-1", quantity=1)],
            near=pb.ShipNear(location_id=NUL),
        ),
        "near.location_id",
    ),
    ("ListLevels", pb.ListLevelsRequest(location_id="L1", sku_prefix=NUL), "sku_prefix"),
    (
        "SetSourcingRules",
        pb.SetSourcingRulesRequest(
            rules=pb.SourcingRules(
                channel=cpb.CHANNEL_WEB, rules=[pb.SourcingRule(location_ids=["L1", NUL])]
            )
        ),
        "rules.rules[0].location_ids[1]",
    ),
    ("LookupBarcodes", pb.LookupBarcodesRequest(codes=["0001", NUL]), "codes[1]"),
]
CONTROL_IN_TEXT: list[tuple[str, Any, str]] = [
    ("CreateLocation", pb.CreateLocationRequest(location=loc(name="New\x07")), "location.name"),
    (
        "UpdateLocation",
        pb.UpdateLocationRequest(location=location("L1", name="L\n1")),
        "location.name",
    ),
    ("ReceiveStock", receipt(reference="PO\r\n7"), "reference"),
    ("ReceiveStock", receipt(actor="\x1b[2Jsomeone"), "actor"),
    ("AdjustStock", adjustment(reason="count\x7f"), "reason"),
    ("AdjustStock", adjustment(actor="a\x85b"), "actor"),
    (
        "SetSafetyStock",
        pb.SetSafetyStockRequest(sku="SKU-1", location_id="L1", safety_stock=1, actor="a\x0b"),
        "actor",
    ),
]


def scan(scan_id: str, reference: str) -> pb.ScanRequest:
    return pb.ScanRequest(
        scan_id=scan_id,
        device_id="gun-7",
        kind=pb.SCAN_KIND_RECEIVE,
        sku="SKU-1",
        location_id="L1",
        quantity=2,
        reference=reference,
    )


# RPCs that take no input, so nothing about it can be malformed.
NO_INPUT = {"ListLocations", "ListChannelViews"}
# With their own bad-input tests: test_availability.py, test_channel_views.py, test_scans.py.
ELSEWHERE = {"WatchAvailability", "SetChannelView", "Scan", "RegisterBarcodes"}


@pytest.fixture
async def stock(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[Stock]:
    async with running_stock(database_url, nats_server) as running:
        await running.stub.CreateLocation(pb.CreateLocationRequest(location=location("L1")))
        await receive(running.stub, "SKU-1", "L1", 5)
        yield running


async def fingerprint(stock: Stock) -> dict[str, int]:
    """Row counts of every stock table, the sum of level versions, and events published."""
    counts: dict[str, int] = {}
    async with stock.app.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            if table is not tables.outbox:
                query = select(func.count()).select_from(table)
                counts[table.name] = (await conn.execute(query)).scalar_one()
        versions = select(func.coalesce(func.sum(tables.stock_levels.c.version), 0))
        counts["versions"] = (await conn.execute(versions)).scalar_one()
    await stock.app.nats.ready.wait()

    async def outbox_empty() -> bool:
        return await stock.app.relay.pending() == 0

    await eventually(outbox_empty)
    counts["events"] = (await stock.bus.jetstream().stream_info("STOCK_EVENTS")).state.messages
    return counts


def test_every_rpc_has_bad_input_cases() -> None:
    rpcs = {m.name for m in pb.DESCRIPTOR.services_by_name["StockService"].methods}
    assert rpcs - NO_INPUT - ELSEWHERE == {name for name, _, _ in CASES}


async def test_malformed_requests_get_a_clear_error_and_change_nothing(stock: Stock) -> None:
    before = await fingerprint(stock)
    for rpc, request, code in CASES:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await getattr(stock.stub, rpc)(request)
        assert (rpc, failure.value.code()) == (rpc, code), failure.value.details()
        assert failure.value.details(), f"{rpc} gave no message"
    assert await fingerprint(stock) == before


async def test_bytes_that_are_not_a_message_are_invalid_argument_not_internal(stock: Stock) -> None:
    for rpc in ("Reserve", "CreateLocation", "GetAvailability"):
        call = stock.channel.unary_unary(f"/omni.stock.v1.StockService/{rpc}")
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(b"\xff\xff\xff\xff garbage")
        assert failure.value.code() == INVALID


async def test_a_nul_or_control_character_in_text_is_refused_naming_the_field(
    stock: Stock,
) -> None:
    before = await fingerprint(stock)
    await assert_text_refused(stock.stub, NUL_IN_TEXT, CONTROL_IN_TEXT)
    assert await fingerprint(stock) == before


async def test_a_nul_in_a_scan_gets_that_scan_an_error_and_the_stream_goes_on(
    stock: Stock,
) -> None:
    call = stock.stub.Scan()
    replies = []
    for request in (scan("s-1", NUL), scan("s-2", "PO\t7"), scan("s-3", "PO 7")):
        await call.write(request)
        replies.append(await call.read())
    await call.done_writing()
    assert [(r.scan_id, r.error.code) for r in replies] == [
        ("s-1", INVALID.value[0]),
        ("s-2", INVALID.value[0]),
        ("s-3", 0),
    ]
    assert replies[0].error.message == "reference may not contain a NUL character (U+0000)"
    assert (await level_of(stock.stub, "SKU-1", "L1")).on_hand == 5 + 2  # the good scan only


async def test_a_nul_in_a_request_over_nats_is_refused_naming_the_field(stock: Stock) -> None:
    before = await fingerprint(stock)
    request = pb.AllocateRequest(
        idempotency_key="k",
        lines=[pb.AllocateLine(sku="SKU-1", quantity=1), pb.AllocateLine(sku=NUL, quantity=1)],
        near=pb.ShipNear(location_id="L1"),
    )
    answer = await stock.bus.request("stock.rpc.allocate", request.SerializeToString(), 5)
    reply = msg_pb.AllocateReply.FromString(answer.data)
    assert reply.error.code == INVALID.value[0]
    assert reply.error.message == "lines[1].sku may not contain a NUL character (U+0000)"
    assert await fingerprint(stock) == before
