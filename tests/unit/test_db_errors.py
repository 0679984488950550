"""Database errors are classified by kind — an outage, a race to rerun, or a bug — as they
reach us through SQLAlchemy's own translation of the driver's errors, never by message."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_dbapi,
)
from sqlalchemy.exc import DBAPIError, StatementError

from omni.platform.db import is_connection_error, is_retryable

DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)


def _translated(error: Exception) -> BaseException:
    """`error` as SQLAlchemy raises it from the pool or a statement: the adapter's DB-API
    form (the driver error as its cause), wrapped in sqlalchemy.exc (DBAPIError or, for an
    error the adapter does not translate, StatementError)."""
    try:
        try:
            AsyncAdapt_asyncpg_connection._handle_exception_no_connection(DBAPI, error)
        except Exception as dbapi_error:
            raise DBAPIError.instance("SELECT 1", None, dbapi_error, DBAPI.Error) from dbapi_error
    except (DBAPIError, StatementError) as wrapped:
        return wrapped
    raise AssertionError("not raised")


OUTAGES = [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("terminating connection due to crash of another"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    asyncpg.exceptions.ConnectionFailureError("connection failure"),
    asyncpg.exceptions.DiskFullError("could not extend file"),
    ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"),
]
NOT_OUTAGES = [
    asyncpg.exceptions.UniqueViolationError("duplicate key value"),
    asyncpg.exceptions.CheckViolationError("violates check constraint"),
    asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence for encoding"),
    asyncpg.exceptions.UndefinedTableError("relation does not exist"),
    asyncpg.exceptions.SerializationError("could not serialize access"),
    asyncpg.exceptions.ClientConfigurationError("invalid connection option"),
    # On a connection still open, the driver's own errors are misuse: a bug, not an outage.
    asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress"),
    asyncpg.exceptions.InternalClientError("got result for unknown protocol state 3"),
    ValueError("not a driver error at all"),
]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
def test_an_outage_is_a_connection_error_raw_or_translated(error: Exception) -> None:
    assert is_connection_error(error)
    assert is_connection_error(_translated(error))
    assert not is_retryable(_translated(error))


@pytest.mark.parametrize("error", NOT_OUTAGES, ids=lambda e: type(e).__name__)
def test_a_refused_statement_or_a_bug_is_not_an_outage(error: Exception) -> None:
    assert not is_connection_error(error)
    assert not is_connection_error(_translated(error))


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.InterfaceError("connection is closed"),
        asyncpg.exceptions.InternalClientError("cannot switch to state 15"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_driver_error_on_a_connection_found_closed_is_an_outage(error: Exception) -> None:
    """SQLAlchemy (and omni's fast path) mark the error when the connection turned out closed."""
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(DBAPI, error)
    except Exception as dbapi_error:
        lost = DBAPIError.instance(
            "SELECT 1", None, dbapi_error, DBAPI.Error, connection_invalidated=True
        )
        still_open = DBAPIError.instance(
            "SELECT 1", None, dbapi_error, DBAPI.Error, connection_invalidated=False
        )
    assert is_connection_error(lost)
    assert not is_connection_error(still_open)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.OutdatedSchemaCacheError("cached statement plan is invalid"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_lost_race_is_retryable(error: Exception) -> None:
    assert is_retryable(_translated(error))
    assert not is_connection_error(_translated(error))


def _sqlite_error(tmp_path: Path, make: str) -> sqlite3.Error:
    """A real error from SQLite, as SQLAlchemy wraps it."""
    try:
        if make == "busy":
            holder = sqlite3.connect(tmp_path / "db", isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            sqlite3.connect(tmp_path / "db", timeout=0).execute("BEGIN IMMEDIATE")
        elif make == "cannot open":
            sqlite3.connect(tmp_path / "no such folder" / "db")
        else:
            db = sqlite3.connect(":memory:")
            db.execute("CREATE TABLE t (n INTEGER CHECK (n >= 0))")
            db.execute("INSERT INTO t VALUES (-1)")
    except sqlite3.Error as error:
        return error
    raise AssertionError("SQLite raised nothing")


def test_sqlite_errors_are_classified_by_result_code(tmp_path: Path) -> None:
    def wrapped(make: str) -> DBAPIError:
        return DBAPIError.instance("SQL", None, _sqlite_error(tmp_path, make), sqlite3.Error)

    assert is_retryable(wrapped("busy")) and not is_connection_error(wrapped("busy"))
    assert is_connection_error(wrapped("cannot open"))
    assert not is_connection_error(wrapped("check")) and not is_retryable(wrapped("check"))
