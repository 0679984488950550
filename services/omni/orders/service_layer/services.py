"""What the entrypoints call: the unit of work, and placing and deciding batched per process."""

from __future__ import annotations

from omni.orders.domain.commands import PlaceOrder, StockDecision
from omni.orders.domain.order import Order
from omni.orders.service_layer import placing
from omni.orders.service_layer.unit_of_work import UnitOfWork
from omni.platform.batcher import Batcher


class OrdersServices:
    def __init__(self, uow: UnitOfWork, *, max_batch: int = 256, linger: float = 0.0) -> None:
        self.uow = uow
        self._placing: Batcher[placing.Placement, Order] = Batcher(
            lambda batch: placing.place_orders(uow, batch),
            max_batch=max_batch,
            workers=1,
            linger=linger,
        )
        self._deciding: Batcher[StockDecision, None] = Batcher(
            lambda batch: placing.apply_decisions(uow, batch),
            max_batch=max_batch,
            workers=1,
            linger=linger,
        )

    def start(self) -> None:
        self._placing.start()
        self._deciding.start()

    async def stop(self) -> None:
        await self._placing.stop()
        await self._deciding.stop()

    async def place(self, cmd: PlaceOrder, order_id: str) -> Order:
        """The new order (with `order_id`), or the one placed before with the same key."""
        return await self._placing.submit((cmd, order_id))

    async def decide(self, decision: StockDecision) -> None:
        await self._deciding.submit(decision)
