"""Background loops that stop when asked, even when a library swallows the cancellation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


def reraise_if_cancelled(exc: BaseException) -> None:
    """Call from `except Exception` in a loop: some libraries (nats-py, drivers) turn a
    cancellation into another error, and a loop that carried on would never stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError() from exc


async def repeat(name: str, step: Callable[[], Awaitable[object]], interval: float) -> None:
    """Runs `step` every `interval` seconds until cancelled; a failing step is logged."""
    while True:
        try:
            await step()
        except Exception as exc:
            reraise_if_cancelled(exc)
            log.warning("%s failed (will retry): %s", name, exc)
        await asyncio.sleep(interval)


class TaskGroup:
    """Named background tasks of one service, stopped together with a time limit."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[Any]] = []

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self, grace: float = 5.0) -> None:
        for task in self._tasks:
            task.cancel()
        if not self._tasks:
            return
        _, stuck = await asyncio.wait(self._tasks, timeout=grace)
        for task in stuck:
            log.error("background task %s did not stop within %.0fs", task.get_name(), grace)
        self._tasks = []
