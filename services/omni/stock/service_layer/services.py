"""What the entrypoints call: the unit of work, and reservations batched per process."""

from __future__ import annotations

from omni.platform.batcher import Batcher
from omni.stock.domain.model import Reservation
from omni.stock.service_layer.allocation import Request, reserve_many
from omni.stock.service_layer.unit_of_work import UnitOfWork

# When lingering is turned on (OMNI_STOCK_BATCH_LINGER_SECONDS; off by default, see
# StockSettings): Reserve is quick, so it lingers only once many gather. (From 2, it cost
# 4 callers 8% and 16 callers 15% of their calls per second.)
RESERVE_CROWD = 8


class StockServices:
    def __init__(
        self, uow: UnitOfWork, *, max_batch: int = 256, workers: int = 1, linger: float = 0.0
    ) -> None:
        self.uow = uow
        known_locations: set[str] = set()
        self._batcher: Batcher[Request, Reservation] = Batcher(
            lambda reqs: reserve_many(uow, reqs, known_locations),
            max_batch=max_batch,
            workers=workers,
            linger=linger,
            crowd=RESERVE_CROWD,
        )

    def start(self) -> None:
        self._batcher.start()

    async def stop(self) -> None:
        await self._batcher.stop()

    async def reserve(self, request: Request) -> Reservation:
        """Reserve or Allocate; raises the request's own error (e.g. InsufficientStock)."""
        return await self._batcher.submit(request)
