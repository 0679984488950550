"""`omni watch SKU...`: live availability, redrawn in place (a line per change when piped)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import grpc

from omni.cli.connect import stock_channel
from omni.cli.stock import COLUMNS, level_rows, table
from omni.common.v1 import common_pb2 as cpb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

CHANNELS = [name.removeprefix("CHANNEL_").lower() for name in cpb.Channel.keys()[1:]]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("watch", help="follow availability of SKUs live")
    parser.add_argument("skus", nargs="+", metavar="SKU")
    parser.add_argument("--location", action="append", default=[], help="only these (repeatable)")
    parser.add_argument("--channel", choices=CHANNELS, help="as this sales channel sees it")
    parser.set_defaults(run=_watch)


async def _watch(args: argparse.Namespace) -> None:
    channel: Any = cpb.Channel.Value(f"CHANNEL_{args.channel.upper()}") if args.channel else 0
    request = pb.WatchAvailabilityRequest(
        skus=args.skus, location_ids=args.location, channel=channel
    )
    levels: dict[tuple[str, str], pb.StockLevel] = {}
    network: dict[str, int] = {}
    live = sys.stdout.isatty()
    while True:
        try:
            async with stock_channel(args) as channel_:
                stub = stock_pb2_grpc.StockServiceStub(channel_)
                async for reply in stub.WatchAvailability(request):
                    if reply.HasField("network"):
                        network[reply.network.sku] = reply.network.available
                    else:
                        levels[(reply.level.sku, reply.level.location_id)] = reply.level
                    _show(levels, network, reply, live)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            print(f"omni: stock unreachable at {args.stock}; retrying", file=sys.stderr)
            await asyncio.sleep(1.0)


def _show(
    levels: dict[tuple[str, str], pb.StockLevel],
    network: dict[str, int],
    reply: pb.WatchAvailabilityResponse,
    live: bool,
) -> None:
    if not live and reply.HasField("network"):
        print(f"{reply.network.sku} network available={reply.network.available}", flush=True)
        return
    changed = reply.level
    if not live:
        print(
            f"{changed.sku} {changed.location_id} available={changed.available} "
            f"on_hand={changed.on_hand} reserved={changed.reserved} version={changed.version}",
            flush=True,
        )
        return
    rows = level_rows([levels[k] for k in sorted(levels)])
    totals = ", ".join(f"{sku} {n}" for sku, n in sorted(network.items()))
    screen = f"{table(COLUMNS, rows)}\nnetwork (ships): {totals}\n"
    sys.stdout.write("\x1b[H\x1b[2J" + screen)  # home, clear, redraw
    sys.stdout.flush()
