"""`omni pickup list|show|unlock`: a store's buy-online-pickup-in-store tasks from a terminal —
what waits at each step, one task's lines, and unlocking one locked after five wrong codes
(a manager's act, recorded with the manager's id)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from omni.cli.connect import pickup_channel
from omni.cli.sheets import choices, out, page_size, when
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.pickup.v1 import pickup_pb2_grpc

# What --status takes: the enum's names in lower case ("ready").
STATUSES = choices(ppb.PickupStatus, "PICKUP_STATUS_")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "pickup",
        help="pickup tasks: list a store's, show one, unlock one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="a store's pickup tasks")
    listing.add_argument("store")
    listing.add_argument("--status", choices=sorted(STATUSES))
    listing.add_argument("--limit", type=int, default=50, help="at most this many (500)")
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="one task: its lines, picked and missing")
    show.add_argument("task")
    show.set_defaults(run=_show)
    unlock = actions.add_parser("unlock", help="unlock a task locked by wrong codes")
    unlock.add_argument("task")
    unlock.add_argument("--manager", required=True, metavar="ID", help="who unlocks it")
    unlock.set_defaults(run=_unlock)


def tasks_table(tasks: list[ppb.PickupTask]) -> Table:
    table = Table("TASK", "ORDER", "STORE", "STATUS", "UNITS", "PICKED", "HELD UNTIL", box=None)
    for task in tasks:
        table.add_row(
            task.id,
            task.order_id,
            task.store_id,
            ppb.PickupStatus.Name(task.status).removeprefix("PICKUP_STATUS_").lower(),
            str(sum(line.quantity for line in task.lines)),
            str(sum(line.picked for line in task.lines)),
            when(task.hold_until),
        )
    return table


def show(task: ppb.PickupTask) -> None:
    console = out()
    console.print(tasks_table([task]))
    lines = Table("SKU", "UNITS", "PICKED", "MISSING", "COMING", box=None)
    for line in task.lines:
        lines.add_row(
            line.sku, str(line.quantity), str(line.picked), str(line.short), str(line.coming)
        )
    console.print(lines)


async def _list(args: argparse.Namespace) -> None:
    request = ppb.ListPickupsRequest(
        store_id=args.store,
        status=f"PICKUP_STATUS_{(args.status or 'unspecified').upper()}",
        page_size=page_size(args.limit),
    )
    async with pickup_channel(args) as conn:
        reply = await pickup_pb2_grpc.PickupServiceStub(conn).ListPickups(request)
    out().print(tasks_table(list(reply.tasks)))


async def _show(args: argparse.Namespace) -> None:
    async with pickup_channel(args) as conn:
        reply = await pickup_pb2_grpc.PickupServiceStub(conn).GetPickup(
            ppb.GetPickupRequest(id=args.task)
        )
    show(reply.task)


async def _unlock(args: argparse.Namespace) -> None:
    async with pickup_channel(args) as conn:
        reply = await pickup_pb2_grpc.PickupServiceStub(conn).UnlockPickup(
            ppb.UnlockPickupRequest(id=args.task, manager_id=args.manager)
        )
    show(reply.task)
