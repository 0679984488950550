"""`omni po list|show|create|receive|amend|close|cancel`: purchase orders from a terminal,
their lines from CSV files.

create: `sku,quantity,expected` per line (`expected` a date, YYYY-MM-DD, or a full ISO time);
receive: `sku,quantity` per line. A first line that names the columns is skipped. A large
receipt is sent in parts of at most 200 lines, with a progress bar; each part's idempotency
key comes from the order, the file's content and the part, so running the same file again
(after an interruption, say) counts nothing twice. Give `--key` to receive an identical file
again on purpose."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from omni.cli.connect import stock_channel
from omni.cli.sheets import PART, CliError, key_for, moment, out, parts, quantity, rows, when
from omni.platform.wire import timestamp
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

STATUS_NAMES = {
    v: k.removeprefix("PURCHASE_ORDER_STATUS_") for k, v in pb.PurchaseOrderStatus.items()
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "po",
        help="purchase orders: stock on its way",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="a location's purchase orders, newest first")
    listing.add_argument("location")
    listing.add_argument(
        "--status", choices=[n for n in STATUS_NAMES.values() if n != "UNSPECIFIED"]
    )
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="one purchase order, line by line")
    show.add_argument("id")
    show.set_defaults(run=_show)
    create = actions.add_parser(
        "create", help="a purchase order from a CSV of sku,quantity,expected"
    )
    create.add_argument("location")
    create.add_argument("csv", type=Path)
    create.add_argument("--supplier", required=True)
    create.add_argument("--reference", default="", help="the supplier's or your own PO number")
    create.add_argument("--key", default="", help="idempotency key (default: from the file)")
    create.set_defaults(run=_create)
    receive = actions.add_parser("receive", help="units that arrived, from a CSV of sku,quantity")
    receive.add_argument("id")
    receive.add_argument("csv", type=Path)
    receive.add_argument("--key", default="", help="set to receive the same file again")
    receive.set_defaults(run=_receive)
    amend = actions.add_parser(
        "amend", help="a line re-dated or re-sized (backorders waiting on it follow)"
    )
    amend.add_argument("id")
    amend.add_argument("sku")
    amend.add_argument("--quantity", help="units now ordered (at least those received; 0 drops it)")
    amend.add_argument("--expected", help="when they are now due: YYYY-MM-DD or an ISO time")
    amend.add_argument("--reason", default="")
    amend.set_defaults(run=_amend)
    for name, verb in (("close", "what has not come will not"), ("cancel", "nothing will come")):
        end = actions.add_parser(name, help=verb)
        end.add_argument("id")
        end.add_argument("--reason", default="")
        end.set_defaults(run=_close if name == "close" else _cancel)


def _print(po: pb.PurchaseOrder, console: Console) -> None:
    console.print(
        f"{po.id}  {STATUS_NAMES[po.status]}  at {po.location_id}  from {po.supplier}"
        + (f"  ({po.reference})" if po.reference else "")
    )
    lines = Table("SKU", "ORDERED", "RECEIVED", "EXPECTED", box=None)
    for line in po.lines:
        lines.add_row(line.sku, str(line.quantity), str(line.received), when(line.expected_at))
    console.print(lines)


async def _list(args: argparse.Namespace) -> None:
    status = f"PURCHASE_ORDER_STATUS_{args.status}" if args.status else None
    table = Table("ID", "STATUS", "SUPPLIER", "REFERENCE", "LINES", "UNITS", "RECEIVED", box=None)
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        token = ""
        while True:
            page = await stub.ListPurchaseOrders(
                pb.ListPurchaseOrdersRequest(
                    location_id=args.location, status=status, page_token=token, page_size=500
                )
            )
            for po in page.purchase_orders:
                table.add_row(
                    po.id,
                    STATUS_NAMES[po.status],
                    po.supplier,
                    po.reference,
                    str(len(po.lines)),
                    str(sum(line.quantity for line in po.lines)),
                    str(sum(line.received for line in po.lines)),
                )
            token = page.next_page_token
            if not token:
                break
    out().print(table)


async def _show(args: argparse.Namespace) -> None:
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.GetPurchaseOrder(pb.GetPurchaseOrderRequest(id=args.id))
    _print(reply.purchase_order, out())


async def _create(args: argparse.Namespace) -> None:
    lines = [
        pb.NewPurchaseOrderLine(
            sku=cells[0],
            quantity=quantity(f"{args.csv}:{number}", cells[1]),
            expected_at=timestamp(moment(f"{args.csv}:{number}", cells[2])),
        )
        for number, cells in rows(args.csv, 3)
    ]
    if not lines:
        raise CliError(f"{args.csv} has no lines")
    if len(lines) > PART:
        raise CliError(f"{args.csv} has {len(lines)} lines; a purchase order holds {PART} at most")
    key = args.key or key_for("po", args.location, args.csv)
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.CreatePurchaseOrder(
            pb.CreatePurchaseOrderRequest(
                idempotency_key=key,
                location_id=args.location,
                supplier=args.supplier,
                reference=args.reference,
                lines=lines,
            )
        )
    _print(reply.purchase_order, out())


async def _receive(args: argparse.Namespace) -> None:
    lines = [
        pb.ReceivedLine(sku=cells[0], quantity=quantity(f"{args.csv}:{number}", cells[1]))
        for number, cells in rows(args.csv, 2)
    ]
    if not lines:
        raise CliError(f"{args.csv} has no lines")
    stem = args.key or key_for("rcv", args.id, args.csv)
    chunks = parts(lines)
    console = Console(stderr=True)
    over: dict[str, int] = {}
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"receiving {len(lines)} lines", total=len(lines))
            for i, part in enumerate(chunks):
                reply = await stub.ReceivePurchaseOrder(
                    pb.ReceivePurchaseOrderRequest(
                        id=args.id, idempotency_key=f"{stem}:{i}", lines=part
                    )
                )
                for extra in reply.over_received:
                    over[extra.sku] = over.get(extra.sku, 0) + extra.quantity
                progress.advance(bar, len(part))
    _print(reply.purchase_order, out())
    if over:
        out().print("over-received: " + ", ".join(f"{s} {q}" for s, q in over.items()))


async def _amend(args: argparse.Namespace) -> None:
    if args.quantity is None and args.expected is None:
        raise CliError("give --quantity, --expected or both")
    line = pb.PurchaseOrderAmendment(sku=args.sku)
    if args.quantity is not None:
        line.quantity = quantity("--quantity", args.quantity, zero=True)
    if args.expected is not None:
        line.expected_at.CopyFrom(timestamp(moment("--expected", args.expected)))
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.AmendPurchaseOrder(
            pb.AmendPurchaseOrderRequest(id=args.id, lines=[line], reason=args.reason)
        )
    _print(reply.purchase_order, out())


async def _close(args: argparse.Namespace) -> None:
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.ClosePurchaseOrder(
            pb.ClosePurchaseOrderRequest(id=args.id, reason=args.reason)
        )
    _print(reply.purchase_order, out())


async def _cancel(args: argparse.Namespace) -> None:
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.CancelPurchaseOrder(
            pb.CancelPurchaseOrderRequest(id=args.id, reason=args.reason)
        )
    _print(reply.purchase_order, out())
