"""`omni-returns [serve|migrate]` (or `python -m omni.returns`): runs or migrates the returns
service."""

from __future__ import annotations

from omni.platform.service import main as run
from omni.returns.app import ReturnsApp
from omni.returns.settings import ReturnsSettings


def main() -> None:
    run("omni-returns", ReturnsSettings, ReturnsApp)


if __name__ == "__main__":
    main()
