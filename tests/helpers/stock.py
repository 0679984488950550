"""Talking to the stock service as a client does: locations, receipts, levels, the ledger."""

from __future__ import annotations

from typing import Any

import grpc
from grpc_status import rpc_status

from omni.common.v1 import common_pb2 as cpb
from omni.stock.domain.model import Movement, MovementKind, StockLevel, fold
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc


def location(location_id: str, **fields: Any) -> pb.Location:
    defaults: dict[str, Any] = {
        "id": location_id,
        "name": location_id,
        "kind": pb.LOCATION_KIND_WAREHOUSE,
        "ships": True,
        "region": "eu",
    }
    return pb.Location(**{**defaults, **fields})


async def add_location(stub: stock_pb2_grpc.StockServiceStub, location_id: str, **f: Any) -> None:
    await stub.CreateLocation(pb.CreateLocationRequest(location=location(location_id, **f)))


async def receive(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, location_id: str, qty: int
) -> pb.StockLevel:
    reply = await stub.ReceiveStock(
        pb.ReceiveStockRequest(sku=sku, location_id=location_id, quantity=qty)
    )
    return reply.level


async def level_of(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, location_id: str
) -> pb.StockLevel:
    reply = await stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=[sku], location_ids=[location_id])
    )
    return reply.levels[0] if reply.levels else pb.StockLevel(sku=sku, location_id=location_id)


async def ledger_fold(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, location_id: str
) -> StockLevel:
    """Reads the whole ledger page by page and folds it from zero."""
    movements: list[Movement] = []
    token = ""
    while True:
        page = await stub.ListMovements(
            pb.ListMovementsRequest(
                sku=sku, location_id=location_id, page_size=100, page_token=token
            )
        )
        movements += [
            Movement(
                m.sku,
                m.location_id,
                MovementKind(pb.MovementKind.Name(m.kind)[14:]),
                m.on_hand_delta,
                m.reserved_delta,
                m.damaged_delta,
                m.safety_stock_delta,
                m.reference,
                m.actor,
                m.version,
                m.incoming_delta,
            )
            for m in page.movements
        ]
        token = page.next_page_token
        if not token:
            return fold(movements, sku, location_id)


def short_lines(error: grpc.aio.AioRpcError) -> list[cpb.ShortLine]:
    """The InsufficientStock detail carried by a FAILED_PRECONDITION."""
    status = rpc_status.from_call(error)
    assert status is not None, "no google.rpc.Status detail on the error"
    detail = pb.InsufficientStock()
    assert status.details[0].Unpack(detail)
    return list(detail.lines)


def as_domain(level: pb.StockLevel) -> StockLevel:
    """A level from the wire as the domain's StockLevel (to compare with a folded ledger)."""
    return StockLevel(
        level.sku,
        level.location_id,
        level.on_hand,
        level.reserved,
        level.safety_stock,
        level.damaged,
        level.version,
        level.incoming,
    )
