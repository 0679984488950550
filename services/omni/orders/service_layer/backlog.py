"""Admission: how many orders wait for stock's decision, and refusing new ones past a limit.

Under more load than stock can decide, orders accepted anyway would only wait longer, each
answering PENDING after its 5 s with nobody able to say when it will be decided. Past the
limit a new order is refused at once, retryable, with how long to wait (google.rpc.RetryInfo):
about the time stock needs, at the pace it decides now, to bring the backlog back under the
limit. A client retrying an order already placed (its idempotency key known) is never
refused: its order is in the system and is answered as it is.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import timedelta

from omni.orders.service_layer.unit_of_work import UnitOfWork
from omni.platform.clock import utcnow
from omni.platform.errors import Unavailable
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)

MIN_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
# Orders PENDING longer than this are not a backlog but decisions gone astray (they are
# reconciled elsewhere): counting them would keep new orders out for ever.
BACKLOG_WINDOW = timedelta(minutes=10)


class Backlog:
    """The orders waiting for stock's decision, as every replica sees them: counted in the
    database every `every` seconds, plus those this replica let in since."""

    def __init__(self, uow: UnitOfWork, limit: int, every: float = 0.5) -> None:
        self._uow = uow
        self.limit = limit
        self._every = every
        self.waiting = 0
        self._admitted = 0  # by this replica since the count began
        self._decided_per_second = 0.0  # stock's pace, seen when the backlog shrinks

    async def admit(self, key: str) -> None:
        """Refuses a new order while the backlog is at its limit; else counts it in."""
        if self.waiting + self._admitted >= self.limit and not await self._known(key):
            raise Unavailable(
                f"too many orders wait for stock ({self.waiting}); try again shortly",
                retry_after=self.retry_after(),
            )
        self._admitted += 1

    async def _known(self, key: str) -> bool:
        async with self._uow.reader() as repo:
            return await repo.placed_with_key(key)

    def retry_after(self) -> float:
        """Seconds until the backlog is likely back under the limit, spread a little so that
        the clients refused together do not all come back at once."""
        excess = self.waiting + self._admitted - self.limit * 0.8
        wait = excess / max(self._decided_per_second, 1.0)
        wait *= random.uniform(0.8, 1.2)
        return round(min(MAX_RETRY_SECONDS, max(MIN_RETRY_SECONDS, wait)), 1)

    async def count(self) -> None:
        admitted_before, started = self._admitted, time.monotonic()
        async with self._uow.reader() as repo:
            waiting = await repo.pending(since=utcnow() - BACKLOG_WINDOW)
        # Admitted meanwhile stay counted; those before are in the database's count now.
        self._admitted -= admitted_before
        elapsed = max(time.monotonic() - started + self._every, 1e-3)
        if waiting < self.waiting:  # shrinking: stock decides at least this fast
            pace = (self.waiting - waiting) / elapsed
            self._decided_per_second = 0.7 * self._decided_per_second + 0.3 * pace
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
