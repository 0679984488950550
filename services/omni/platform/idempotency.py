"""Idempotency keys: the same key and request answer the first result; another request fails.

Handlers do not claim keys themselves. A handler of one request is decorated with `once`; a
handler of many requests in one transaction (a batch, omni.platform.batcher) works through a
`KeyedBatch`. Both claim each key in the handler's transaction, so a claim commits with the
effect it guards, or neither does."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.platform.clock import utcnow
from omni.platform.db import HasConnection
from omni.platform.driver import insert_ignoring_conflicts
from omni.platform.errors import AlreadyExists, OmniError
from omni.platform.fingerprints import request_hash
from omni.platform.origin import of_batch_item
from omni.platform.outbox import attribute

Saved = dict[str, Any]  # a request's result as kept with its key (JSON)


@dataclass(frozen=True, slots=True)
class Claim:
    """`stored` is None when this transaction now owns the key and must store a result."""

    key: str
    stored: dict[str, Any] | None
    first: int  # the index of the first request in the batch with this key


def scoped(operation: str, key: str) -> str:
    return f"{operation}:{key}"


class Keys:
    """A service's idempotency_keys table (see omni.platform.tables)."""

    def __init__(self, table: Table) -> None:
        self._table = table
        # Built once (see omni.stock.adapters.repository): SQLAlchemy reuses their compiled form.
        self._store = (
            update(table).where(table.c.key == bindparam("k")).values(result=bindparam("result"))
        )
        self._taken = select(table.c.key, table.c.request_hash, table.c.result).where(
            table.c.key.in_(bindparam("keys", expanding=True))
        )

    async def claim(
        self,
        conn: AsyncConnection,
        operation: str,
        requests: list[tuple[str, str]],
        presumed: list[dict[str, Any]] | None = None,
    ) -> list[Claim | AlreadyExists]:
        """Claims each (key, request hash) in this transaction; one answer per request.

        `presumed`: each request's result should it succeed, saved with its claim, so that
        `store` is needed only for other outcomes (one statement fewer in the usual case).
        """
        first_index: dict[str, int] = {}
        for i, (key, _) in enumerate(requests):
            first_index.setdefault(scoped(operation, key), i)
        now = utcnow()
        # Claimed in key order, like level locks: two batches never wait on each other in a cycle.
        rows = [
            {
                "key": k,
                "operation": operation,
                "request_hash": requests[i][1],
                "result": json.dumps(presumed[i]) if presumed else None,
                "created_at": now,
            }
            for k, i in sorted(first_index.items())
        ]
        owned = await insert_ignoring_conflicts(conn, self._table, rows, "key")  # none: empty
        taken = [k for k in first_index if k not in owned]
        stored: dict[str, tuple[str, str]] = {}
        if taken:
            for r in await conn.execute(self._taken, {"keys": taken}):
                stored[r.key] = (r.request_hash, r.result)
        answers: list[Claim | AlreadyExists] = []
        for key, request in requests:
            full = scoped(operation, key)
            first = first_index[full]
            expected = stored[full][0] if full in stored else requests[first][1]
            if request != expected:
                answers.append(
                    AlreadyExists(
                        f"idempotency key {key!r} was already used for a different request; "
                        "use a new key for a new request"
                    )
                )
            elif full in stored:
                answers.append(Claim(full, json.loads(stored[full][1]), first))
            else:
                answers.append(Claim(full, None, first))
        return answers

    async def store(self, conn: AsyncConnection, results: dict[str, dict[str, Any]]) -> None:
        """Saves the result of each owned key, in the same transaction as its effect."""
        if not results:
            return
        rows = [{"k": k, "result": json.dumps(v)} for k, v in results.items()]
        await conn.execute(self._store, rows)


Tx = TypeVar("Tx", bound=HasConnection)
C = TypeVar("C")
T = TypeVar("T")
P = ParamSpec("P")
Handler = Callable[Concatenate[Tx, C, P], Awaitable[T]]


