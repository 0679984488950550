"""Database engines for SQLite (embedded default) and PostgreSQL, and transient-error retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
from sqlalchemy import ColumnElement, DateTime, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from omni.platform.errors import Conflict, OmniError, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
Params = Mapping[str, Any]
CONNECT_TIMEOUT_SECONDS = 5.0
STATEMENT_TIMEOUT_SECONDS = 30.0


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


def create_engine(
    url: str, *, pool_size: int = 10, statement_timeout: float | None = STATEMENT_TIMEOUT_SECONDS
) -> AsyncEngine:
    """An async engine; for SQLite with WAL, a busy timeout and `BEGIN IMMEDIATE` for writes.
    On PostgreSQL a statement that takes longer than `statement_timeout` (None: no limit, for
    migrations) is an outage, as is a connection not made within 5 s."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A database that stops answering (a partition) would otherwise hold a connection,
        # and a consumer's message, until TCP gives up: hours.
        timeouts = {"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": statement_timeout}
        return create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, connect_args=timeouts
        )
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


def one_of(dialect: Dialect, column: ColumnElement[Any], values: list[Any]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL `column = ANY(:array)`: one parameter, where an IN list
    costs a bound parameter per value to render, and a statement to prepare per list length."""
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


# How a database error is taken, by kind (never by its message): the database is away
# (unreachable, starting up, shutting down, out of connections or disk: answer UNAVAILABLE,
# retry later), or the transaction lost a race (rerun it now).
_OUTAGE_SQLSTATE_PREFIXES = (
    "08",  # connection exception
    "53",  # insufficient resources: too many connections, disk full, out of memory
    "57P",  # operator intervention: shutting down, crash recovery, cannot connect now
    "58",  # system error: I/O
)
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
# SQLite result codes (the primary code is the low byte of the extended one).
_SQLITE_RETRYABLE = {5, 6}  # BUSY, LOCKED: another writer holds the lock
_SQLITE_OUTAGE = {8, 10, 13, 14}  # READONLY, IOERR, FULL, CANTOPEN


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps: SQLAlchemy's `orig`, else the error it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__


def _sqlstate(exc: BaseException) -> str:
    found = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return found if isinstance(found, str) else ""


def _sqlite_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_retryable(exc: BaseException) -> bool:
    """A deadlock, serialization failure, SQLite lock timeout or stale statement cache: the
    transaction may be rerun at once."""
    for cause in _causes(exc):
        if _sqlstate(cause) in _RETRYABLE_SQLSTATES or _sqlite_code(cause) in _SQLITE_RETRYABLE:
            return True
        if isinstance(cause, asyncpg.exceptions.OutdatedSchemaCacheError):
            return True
    return False


def is_connection_error(exc: BaseException) -> bool:
    """The database is away — unreachable, starting up or shutting down, out of connections —
    or the connection broke under us: as opposed to the database refusing a statement."""
    for cause in _causes(exc):
        if isinstance(cause, OSError | PoolTimeout | TimeoutError):  # refused, reset, no route
            return True
        # The driver's own errors (asyncpg's InterfaceError, InternalClientError) carry no
        # SQLSTATE: they mean an outage only when the connection turned out closed, which
        # SQLAlchemy (and omni's fast path) record as `connection_invalidated`. Otherwise they
        # are a bug, e.g. two statements at once on one connection.
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if _sqlstate(cause).startswith(_OUTAGE_SQLSTATE_PREFIXES):
            return True
        if _sqlite_code(cause) in _SQLITE_OUTAGE:
            return True
    return False


DATABASE_AWAY = "the database is unavailable (unreachable, restarting or overloaded); retry shortly"


async def with_retries(
    work: Callable[[], Awaitable[T]], *, attempts: int = 5, first_delay: float = 0.005
) -> T:
    """Runs one transaction, rerunning it on deadlock/serialization/lock errors; an outage is
    Unavailable. (Not rerun on an outage: a commit cut off may have landed.)"""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as exc:
            if isinstance(exc, OmniError):
                raise
            if is_connection_error(exc):
                raise Unavailable(DATABASE_AWAY) from exc
            if not is_retryable(exc):
                raise
            if attempt == attempts:
                raise Conflict("too many concurrent changes to the same stock; retry") from exc
            log.info("retrying transaction after %s (attempt %d)", type(exc).__name__, attempt)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


class HasConnection(Protocol):
    """A handler's transaction: whatever else it offers, the connection it runs on."""

    @property
    def conn(self) -> AsyncConnection: ...
