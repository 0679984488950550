"""`omni presale list|set`: which channels may sell which SKUs ahead of their supply
(backorders, preorders), up to how many units waiting at once, and how many wait now."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from omni.cli.connect import stock_channel
from omni.cli.sheets import out, quantity
from omni.common.v1 import common_pb2 as cpb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

CHANNELS = [name.removeprefix("CHANNEL_") for name in cpb.Channel.keys()[1:]]
KINDS = [name.removeprefix("PRESALE_KIND_") for name in pb.PresaleKind.keys()[1:]]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "presale",
        help="backorders and preorders: selling ahead of supply",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the policies, with the units waiting under each")
    listing.add_argument("--channel", choices=CHANNELS)
    listing.add_argument("--sku", default="")
    listing.set_defaults(run=_list)
    terms = actions.add_parser("set", help="let a channel sell a SKU ahead, or stop it (--off)")
    terms.add_argument("channel", choices=CHANNELS)
    terms.add_argument("sku")
    terms.add_argument("--kind", choices=KINDS, default="BACKORDER")
    terms.add_argument("--cap", help="units waiting at once, at most (default: what is coming)")
    terms.add_argument("--off", action="store_true", help="take no more (those taken still wait)")
    terms.set_defaults(run=_set)


def _table(policies: list[pb.PresalePolicy]) -> Table:
    table = Table("CHANNEL", "SKU", "KIND", "CAP", "WAITING", "STATE", box=None)
    for p in policies:
        table.add_row(
            cpb.Channel.Name(p.channel).removeprefix("CHANNEL_"),
            p.sku,
            pb.PresaleKind.Name(p.kind).removeprefix("PRESALE_KIND_"),
            str(p.cap) if p.HasField("cap") else "supply",
            str(p.waiting),
            "paused" if p.paused else "selling",
        )
    return table


async def _list(args: argparse.Namespace) -> None:
    channel = f"CHANNEL_{args.channel}" if args.channel else None
    policies: list[pb.PresalePolicy] = []
    async with stock_channel(args) as conn:
        stub = stock_pb2_grpc.StockServiceStub(conn)
        token = ""
        while True:
            reply = await stub.ListPresalePolicies(
                pb.ListPresalePoliciesRequest(
                    channel=channel, sku=args.sku, page_size=500, page_token=token
                )
            )
            policies.extend(reply.policies)
            token = reply.next_page_token
            if not token:
                break
    out().print(_table(policies))


async def _set(args: argparse.Namespace) -> None:
    policy = pb.PresalePolicy(
        channel=f"CHANNEL_{args.channel}",
        sku=args.sku,
        kind=f"PRESALE_KIND_{args.kind}",
        paused=args.off,
    )
    if args.cap is not None:
        policy.cap = quantity("--cap", args.cap, zero=True)
    async with stock_channel(args) as conn:
        stub = stock_pb2_grpc.StockServiceStub(conn)
        reply = await stub.SetPresalePolicy(pb.SetPresalePolicyRequest(policy=policy))
    out().print(_table([reply.policy]))
