"""Schema migrations (Alembic), applied by `omni-<service> migrate` and on start if configured."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from omni.platform.db import create_engine, write_transaction

# Any constant works; every service's replicas agree on it, so only one migrates at a time.
_MIGRATION_LOCK_ID = 7_346_101


def config(script_location: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    return cfg


async def upgrade(url: str, script_location: str, revision: str = "head") -> None:
    """Brings the database at `url` to `revision`; safe when replicas start together."""
    engine = create_engine(url, pool_size=1, statement_timeout=None)  # may take long
    try:
        async with write_transaction(engine) as conn:
            await conn.run_sync(_upgrade, config(script_location), revision)
    finally:
        await engine.dispose()


def _upgrade(conn: Connection, cfg: Config, revision: str) -> None:
    if conn.dialect.name == "postgresql":
        # Held until this transaction ends: other replicas wait, then find nothing to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def run_env(context: EnvironmentContext | Any, metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online, on a given connection)."""
    conn = context.config.attributes.get("connection")
    if conn is None:
        raise RuntimeError("run migrations through omni.platform.migrations.upgrade()")
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
