"""The platform's once-per-key and once-per-event steps (omni.platform.idempotency,
omni.platform.consumer), on a real SQLite database: what every handler relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from omni.platform.consumer import first_deliveries, once_per_event
from omni.platform.db import create_engine, write_transaction
from omni.platform.errors import AlreadyExists, FailedPrecondition, OmniError
from omni.platform.idempotency import KeyedBatch, Keys, Saved, once, request_hash
from omni.platform.tables import platform_tables

metadata = MetaData()
_, processed, idempotency_keys = platform_tables(metadata)
keys = Keys(idempotency_keys)


@dataclass(frozen=True, slots=True)
class Add:
    amount: int
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class Heard:
    event_id: str


@dataclass
class Tx:
    conn: AsyncConnection
    total: list[int]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'once.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def _again(tx: Tx, cmd: Add, saved: Saved) -> int:
    return int(saved["total"])


@once(keys, "add", saved=lambda total: {"total": total}, replay=_again)
async def add(tx: Tx, cmd: Add) -> int:
    tx.total.append(cmd.amount)
    return sum(tx.total)


async def test_a_key_runs_its_handler_once_and_answers_its_first_result_after(
    engine: AsyncEngine,
) -> None:
    total: list[int] = []
    for _ in range(3):
        async with write_transaction(engine) as conn:
            assert await add(Tx(conn, total), Add(5, "k1")) == 5
    assert total == [5]
    async with write_transaction(engine) as conn:
        assert await add(Tx(conn, total), Add(2, "k2")) == 7
        with pytest.raises(AlreadyExists, match="'k1' was already used for a different request"):
            await add(Tx(conn, total), Add(6, "k1"))


async def test_without_a_key_the_handler_simply_runs(engine: AsyncEngine) -> None:
    total: list[int] = []
    async with write_transaction(engine) as conn:
        for _ in range(2):
            await add(Tx(conn, total), Add(1))
        assert await conn.scalar(select(func.count()).select_from(idempotency_keys)) == 0
    assert total == [1, 1]


async def test_a_claim_rolled_back_with_its_effect_leaves_the_key_free(
    engine: AsyncEngine,
) -> None:
    total: list[int] = []
    with pytest.raises(RuntimeError):
        async with write_transaction(engine) as conn:
            await add(Tx(conn, total), Add(5, "k1"))
            raise RuntimeError("the commit never happens")
    async with write_transaction(engine) as conn:
        assert await add(Tx(conn, []), Add(5, "k1")) == 5  # carried out, not replayed


async def _batch(conn: AsyncConnection, requests: list[Add]) -> list[int | OmniError]:
    """A batch handler as services write one: refusals, claims, decisions, replays."""
    batch: KeyedBatch[int] = KeyedBatch(
        keys, "add", [(r.idempotency_key, request_hash(r)) for r in requests]
    )
    for i, r in enumerate(requests):
        if r.amount == 0:
            batch.refuse(i, FailedPrecondition("nothing to add"))
    await batch.claim(conn, lambda i: {"total": requests[i].amount})
    for i in batch.todo:
        if requests[i].amount < 0:
            batch.decided(i, FailedPrecondition("cannot take away"), {"refused": True})
        else:
            batch.decided(i, requests[i].amount)
    for i, saved in batch.replays.items():
        refused = saved.get("refused")
        batch.replayed(i, FailedPrecondition("cannot take away") if refused else saved["total"])
    return await batch.finish(conn)


async def test_a_batch_carries_out_each_key_once_and_answers_every_request(
    engine: AsyncEngine,
) -> None:
    async with write_transaction(engine) as conn:
        first = await _batch(conn, [Add(1, "a"), Add(2, "b"), Add(1, "a"), Add(0, "z")])
    assert first[:3] == [1, 2, 1]  # "a" repeated within the batch shares its first outcome
    assert isinstance(first[3], FailedPrecondition)  # refused before its key was claimed
    async with write_transaction(engine) as conn:
        again = await _batch(conn, [Add(-1, "c"), Add(2, "b"), Add(3, "a"), Add(4, "z")])
    assert isinstance(again[0], FailedPrecondition)
    assert again[1] == 2  # replayed
    assert isinstance(again[2], AlreadyExists)  # "a" with another request
    assert again[3] == 4  # "z" was never claimed, so it is new now
    async with write_transaction(engine) as conn:
        [refused] = await _batch(conn, [Add(-1, "c")])
    assert isinstance(refused, FailedPrecondition)  # a refusal is kept like a result


async def test_an_event_is_applied_once_however_often_it_is_delivered(
    engine: AsyncEngine,
) -> None:
    applied: list[str] = []

    @once_per_event(processed, "tests")
    async def hear(tx: Tx, event: Heard) -> None:
        applied.append(event.event_id)

    for event_id in ("e1", "e2", "e1"):
        async with write_transaction(engine) as conn:
            await hear(Tx(conn, []), Heard(event_id))
    assert applied == ["e1", "e2"]
    async with write_transaction(engine) as conn:
        firsts = await first_deliveries(conn, processed, "tests", ["e2", "e3", "e3", "e4"])
    assert firsts == [False, True, False, True]
