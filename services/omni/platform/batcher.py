"""Groups concurrent requests into shared transactions: one commit (and one set of row locks)
serves many callers, which is what keeps a hot SKU fast. While one batch runs, the next gathers
whatever arrives meanwhile; and when calls come in a crowd, a batch may wait a few
milliseconds (`linger`) while more keep arriving. Under load the statements and round trips of a
transaction are what cost CPU, so fewer, larger batches serve more calls per second (and with
shorter waits). On a quiet service nothing waits; right after a crowd, a call that then comes
alone waits one look (a fifth of `linger`) at most."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from omni.platform import origin, tracing
from omni.platform.db import is_connection_error
from omni.platform.errors import OmniError

log = logging.getLogger(__name__)

C = TypeVar("C")
R = TypeVar("R")

RunBatch = Callable[[list[C]], Awaitable[Sequence[R | Exception]]]


class Batcher(Generic[C, R]):
    """`submit` returns the item's own result, or raises the item's own error."""

    def __init__(
        self,
        run: RunBatch[C, R],
        *,
        max_batch: int = 64,
        workers: int = 2,
        linger: float = 0.0,
        crowd: int = 2,
    ) -> None:
        """`linger` applies once `crowd` calls gathered (in this batch, or while the last ran):
        the sign that transactions, not callers, limit throughput."""
        self._run = run
        self._max_batch = max_batch
        self._workers = workers
        self._linger = linger
        self._crowd = crowd
        self._last_size = 0
        self._queue: asyncio.Queue[tuple[C, asyncio.Future[R], origin.Origin]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, item: C) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future, origin.current()))
        # A caller that gives up cancels its future: it stops waiting, but its item still runs
        # (the batch skips setting a result on a done future).
        return await future

    async def _gather(self) -> list[tuple[C, asyncio.Future[R], origin.Origin]]:
        """The next batch: what waits now, and, when calls come in a crowd (in this batch or the
        last), what keeps arriving during up to `linger` seconds (looked at in fifths)."""
        batch = [await self._queue.get()]
        self._take(batch)
        if self._linger <= 0 or max(len(batch), self._last_size) < self._crowd:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._linger
        while len(batch) < self._max_batch and loop.time() < deadline:
            await asyncio.sleep(self._linger / 5)
            if self._queue.empty():
                break  # nobody came meanwhile: do not keep the others waiting
            self._take(batch)
        return batch

    def _take(self, batch: list[tuple[C, asyncio.Future[R], origin.Origin]]) -> None:
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _work(self) -> None:
        while True:
            batch = await self._gather()
            self._last_size = len(batch)
            # The batch knows where each item came from (omni.platform.origin.of_batch_item).
            origin.BATCH.set([source for _, _, source in batch])
            try:
                with tracing.batch([source.traceparent for _, _, source in batch]):
                    results = await self._run([item for item, _, _ in batch])
            except Exception as exc:
                results = await self._each_alone(batch, exc)
            for (_, future, _), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _each_alone(
        self, batch: list[tuple[C, asyncio.Future[R], origin.Origin]], exc: Exception
    ) -> Sequence[R | Exception]:
        """The results of a batch that failed as a whole. An outage or a conflict fails every
        item alike; anything else (a bug) may be one item's doing, so each item runs again
        alone and only its own error reaches it: one bad message must not fail, and in time
        set aside as dead letters, the hundreds batched with it."""
        if len(batch) == 1 or isinstance(exc, OmniError) or is_connection_error(exc):
            return [exc] * len(batch)
        log.warning("a batch of %d failed (%r); running each alone", len(batch), exc)
        results: list[R | Exception] = []
        for item, _, source in batch:
            origin.BATCH.set([source])
            try:
                results.extend(await self._run([item]))
            except Exception as alone:
                results.append(alone)
        return results
