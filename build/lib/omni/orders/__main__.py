"""`omni-orders [serve|migrate]` (or `python -m omni.orders`): runs or migrates the orders
service."""

from __future__ import annotations

from omni.orders.app import OrdersApp
from omni.orders.settings import OrdersSettings
from omni.platform.service import main as run


def main() -> None:
    run("omni-orders", OrdersSettings, OrdersApp)


if __name__ == "__main__":
    main()
