"""`omni-pickup [serve|migrate]` (or `python -m omni.pickup`): runs or migrates the pickup
service."""

from __future__ import annotations

from omni.pickup.app import PickupApp
from omni.pickup.settings import PickupSettings
from omni.platform.service import main as run


def main() -> None:
    run("omni-pickup", PickupSettings, PickupApp)


if __name__ == "__main__":
    main()
