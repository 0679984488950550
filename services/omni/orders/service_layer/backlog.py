"""Admission: how many orders wait for stock's decision, and refusing new ones past a limit.

Under more load than stock can decide, orders accepted anyway would only wait longer, each
answering PENDING after its 5 s with nobody able to say when it will be decided. Past the
limit a new order is refused at once, retryable, with how long to wait (google.rpc.RetryInfo):
the time stock needs, at the pace it decides now, to bring the backlog back under the limit.
"""

from __future__ import annotations

import asyncio
import logging
import time

from omni.orders.service_layer.unit_of_work import UnitOfWork
from omni.platform.errors import Unavailable
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)

MIN_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


class Backlog:
    """The orders waiting for stock's decision, as every replica sees them: counted in the
    database every `every` seconds, plus those this replica placed since."""

    def __init__(self, uow: UnitOfWork, limit: int, every: float = 0.5) -> None:
        self._uow = uow
        self.limit = limit
        self._every = every
        self.waiting = 0
        self._placed = 0  # by this replica since the last count
        self._decided_per_second = 0.0  # stock's pace, smoothed

    def admit(self) -> None:
        """Refuses a new order while the backlog is at its limit; else counts it in."""
        if self.waiting + self._placed >= self.limit:
            raise Unavailable(
                f"too many orders wait for stock ({self.waiting}); try again shortly",
                retry_after=self.retry_after(),
            )
        self._placed += 1

    def retry_after(self) -> float:
        excess = self.waiting + self._placed - self.limit * 0.8
        pace = max(self._decided_per_second, 1.0)
        return round(min(MAX_RETRY_SECONDS, max(MIN_RETRY_SECONDS, excess / pace)), 1)

    async def count(self) -> None:
        async with self._uow.reader() as repo:
            waiting = await repo.pending()
        placed, self._placed = self._placed, 0
        decided = max(self.waiting + placed - waiting, 0)
        self._decided_per_second = 0.7 * self._decided_per_second + 0.3 * decided / self._every
        self.waiting = waiting

    async def run(self) -> None:
        """Counts for ever; a count that fails keeps the last one (logged once a minute)."""
        said = 0.0
        while True:
            try:
                await self.count()
            except Exception as exc:
                reraise_if_cancelled(exc)
                if time.monotonic() - said > 60:
                    log.warning("cannot count the orders waiting for stock: %s", exc)
                    said = time.monotonic()
            await asyncio.sleep(self._every)
