"""`omni-console [serve|migrate|dead-letters]` (or `python -m omni.console`): serves the store
web app, brings its database (the dashboard's read model) to the current schema and exits, or
lists and replays the events its read model set aside."""

from __future__ import annotations

import argparse

import uvloop

from omni.console.app import ConsoleServer
from omni.console.figures.model import console_link, migrate
from omni.console.settings import ConsoleSettings
from omni.platform import deadletters, logs
from omni.platform.settings import read_database_url, read_settings


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="omni-console", description="Serves the console, or migrates its database."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve (the default)")
    commands.add_parser("migrate", help="migrate the database, then exit")
    deadletters.add_command(commands)
    args = parser.parse_args()
    if args.command == "migrate":  # only the database URL: the job holds no other secret
        logs.configure_from_environment("console")
        uvloop.run(migrate(read_database_url("omni-console", ConsoleSettings)))
        return
    settings = read_settings("omni-console", ConsoleSettings)
    logs.configure("console", settings.log_level, settings.log_format)
    if args.command == "dead-letters":
        # Declares no stream: the services own DEAD_LETTERS (and its replicas).
        link = console_link(settings)
        raise SystemExit(uvloop.run(deadletters.command(link, args)))
    ConsoleServer(settings).run()


if __name__ == "__main__":
    main()
