"""`omni order list|show|cancel`: orders from a terminal — what is stuck where, one order's
lines, allocations and shipments, and cancelling one (its units go back on sale)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from omni.cli.connect import orders_channel
from omni.cli.sheets import choices, out, page_size, when
from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.platform.currency import money

# What --status and --channel take: the enums' names in lower case ("confirmed", "web").
STATUSES = choices(opb.OrderStatus, "ORDER_STATUS_")
CHANNELS = choices(cpb.Channel, "CHANNEL_")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "order",
        help="orders: list them, show one, cancel one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="orders, newest first")
    listing.add_argument("--status", choices=sorted(STATUSES))
    listing.add_argument("--channel", choices=sorted(CHANNELS))
    listing.add_argument("--customer", default="", metavar="ID")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (500)")
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="one order: its lines, where they are, shipments")
    show.add_argument("order")
    show.set_defaults(run=_show)
    cancel = actions.add_parser("cancel", help="cancel an order not shipped yet")
    cancel.add_argument("order")
    cancel.add_argument("--reason", required=True, help="why, in words (kept with the order)")
    cancel.set_defaults(run=_cancel)


def status_name(status: int) -> str:
    return opb.OrderStatus.Name(status).removeprefix("ORDER_STATUS_").lower()


def orders_table(orders: list[opb.Order]) -> Table:
    table = Table("ID", "PLACED", "CHANNEL", "CUSTOMER", "STATUS", "UNITS", "TOTAL", box=None)
    for order in orders:
        table.add_row(
            order.id,
            when(order.created_at),
            cpb.Channel.Name(order.channel).removeprefix("CHANNEL_").lower(),
            order.customer_id,
            status_name(order.status),
            str(sum(line.quantity for line in order.lines)),
            money(sum(ln.quantity * ln.unit_price for ln in order.lines), order.currency),
        )
    return table


async def _list(args: argparse.Namespace) -> None:
    request = opb.ListOrdersRequest(
        customer_id=args.customer,
        status=f"ORDER_STATUS_{(args.status or 'unspecified').upper()}",
        channel=f"CHANNEL_{(args.channel or 'unspecified').upper()}",
        page_size=page_size(args.limit),
    )
    async with orders_channel(args) as conn:
        reply = await orders_pb2_grpc.OrdersServiceStub(conn).ListOrders(request)
    out().print(orders_table(list(reply.orders)))


async def _show(args: argparse.Namespace) -> None:
    async with orders_channel(args) as conn:
        reply = await orders_pb2_grpc.OrdersServiceStub(conn).GetOrder(
            opb.GetOrderRequest(id=args.order)
        )
    show(reply.order)


def show(order: opb.Order) -> None:
    console = out()
    console.print(orders_table([order]))
    where = (
        f"pickup at {order.pickup.location_id}"
        if order.HasField("pickup")
        else f"ship to {order.ship.region}"
    )
    console.print(
        f"\n{where}; version {order.version}" + (f"; {order.reason}" if order.reason else "")
    )
    lines = Table("SKU", "UNITS", "PRICE", "FROM", "SHIPPED", "CANCELLED", "RETURNED", box=None)
    for line in order.lines:
        sources = ", ".join(f"{a.location_id}: {a.quantity}" for a in line.allocations) or "-"
        lines.add_row(
            line.sku,
            str(line.quantity),
            money(line.unit_price, order.currency),
            sources,
            str(sum(a.shipped for a in line.allocations)),
            str(line.cancelled),
            str(line.returned),
        )
    console.print(lines)
    if order.shipments:
        shipments = Table("SHIPMENT", "FROM", "CARRIER", "TRACKING", "UNITS", box=None)
        for shipment in order.shipments:
            shipments.add_row(
                shipment.id,
                shipment.location_id,
                shipment.carrier,
                shipment.tracking_number,
                str(sum(line.quantity for line in shipment.lines)),
            )
        console.print(shipments)


async def _cancel(args: argparse.Namespace) -> None:
    async with orders_channel(args) as conn:
        reply = await orders_pb2_grpc.OrdersServiceStub(conn).CancelOrder(
            opb.CancelOrderRequest(id=args.order, reason=args.reason)
        )
    show(reply.order)
