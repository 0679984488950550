"""The connection every command makes: to the stock service, with the caller's token, over
TLS when a CA to trust is given (--ca-file, or OMNI_CA_FILE)."""

from __future__ import annotations

import argparse
from pathlib import Path

import grpc

from omni.cli.sheets import CliError
from omni.platform import client


def stock_channel(args: argparse.Namespace) -> grpc.aio.Channel:
    ca_file = getattr(args, "ca_file", "")
    roots = None
    if ca_file:
        try:
            roots = Path(ca_file).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read the CA file {ca_file}: {exc.strerror}") from exc
    return client.channel(args.stock, args.token, root_certificates=roots)
