"""One write transaction per handler: its events saved to the outbox in it, relayed after it."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform import auth, origin, outbox
from omni.platform.db import with_retries, write_transaction
from omni.platform.outbox import OutboxMessage


class RecordsEvents(Protocol):
    """A service's transaction object: whatever it offers, plus the events it gathered."""

    @property
    def events(self) -> list[Any]: ...


Tx = TypeVar("Tx", bound=RecordsEvents)
Reader = TypeVar("Reader")
T = TypeVar("T")
P = ParamSpec("P")


class UnitOfWork(Generic[Tx, Reader]):
    """Opens transactions on a service's database and tells the relay after each commit.

    `begin` wraps a connection in the service's transaction object (repositories, events);
    `to_outbox` turns each gathered event into a message; `read` makes a read-only view.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        outbox_table: Table,
        *,
        begin: Callable[[AsyncConnection], Tx],
        read: Callable[[AsyncConnection], Reader],
        to_outbox: Callable[[Any], OutboxMessage],
        on_commit: Callable[[Sequence[OutboxMessage]], None] = lambda _messages: None,
    ) -> None:
        self.engine = engine
        self._outbox = outbox_table
        self._begin = begin
        self._read = read
        self._to_outbox = to_outbox
        self._on_commit = on_commit

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Commits the body's changes and their events together, or neither."""
        origins: dict[int, origin.Origin] = {}
        scope = outbox.ORIGINS.set(origins)
        try:
            async with write_transaction(self.engine) as conn:
                tx = self._begin(conn)
                yield tx
                # A STORE-scoped call by a store-bound caller that checked no store is a bug:
                # it must not commit (omni.platform.auth).
                auth.confirm_store_checked()
                here = origin.current()
                messages = [
                    _stamped(self._to_outbox(e), origins.get(id(e), here)) for e in tx.events
                ]
                await outbox.save(conn, self._outbox, messages)
        finally:
            outbox.ORIGINS.reset(scope)
        if messages:
            self._on_commit(messages)  # committed: they may be published now

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Reader]:
        """A read-only view (no locks taken)."""
        async with self.engine.connect() as conn:
            yield self._read(conn)
            await conn.rollback()


def in_transaction(
    handler: Callable[Concatenate[Tx, P], Awaitable[T]],
) -> Callable[Concatenate[UnitOfWork[Tx, Any], P], Awaitable[T]]:
    """A handler written against one transaction — load, decide through the domain, save —
    run as the platform runs every one: called with the service's unit of work, in a
    transaction of it (events to the outbox), rerun from the start on a deadlock or a lost
    race (omni.platform.db.with_retries)."""

    @functools.wraps(handler)
    async def run(uow: UnitOfWork[Tx, Any], /, *args: P.args, **kwargs: P.kwargs) -> T:
        async def attempt() -> T:
            async with uow.transaction() as tx:
                return await handler(tx, *args, **kwargs)

        return await with_retries(attempt)

    return run


def _stamped(message: OutboxMessage, source: origin.Origin) -> OutboxMessage:
    # Not dataclasses.replace: this runs for every event, and replace costs twice as much.
    return OutboxMessage(
        message.event_id, message.subject, message.payload, source.request_id, source.traceparent
    )
