"""Idempotency keys: the same key and request answer the first result; another request fails."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.platform.clock import utcnow
from omni.platform.driver import insert_ignoring_conflicts
from omni.platform.errors import AlreadyExists


def request_hash(command: Any) -> str:
    """A fingerprint of a command's content, its idempotency key left out.

    Commands are frozen dataclasses of strings, numbers and tuples, so repr is canonical.
    """
    content = [getattr(command, f.name) for f in fields(command) if f.name != "idempotency_key"]
    blob = repr((type(command).__name__, content))
    return hashlib.sha256(blob.encode()).hexdigest()


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
