"""`omni location list|capacity|pause|resume`: the ship orders each location may take on a
day (UTC), how many it took today, and pausing one for now (sourcing skips it)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from omni.cli.connect import stock_channel
from omni.cli.sheets import out, quantity
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "location",
        help="locations' daily capacity for ship orders, and pausing them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every location: what it does, its capacity, taken today")
    actions.choices["list"].set_defaults(run=_list)
    capacity = actions.add_parser("capacity", help="ship orders a day, at most (or 'none')")
    capacity.add_argument("location")
    capacity.add_argument("orders")
    capacity.set_defaults(run=_change)
    for name, help_text in (("pause", "take no new ship orders"), ("resume", "take them again")):
        step = actions.add_parser(name, help=help_text)
        step.add_argument("location")
        step.set_defaults(run=_change)


def _table(locations: list[pb.Location]) -> Table:
    table = Table("ID", "KIND", "SHIPS", "PICKUP", "CAPACITY", "TAKEN TODAY", "STATE", box=None)
    for loc in locations:
        table.add_row(
            loc.id,
            pb.LocationKind.Name(loc.kind).removeprefix("LOCATION_KIND_"),
            "yes" if loc.ships else "no",
            "yes" if loc.pickup else "no",
            str(loc.daily_capacity) if loc.HasField("daily_capacity") else "no limit",
            str(loc.taken_today),
            "paused" if loc.paused else "open",
        )
    return table


async def _list(args: argparse.Namespace) -> None:
    async with stock_channel(args) as conn:
        stub = stock_pb2_grpc.StockServiceStub(conn)
        reply = await stub.ListLocations(pb.ListLocationsRequest())
    out().print(_table(list(reply.locations)))


async def _change(args: argparse.Namespace) -> None:
    """One change (SetLocationCapacity): the rest of the location stays as it is."""
    request = pb.SetLocationCapacityRequest(location_id=args.location)
    if args.action == "capacity":
        if args.orders.lower() == "none":
            request.no_limit = True
        else:
            request.daily_capacity = quantity("orders", args.orders, zero=True)
    else:
        request.paused = args.action == "pause"
    async with stock_channel(args) as conn:
        stub = stock_pb2_grpc.StockServiceStub(conn)
        reply = await stub.SetLocationCapacity(request)
    out().print(_table([reply.location]))
