"""`omni transfer list|show|create|ready|ship|receive|cancel`: transfers between locations from
a terminal, their lines from CSV files.

create: `sku,quantity` per line; receive: `sku,accepted[,rejected]` per line (rejected units
arrived unsellable and are counted damaged). A first line that names the columns is skipped.
A large receipt is sent in parts of at most 200 lines, with a progress bar; each part's
idempotency key comes from the transfer, the file's content and the part, so running the same
file again counts nothing twice (`--key` to receive an identical file again on purpose)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from omni.cli.connect import stock_channel
from omni.cli.sheets import CliError, key_for, out, parts, quantity, rows
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

STATUS_NAMES = {v: k.removeprefix("TRANSFER_STATUS_") for k, v in pb.TransferStatus.items()}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "transfer",
        help="transfers: units moved between locations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="transfers from or to a location, newest first")
    listing.add_argument("location")
    statuses = [name for name in STATUS_NAMES.values() if name != "UNSPECIFIED"]
    listing.add_argument("--status", choices=statuses)
    listing.set_defaults(run=_list)
    create = actions.add_parser("create", help="a transfer from a CSV of sku,quantity")
    create.add_argument("origin")
    create.add_argument("destination")
    create.add_argument("csv", type=Path)
    create.add_argument("--reference", default="")
    create.add_argument("--ready", action="store_true", help="hold the units at once")
    create.add_argument("--key", default="", help="idempotency key (default: from the file)")
    create.set_defaults(run=_create)
    receive = actions.add_parser("receive", help="what arrived: sku,accepted[,rejected]")
    receive.add_argument("id")
    receive.add_argument("csv", type=Path)
    receive.add_argument("--key", default="", help="set to receive the same file again")
    receive.set_defaults(run=_receive)
    for name, help_text in (
        ("show", "one transfer, line by line"),
        ("ready", "hold its units at the origin"),
        ("ship", "its units leave the origin"),
        ("cancel", "before it ships: what is held goes back"),
    ):
        step = actions.add_parser(name, help=help_text)
        step.add_argument("id")
        if name == "cancel":
            step.add_argument("--reason", default="")
        step.set_defaults(run=_step, step=name)


def _print(t: pb.Transfer, console: Console) -> None:
    console.print(
        f"{t.id}  {STATUS_NAMES[t.status]}  {t.origin_id} → {t.destination_id}"
        + (f"  ({t.reference})" if t.reference else "")
    )
    lines = Table("SKU", "QUANTITY", "ACCEPTED", "REJECTED", box=None)
    for line in t.lines:
        lines.add_row(line.sku, str(line.quantity), str(line.accepted), str(line.rejected))
    console.print(lines)


async def _list(args: argparse.Namespace) -> None:
    status = f"TRANSFER_STATUS_{args.status}" if args.status else None
    table = Table("ID", "STATUS", "FROM", "TO", "REFERENCE", "UNITS", box=None)
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        token = ""
        while True:
            page = await stub.ListTransfers(
                pb.ListTransfersRequest(
                    location_id=args.location, status=status, page_token=token, page_size=500
                )
            )
            for t in page.transfers:
                units = str(sum(line.quantity for line in t.lines))
                # Made for an order: its reference is the order, whose customer collects there.
                ref = f"{t.reference} (customer order)" if t.for_reservation_id else t.reference
                ends = (t.origin_id, t.destination_id)
                table.add_row(t.id, STATUS_NAMES[t.status], *ends, ref, units)
            token = page.next_page_token
            if not token:
                break
    out().print(table)


async def _create(args: argparse.Namespace) -> None:
    lines = [
        pb.NewTransferLine(sku=cells[0], quantity=quantity(f"{args.csv}:{number}", cells[1]))
        for number, cells in rows(args.csv, 2)
    ]
    if not lines:
        raise CliError(f"{args.csv} has no lines")
    key = args.key or key_for("trf", f"{args.origin}>{args.destination}", args.csv)
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        reply = await stub.CreateTransfer(
            pb.CreateTransferRequest(
                idempotency_key=key,
                origin_id=args.origin,
                destination_id=args.destination,
                reference=args.reference,
                lines=lines,
                ready=args.ready,
            )
        )
    _print(reply.transfer, out())


async def _receive(args: argparse.Namespace) -> None:
    lines = []
    for number, cells in rows(args.csv, 2):
        rejected = quantity(f"{args.csv}:{number}", cells[2], zero=True) if len(cells) > 2 else 0
        accepted = quantity(f"{args.csv}:{number}", cells[1], zero=rejected > 0)
        lines.append(pb.ArrivedLine(sku=cells[0], accepted=accepted, rejected=rejected))
    if not lines:
        raise CliError(f"{args.csv} has no lines")
    stem = args.key or key_for("trf-rcv", args.id, args.csv)
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        with Progress(console=Console(stderr=True), transient=True) as progress:
            bar = progress.add_task(f"receiving {len(lines)} lines", total=len(lines))
            for i, part in enumerate(parts(lines)):
                reply = await stub.ReceiveTransfer(
                    pb.ReceiveTransferRequest(id=args.id, idempotency_key=f"{stem}:{i}", lines=part)
                )
                progress.advance(bar, len(part))
    _print(reply.transfer, out())


async def _step(args: argparse.Namespace) -> None:
    async with stock_channel(args) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        match args.step:
            case "show":
                reply: Any = await stub.GetTransfer(pb.GetTransferRequest(id=args.id))
            case "ready":
                reply = await stub.ReadyTransfer(pb.ReadyTransferRequest(id=args.id))
            case "ship":
                reply = await stub.ShipTransfer(pb.ShipTransferRequest(id=args.id))
            case _:
                reply = await stub.CancelTransfer(
                    pb.CancelTransferRequest(id=args.id, reason=args.reason)
                )
    _print(reply.transfer, out())
