"""`omni-stock [serve|migrate]` (or `python -m omni.stock`): runs or migrates the stock service."""

from __future__ import annotations

from omni.platform.service import main as run
from omni.stock.app import StockApp
from omni.stock.settings import StockSettings


def main() -> None:
    run("omni-stock", StockSettings, StockApp)


if __name__ == "__main__":
    main()
