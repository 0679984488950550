"""The connection every command makes: to the stock, orders or pickup service, with the
caller's token, over TLS when a CA to trust is given (--ca-file, or OMNI_CA_FILE)."""

from __future__ import annotations

import argparse
from pathlib import Path

import grpc

from omni.cli.sheets import CliError
from omni.platform import client


def stock_channel(args: argparse.Namespace) -> grpc.aio.Channel:
    return channel_to(args, args.stock)


def orders_channel(args: argparse.Namespace) -> grpc.aio.Channel:
    return channel_to(args, args.orders)


def pickup_channel(args: argparse.Namespace) -> grpc.aio.Channel:
    return channel_to(args, args.pickup)


def channel_to(args: argparse.Namespace, target: str) -> grpc.aio.Channel:
    ca_file = getattr(args, "ca_file", "")
    roots = None
    if ca_file:
        try:
            roots = Path(ca_file).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read the CA file {ca_file}: {exc.strerror}") from exc
    return client.channel(target, args.token, root_certificates=roots)
