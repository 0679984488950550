"""The direct asyncpg path: a hot statement, compiled by SQLAlchemy once, run straight on
asyncpg inside the SQLAlchemy transaction it belongs to.

Why: per statement, SQLAlchemy's execution layer (a greenlet switch, an execution context, a
result, a dict per row) costs more CPU than asyncpg and the statement together; the hot paths
(reservations, claims of handled events and idempotency keys, the outbox) run a few statements
many thousand times a second (`make bench`).

What it leans on, beyond SQLAlchemy's public API (the pinned SQLAlchemy, see pyproject.toml):
the asyncpg adapter's `_transaction` and `_start_transaction` (to begin the transaction the
adapter would begin lazily), its `_handle_exception` (to raise errors as SQLAlchemy would, so
retries and status mapping see them), and the compiler's `_bind_processors` (to convert
parameters as SQLAlchemy would). `self_check()` runs at every service's start and stops it at
once, with a message, if an upgrade took one of them away; a test checks that rows written here
commit and roll back with their transaction.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import ReturningInsert

from omni.platform import tracing
from omni.platform.db import Params, is_connection_error

# What the adapter must have (attributes, or slots set in its __init__), and the compiler.
ADAPTER_NEEDS = ("_transaction", "_start_transaction", "_handle_exception")
COMPILER_NEEDS = ("_bind_processors",)


def self_check() -> None:
    """Raises SystemExit naming what is missing if SQLAlchemy no longer has what this module
    uses (after an upgrade): better a service that will not start than one that fails on its
    first reservation."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as adapter
    from sqlalchemy.sql.compiler import SQLCompiler

    slots = {name for cls in adapter.__mro__ for name in getattr(cls, "__slots__", ())}
    missing = [
        f"{adapter.__name__}.{name}"
        for name in ADAPTER_NEEDS
        if not hasattr(adapter, name) and name not in slots
    ]
    missing += [f"SQLCompiler.{name}" for name in COMPILER_NEEDS if not hasattr(SQLCompiler, name)]
    begin = getattr(adapter, "_start_transaction", None)
    if begin is not None and not inspect.iscoroutinefunction(begin):
        missing.append(f"{adapter.__name__}._start_transaction as a coroutine")
    if missing:
        raise SystemExit(
            f"SQLAlchemy {sqlalchemy.__version__} has no {', '.join(missing)}, which the direct "
            "asyncpg path uses (omni/platform/driver.py): pin the SQLAlchemy version that has "
            "them (pyproject.toml), or update that module"
        )


async def insert_ignoring_conflicts(
    conn: AsyncConnection, table: Table, rows: Sequence[Params], key: str
) -> set[Any]:
    """Inserts rows whose primary key is free; returns the `key` values actually inserted.

    On PostgreSQL a row being inserted by a concurrent transaction makes this wait for it,
    so a key is owned by exactly one transaction.
    """
    if not rows:
        return set()
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        # One parameter per column, an array of every row's value: one statement to prepare
        # whatever the row count, run straight on asyncpg.
        arrays = {c: [row[c] for row in rows] for c in columns}
        return {r[key] for r in await run(conn, _claiming_arrays(table, columns, key), arrays)}
    # Rows as executemany parameters: one cached statement whatever the row count (SQLAlchemy
    # still sends them as one multi-row INSERT ... RETURNING).
    stmt = _claiming_rows(table, key)
    return set((await conn.execute(stmt, rows)).scalars())


@functools.cache
def _claiming_rows(table: Table, key: str) -> ReturningInsert[Any]:
    return sqlite_insert(table).on_conflict_do_nothing().returning(table.c[key])


@functools.cache
def _claiming_arrays(table: Table, columns: tuple[str, ...], key: str) -> ReturningInsert[Any]:
    source = select(
        *(func.unnest(bindparam(c, type_=ARRAY(table.c[c].type))).label(c) for c in columns)
    )
    insert = pg_insert(table).from_select(list(columns), source)
    return insert.on_conflict_do_nothing().returning(table.c[key])


