"""`omni`: the command line for quick work against the services (see `omni --help`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import argcomplete
import grpc

from omni.cli import (
    locations,
    orders,
    pickups,
    presale,
    purchasing,
    scan,
    stock,
    transfers,
    watch,
)
from omni.cli.sheets import CliError

DEFAULT_STOCK = os.environ.get("OMNI_STOCK_TARGET", "127.0.0.1:50051")
DEFAULT_ORDERS = os.environ.get("OMNI_ORDERS_TARGET", "127.0.0.1:50052")
DEFAULT_PICKUP = os.environ.get("OMNI_PICKUP_TARGET", "127.0.0.1:50053")
SHELLS = ("bash", "zsh", "fish")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="omni", description=__doc__)
    parser.add_argument(
        "--stock",
        default=DEFAULT_STOCK,
        metavar="HOST:PORT",
        help="the stock service (env OMNI_STOCK_TARGET; default %(default)s)",
    )
    parser.add_argument(
        "--orders",
        default=DEFAULT_ORDERS,
        metavar="HOST:PORT",
        help="the orders service (env OMNI_ORDERS_TARGET; default %(default)s)",
    )
    parser.add_argument(
        "--pickup",
        default=DEFAULT_PICKUP,
        metavar="HOST:PORT",
        help="the pickup service (env OMNI_PICKUP_TARGET; default %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("OMNI_TOKEN", ""),
        help="your bearer token (env OMNI_TOKEN; `make run` prints its dev tokens)",
    )
    parser.add_argument(
        "--ca-file",
        default=os.environ.get("OMNI_CA_FILE", ""),
        metavar="PEM",
        help="speak TLS, trusting this CA (env OMNI_CA_FILE; default: plain text, as make run)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    scan.add_parser(commands)
    watch.add_parser(commands)
    stock.add_parser(commands)
    purchasing.add_parser(commands)
    presale.add_parser(commands)
    transfers.add_parser(commands)
    locations.add_parser(commands)
    orders.add_parser(commands)
    pickups.add_parser(commands)
    completion = commands.add_parser(
        "completion",
        help='shell completion: eval "$(omni completion bash)" (in ~/.bashrc; zsh, fish)',
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(run=_completion)
    argcomplete.autocomplete(parser)  # answers the shell's completion request, if this is one
    args = parser.parse_args(argv)
    try:
        asyncio.run(args.run(args))
    except KeyboardInterrupt:
        sys.exit(130)
    except grpc.aio.AioRpcError as exc:
        sys.exit(f"omni: {exc.code().name.lower().replace('_', ' ')}: {exc.details()}")
    except CliError as exc:
        sys.exit(f"omni: {exc}")


async def _completion(args: argparse.Namespace) -> None:
    """The script that makes `shell` complete omni's commands, options and choices."""
    print(argcomplete.shellcode(["omni"], shell=args.shell), end="")
