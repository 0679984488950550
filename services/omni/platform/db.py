"""Database engines for SQLite (embedded default) and PostgreSQL, and transient-error retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, DateTime, Table, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.types import TypeDecorator

from omni.platform.errors import Conflict, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL: serialization failure, deadlock. Both mean "try the transaction again".
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use omni.platform.clock.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine; for SQLite with WAL, a busy timeout and `BEGIN IMMEDIATE` for writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that later upgrades
        # its read lock can fail with "database is locked" instead of waiting its turn.
        mode = "IMMEDIATE" if conn.get_execution_options().get("omni_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write (IMMEDIATE on SQLite); commits on success."""
    async with engine.connect() as conn:
        await conn.execution_options(omni_write=True)
        async with conn.begin():
            yield conn


async def insert_ignoring_conflicts(
    conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], key: str
) -> set[Any]:
    """Inserts rows whose primary key is free; returns the `key` values actually inserted.

    On PostgreSQL a row being inserted by a concurrent transaction makes this wait for it,
    so a key is owned by exactly one transaction.
    """
    if not rows:
        return set()
    # Rows as executemany parameters: one cached statement whatever the row count (SQLAlchemy
    # still sends them as one multi-row INSERT ... RETURNING).
    stmt = claiming(table, conn.dialect.name, key)
    return set((await conn.execute(stmt, rows)).scalars())


def claiming(table: Table, dialect: str, key: str = "key") -> ReturningInsert[Any]:
    """INSERT rows whose `key` is free, RETURNING the keys inserted (see insert_ignoring_conflicts);
    PostgreSQL's or SQLite's ON CONFLICT DO NOTHING."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(table).on_conflict_do_nothing().returning(table.c[key])


def one_of(dialect: Dialect, column: ColumnElement[Any], values: list[Any]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL `column = ANY(:array)`: one parameter, where an IN list
    costs a bound parameter per value to render, and a statement to prepare per list length."""
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def is_retryable(exc: BaseException) -> bool:
    """A deadlock, serialization failure or SQLite lock timeout: the transaction may be rerun."""
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
    return False


def is_connection_error(exc: BaseException) -> bool:
    """The database could not be reached (as opposed to refusing a statement)."""
    if isinstance(exc, OSError | PoolTimeout):  # refused, reset, no route; pool exhausted
        return True
    return isinstance(exc, DBAPIError) and (
        bool(exc.connection_invalidated) or isinstance(exc.orig, OSError)
    )


async def with_retries(
    work: Callable[[], Awaitable[T]], *, attempts: int = 5, first_delay: float = 0.005
) -> T:
    """Runs one transaction, rerunning it on deadlock/serialization/lock errors."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except DBAPIError as exc:
            if is_connection_error(exc):
                raise Unavailable("the database is unreachable; retry shortly") from exc
            if not is_retryable(exc):
                raise
            if attempt == attempts:
                raise Conflict("too many concurrent changes to the same stock; retry") from exc
            log.info("retrying transaction after %s (attempt %d)", type(exc.orig).__name__, attempt)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
