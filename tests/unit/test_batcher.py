"""The batcher: concurrent requests share runs, and each caller gets its own outcome."""

from __future__ import annotations

import asyncio

import pytest

from omni.platform.batcher import Batcher, RunBatch
from omni.platform.errors import Unavailable


async def test_concurrent_requests_share_batches_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []

    async def run(items: list[int]) -> list[int | Exception]:
        batches.append(items)
        await asyncio.sleep(0.01)
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(run, max_batch=8, workers=1)
    batcher.start()
    try:
        results = await asyncio.gather(
            *(batcher.submit(i) for i in range(20)), return_exceptions=True
        )
    finally:
        await batcher.stop()
    assert [r if isinstance(r, int) else str(r) for r in results] == [
        i * 10 if i % 2 == 0 else f"odd {i}" for i in range(20)
    ]
    assert len(batches) < 20 and max(len(b) for b in batches) <= 8


async def test_a_failed_run_fails_every_caller_in_it_and_the_batcher_goes_on() -> None:
    calls = 0

    async def run(items: list[int]) -> list[int | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")
        return list(items)

    batcher: Batcher[int, int] = Batcher(run, workers=1)
    batcher.start()
    try:
        with pytest.raises(RuntimeError, match="database down"):
            await batcher.submit(1)
        assert await batcher.submit(2) == 2
    finally:
        await batcher.stop()


async def test_one_item_failing_a_whole_batch_on_a_bug_fails_only_itself() -> None:
    """A batch fails as a whole on an item it cannot take (a bug): each runs again alone."""
    runs: list[list[int]] = []

    async def run(items: list[int]) -> list[int | Exception]:
        runs.append(items)
        if 13 in items:
            raise KeyError("item 13 trips a bug")
        return [i * 10 for i in items]

    results = await _submitted_together(run, [11, 12, 13, 14])
    assert results[:2] + results[3:] == [110, 120, 140]
    assert isinstance(results[2], KeyError)
    assert runs == [[11, 12, 13, 14], [11], [12], [13], [14]]


async def test_a_batch_failing_for_an_outage_fails_every_item_without_rerunning() -> None:
    runs = 0

    async def run(items: list[int]) -> list[int | Exception]:
        nonlocal runs
        runs += 1
        raise Unavailable("the database is unavailable")

    results = await _submitted_together(run, [1, 2, 3])
    assert all(isinstance(r, Unavailable) for r in results) and runs == 1


async def _submitted_together(run: RunBatch[int, int], items: list[int]) -> list[object]:
    """Submits every item before the batcher starts, so they make one batch."""
    batcher: Batcher[int, int] = Batcher(run, max_batch=len(items), workers=1)
    submitted = [asyncio.ensure_future(batcher.submit(i)) for i in items]
    await asyncio.sleep(0)  # each is queued
    batcher.start()
    try:
        return list(await asyncio.gather(*submitted, return_exceptions=True))
    finally:
        await batcher.stop()


async def test_a_caller_that_gives_up_stops_waiting_but_its_item_still_runs() -> None:
    ran: list[int] = []
    release = asyncio.Event()

    async def run(items: list[int]) -> list[int | Exception]:
        await release.wait()
        ran.extend(items)
        return list(items)

    batcher: Batcher[int, int] = Batcher(run, workers=1)
    batcher.start()
    try:
        impatient = asyncio.create_task(batcher.submit(1))
        patient = asyncio.create_task(batcher.submit(2))
        await asyncio.sleep(0.01)
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        release.set()
        assert await patient == 2
        assert await batcher.submit(3) == 3
    finally:
        await batcher.stop()
    assert ran == [1, 2, 3]  # an item already taken is not undone by its caller leaving


CROWD = 4


async def _trickle(batcher: Batcher[int, int], together: int) -> None:
    """`together` requests at once, then two more, one every 10 ms."""
    first = [asyncio.create_task(batcher.submit(i)) for i in range(together)]
    later = []
    for i in (100, 101):
        await asyncio.sleep(0.01)
        later.append(asyncio.create_task(batcher.submit(i)))
    await asyncio.gather(*first, *later)


@pytest.mark.parametrize(
    ("together", "linger", "expected"),
    [
        (CROWD, 0.0, [list(range(CROWD)), [100], [101]]),  # no linger: each goes as it comes
        (CROWD, 1.0, [[*range(CROWD), 100, 101]]),  # a crowd waits for those still coming
        (CROWD - 1, 1.0, [list(range(CROWD - 1)), [100], [101]]),  # fewer do not wait
    ],
)
async def test_a_crowd_of_requests_waits_for_those_still_coming_when_told_to_linger(
    together: int, linger: float, expected: list[list[int]]
) -> None:
    batches: list[list[int]] = []

    async def run(items: list[int]) -> list[int | Exception]:
        batches.append(items)
        return list(items)

    batcher: Batcher[int, int] = Batcher(run, workers=1, linger=linger, crowd=CROWD)
    batcher.start()
    try:
        await _trickle(batcher, together)
    finally:
        await batcher.stop()
    assert batches == expected


async def test_a_lone_request_never_lingers() -> None:
    async def run(items: list[int]) -> list[int | Exception]:
        return list(items)

    batcher: Batcher[int, int] = Batcher(run, workers=1, linger=60.0)
    batcher.start()
    try:
        for i in range(3):  # one at a time: each is its own batch, and none waits the minute
            assert await asyncio.wait_for(batcher.submit(i), 5) == i
    finally:
        await batcher.stop()
