"""`omni-console` (or `python -m omni.console`): serves the store web app."""

from __future__ import annotations

from omni.console.app import ConsoleServer
from omni.console.settings import ConsoleSettings
from omni.platform import logs


def main() -> None:
    settings = ConsoleSettings()
    logs.configure("console", settings.log_level, settings.log_format)
    ConsoleServer(settings).run()


if __name__ == "__main__":
    main()
