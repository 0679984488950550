"""What a scanner typed: a registered barcode stands for its SKU; anything else is a SKU."""

from __future__ import annotations

import grpc

from omni.console.backends import Backends, Refused
from omni.stock.v1 import stock_pb2


async def sku_for(backends: Backends, typed: str, token: str) -> str:
    """The SKU a scanned barcode (or a typed SKU) names."""
    code = typed.strip()
    try:
        reply = await backends.call(
            "stock",
            backends.stock.LookupBarcodes,
            stock_pb2.LookupBarcodesRequest(codes=[code]),
            token,
        )
    except Refused as exc:
        if exc.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        return code  # not a barcode at all: the service the SKU goes to says what is wrong
    return next((b.sku for b in reply.barcodes if b.code == code), code)