def once(
    keys: Keys,
    operation: str,
    *,
    saved: Callable[[T], Saved],
    replay: Callable[[Tx, C, Saved], Awaitable[T]],
    key: Callable[[C], str] = lambda command: command.idempotency_key,  # type: ignore[attr-defined]
    fingerprint: Callable[[C], str] = request_hash,
) -> Callable[[Handler[Tx, C, P, T]], Handler[Tx, C, P, T]]:
    """A handler of one command `(tx, command, ...)` carried out once per idempotency key.

    The key is claimed first, in the handler's transaction. A key seen before with the same
    request answers `replay(tx, command, saved)` (what `saved` kept of the first result)
    without running the handler; with another request it is ALREADY_EXISTS. A command with no
    key (`key` gives "") simply runs."""

    def decorate(handler: Handler[Tx, C, P, T]) -> Handler[Tx, C, P, T]:
        @functools.wraps(handler)
        async def run(tx: Tx, command: C, /, *args: P.args, **kwargs: P.kwargs) -> T:
            name = key(command)
            if not name:
                return await handler(tx, command, *args, **kwargs)
            [claim] = await keys.claim(tx.conn, operation, [(name, fingerprint(command))])
            if isinstance(claim, OmniError):
                raise claim
            if claim.stored is not None:
                return await replay(tx, command, claim.stored)
            result = await handler(tx, command, *args, **kwargs)
            await keys.store(tx.conn, {claim.key: saved(result)})
            return result

        return run

    return decorate


R = TypeVar("R")


class KeyedBatch(Generic[R]):
    """The requests of one batch, run in one transaction, each carried out once per key.

    In the handler's transaction: `refuse` what is malformed, then `claim` the rest. `todo`
    are then the requests to carry out (the first with each new key), each given its outcome
    with `decided`; `replays` are the requests done before, given theirs with `replayed`.
    `finish` stores what must be kept and answers every request in order, a key repeated
    within the batch sharing its first request's outcome. The events raised for request i
    are owed to its caller, not to the batch (`decided(..., raised=)` or `serving`)."""

    def __init__(self, keys: Keys, operation: str, requests: Sequence[tuple[str, str]]) -> None:
        """`requests`: each request's (idempotency key, fingerprint)."""
        self._keys = keys
        self._operation = operation
        self._requests = requests
        self._outcomes: list[R | OmniError | None] = [None] * len(requests)
        self._first: dict[int, int] = {}  # a repeated key's request -> its first one
        self._claimed: dict[int, str] = {}  # request -> its scoped key, for those carried out
        self._results: dict[str, Saved] = {}
        self.todo: list[int] = []
        self.replays: dict[int, Saved] = {}

    def refuse(self, i: int, error: OmniError) -> None:
        """Request i is refused before its key is claimed: nothing of it is kept."""
        self._outcomes[i] = error

    async def claim(
        self, conn: AsyncConnection, presumed: Callable[[int], Saved] | None = None
    ) -> None:
        """Claims the key of every request not refused. `presumed(i)`: request i's result
        should it succeed, saved with its claim, so that only other outcomes need storing."""
        left = [i for i, outcome in enumerate(self._outcomes) if outcome is None]
        answers = await self._keys.claim(
            conn,
            self._operation,
            [self._requests[i] for i in left],
            [presumed(i) for i in left] if presumed else None,
        )
        for i, answer in zip(left, answers, strict=True):
            if isinstance(answer, OmniError):
                self._outcomes[i] = answer
            elif answer.stored is not None:
                self.replays[i] = answer.stored
            elif left[answer.first] == i:
                self.todo.append(i)
                self._claimed[i] = answer.key
            else:
                self._first[i] = left[answer.first]

    def decided(
        self,
        i: int,
        outcome: R | OmniError,
        keep: Saved | None = None,
        *,
        raised: Sequence[object] = (),
    ) -> None:
        """Request i's outcome; `keep`: its result to store (None: the presumed one);
        `raised`: the events it caused, owed to its caller (see `serving`)."""
        self._outcomes[i] = outcome
        if keep is not None:
            self._results[self._claimed[i]] = keep
        attribute(raised, of_batch_item(i))

    def replayed(self, i: int, outcome: R | OmniError) -> None:
        self._outcomes[i] = outcome

    @staticmethod
    @contextmanager
    def serving(i: int, events: list[Any]) -> Iterator[None]:
        """While request i is carried out: the events added to `events` are owed to its
        caller, not to the batch (omni.platform.origin.of_batch_item)."""
        start = len(events)
        try:
            yield
        finally:
            attribute(events[start:], of_batch_item(i))

    async def finish(self, conn: AsyncConnection) -> list[R | OmniError]:
        await self._keys.store(conn, self._results)
        answers: list[R | OmniError] = []
        for i, outcome in enumerate(self._outcomes):
            if i in self._first:
                outcome = self._outcomes[self._first[i]]
            assert outcome is not None, f"request {i} was never decided"
            answers.append(outcome)
        return answers
