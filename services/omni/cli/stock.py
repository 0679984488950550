"""`omni stock get|receive|reserve`: quick manual stock work."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import grpc
from grpc_status import rpc_status

from omni.cli.connect import stock_channel
from omni.cli.sheets import CliError
from omni.common.v1 import common_pb2 as cpb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

COLUMNS = ("SKU", "LOCATION", "ON HAND", "RESERVED", "SAFETY", "DAMAGED", "AVAILABLE", "VERSION")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("stock", help="look at or change stock levels")
    actions = parser.add_subparsers(dest="action", required=True)
    get = actions.add_parser("get", help="levels of SKUs, and network availability")
    get.add_argument("skus", nargs="+", metavar="SKU")
    get.add_argument("--location", action="append", default=[], help="only these (repeatable)")
    get.set_defaults(run=_get)
    receive = actions.add_parser("receive", help="units arrived at a location")
    receive.add_argument("sku")
    receive.add_argument("location")
    receive.add_argument("quantity", type=int)
    receive.add_argument("--key", default="", help="idempotency key (a resend counts once)")
    receive.set_defaults(run=_receive)
    reserve = actions.add_parser("reserve", help="hold units: SKU@LOCATION=QTY ...")
    reserve.add_argument("lines", nargs="+", metavar="SKU@LOCATION=QTY")
    reserve.add_argument("--key", default="", help="idempotency key (default: a new one)")
    reserve.add_argument("--ttl", type=int, default=0, help="seconds until it expires")
    reserve.set_defaults(run=_reserve)


def level_rows(levels: list[pb.StockLevel]) -> list[tuple[object, ...]]:
    return [
        (
            lv.sku,
            lv.location_id,
            lv.on_hand,
            lv.reserved,
            lv.safety_stock,
            lv.damaged,
            lv.available,
            lv.version,
        )
        for lv in levels
    ]


def table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=False)]
    return "\n".join(
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


async def _get(args: argparse.Namespace) -> None:
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.GetAvailability(
            pb.GetAvailabilityRequest(skus=args.skus, location_ids=args.location)
        )
    print(table(COLUMNS, level_rows(list(reply.levels))))
    print("network (ships): " + ", ".join(f"{n.sku} {n.available}" for n in reply.network))


async def _receive(args: argparse.Namespace) -> None:
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.ReceiveStock(
            pb.ReceiveStockRequest(
                sku=args.sku,
                location_id=args.location,
                quantity=args.quantity,
                actor="omni-cli",
                idempotency_key=args.key,
            )
        )
    print(table(COLUMNS, level_rows([reply.level])))


async def _reserve(args: argparse.Namespace) -> None:
    lines = []
    for text in args.lines:
        sku, _, rest = text.partition("@")
        location, _, qty = rest.partition("=")
        if not (sku and location and qty.lstrip("-").isdecimal()):
            raise CliError(f"{text!r} is not SKU@LOCATION=QTY")
        lines.append(pb.ReserveLine(sku=sku, location_id=location, quantity=int(qty)))
    key = args.key or f"cli-{uuid.uuid4().hex[:12]}"
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        try:
            reply = await stub.Reserve(
                pb.ReserveRequest(
                    idempotency_key=key, reference=key, lines=lines, ttl_seconds=args.ttl
                )
            )
        except grpc.aio.AioRpcError as exc:
            short = _short_lines(exc)
            if not short:
                raise
            raise CliError(
                "not enough stock: "
                + "; ".join(
                    f"{s.sku}@{s.location_id} asked {s.requested}, available {s.available}"
                    for s in short
                )
            ) from None
    res = reply.reservation
    held = ", ".join(f"{ln.sku}@{ln.location_id}={ln.quantity}" for ln in res.lines)
    print(f"reserved {held} as {res.id} (key {key})")


def _short_lines(exc: grpc.aio.AioRpcError) -> list[cpb.ShortLine]:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    if status is None or not status.details:
        return []
    detail = pb.InsufficientStock()
    return list(detail.lines) if status.details[0].Unpack(detail) else []
