"""`omni-stock [serve|migrate]` (or `python -m omni.stock`): runs or migrates the stock service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import uvloop

from omni.stock.app import StockApp, migrate
from omni.stock.settings import StockSettings


async def serve(settings: StockSettings) -> None:
    app = StockApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logging.getLogger(__name__).info("stopping: finishing calls in flight")
    await app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="omni-stock", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    settings = StockSettings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvloop.run(serve(settings) if args.command == "serve" else migrate(settings))


if __name__ == "__main__":
    main()