@dataclass(frozen=True, slots=True)
class _Compiled:
    statement: Executable  # held, so that its id (the cache key) is never reused
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of $1, $2, ...
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)

    def args(self, params: Params) -> list[Any]:
        values = [params[name] for name in self.names]
        for i, process in self.processors:
            values[i] = process(values[i])
        return values


_COMPILED: dict[tuple[int, tuple[str, ...], bool], _Compiled] = {}


async def run(
    conn: AsyncConnection, statement: Executable, params: Params | Sequence[Params]
) -> Sequence[Params]:
    """Runs a prebuilt statement in `conn`'s transaction: with one parameter set it returns
    the rows (as mappings), with a list of them (executemany) nothing.

    On PostgreSQL the statement, compiled by SQLAlchemy once, goes straight to asyncpg: per
    statement, SQLAlchemy's execution layer (a greenlet switch, an execution context, a result,
    a dict per row) costs more CPU than asyncpg and the statement together. Meant for the few
    statements a hot path repeats, each built once (a module constant, or cached): its
    compiled form is kept for good. Errors are SQLAlchemy's, as from `conn.execute`.
    """
    if conn.dialect.name != "postgresql":
        result = await conn.execute(statement, params)
        if not isinstance(params, Mapping) or not result.returns_rows:
            return []
        return [dict(row) for row in result.mappings()]
    if isinstance(params, Mapping):
        one = _compiled(conn.dialect, statement, params, many=False)
        return await _on_driver(
            conn, one.sql, lambda driver: driver.fetch(one.sql, *one.args(params))
        )
    if not params:
        return []
    many = _compiled(conn.dialect, statement, params[0], many=True)
    args = [many.args(p) for p in params]
    await _on_driver(conn, many.sql, lambda driver: driver.executemany(many.sql, args))
    return []


async def _on_driver(conn: AsyncConnection, sql: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
    """`call(asyncpg connection)` in `conn`'s transaction; any error (beginning included) is
    raised as SQLAlchemy's, and a broken connection is invalidated, never reused."""
    raw = await conn.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    try:
        # Private state of the pinned SQLAlchemy's adapter; a test checks these rows roll
        # back. The adapter begins lazily, at its first statement: begin it here.
        if adapted._transaction is None:
            await adapted._start_transaction()
        with tracing.statement("postgresql", sql):
            return await call(raw.driver_connection)
    except Exception as exc:
        raise await _as_sqlalchemy_error(conn, adapted, sql, exc) from exc


def _compiled(dialect: Dialect, statement: Executable, first: Params, many: bool) -> _Compiled:
    key = (id(statement), tuple(first), many)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _compile(dialect, statement, first, many)
    return found


def _compile(dialect: Dialect, statement: Executable, first: Params, many: bool) -> _Compiled:
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=dialect, column_keys=list(first), for_executemany=many
    )
    names = tuple(compiled.positiontup or ())
    processors = compiled._bind_processors  # what SQLAlchemy applies itself
    processing = tuple(
        (i, processors[n]) for i, n in enumerate(names) if processors.get(n) is not None
    )
    return _Compiled(statement, str(compiled), names, processing)


async def _as_sqlalchemy_error(
    conn: AsyncConnection, adapted: Any, sql: str, exc: Exception
) -> Exception:
    """The error `conn.execute` would have raised (so retries and status mapping see it)."""
    try:
        adapted._handle_exception(exc)  # raises the DB-API form of `exc`
    except Exception as dbapi_error:
        exc = dbapi_error
    dialect = conn.dialect
    closed = dialect.is_disconnect(exc, adapted, None)  # type: ignore[arg-type]  # it is closed
    lost = closed or is_connection_error(exc)
    if lost:
        with contextlib.suppress(Exception):  # it is broken already; the error says so
            await conn.invalidate()
    error = DBAPIError.instance(
        sql, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    )
    return error
