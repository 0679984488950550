"""`omni-stock [serve|migrate]` (or `python -m omni.stock`): runs or migrates the stock service."""

from __future__ import annotations

import argparse

import uvloop
from pydantic import ValidationError

from omni.stock.app import configure_logging, migrate, serve
from omni.stock.settings import StockSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="omni-stock", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    try:
        settings = StockSettings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(
            f"omni-stock: bad setting ({problems}); see README, Configuration"
        ) from None
    configure_logging(settings)
    uvloop.run(serve(settings) if args.command == "serve" else migrate(settings))


if __name__ == "__main__":
    main()
