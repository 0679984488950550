"""The CPU one reservation costs inside a batch transaction, measured in this process.

Throughput on this 2-core VM moves by a tenth from one run to the next; the process CPU time
of the same batches moves by a few percent, so it shows what a change to the transaction
saves."""

from __future__ import annotations

import itertools
import random
import time

from omni.platform import migrations
from omni.platform.db import create_engine
from omni.stock.app import MIGRATIONS
from omni.stock.domain.commands import CreateLocation, ReceiveStock, Reserve
from omni.stock.domain.model import Location, LocationKind
from omni.stock.service_layer import handlers
from omni.stock.service_layer.allocation import reserve_many
from omni.stock.service_layer.unit_of_work import UnitOfWork

SKUS = 1000


async def transaction_cpu_us(database_url: str, batch: int = 32, rounds: int = 300) -> float:
    """Process CPU per reservation of `rounds` batches of `batch` one-unit reservations, spread
    over many SKUs (events are saved, not relayed); the database must be new."""
    await migrations.upgrade(database_url, MIGRATIONS)
    engine = create_engine(database_url)
    try:
        uow = UnitOfWork(engine)
        location = Location("L1", "L1", LocationKind.WAREHOUSE, ships=True)
        await handlers.create_location(uow, CreateLocation(location))
        skus = [f"SKU-{i:04d}" for i in range(SKUS)]
        for sku in skus:
            await handlers.receive_stock(uow, ReceiveStock(sku, "L1", 10**6))
        keys = itertools.count()
        known: set[str] = set()

        def requests() -> list[Reserve]:
            return [
                Reserve(f"tx-{next(keys)}", "", ((random.choice(skus), "L1", 1),))
                for _ in range(batch)
            ]

        for _ in range(rounds // 10):  # warm-up: compiled statements, prepared on the server
            await reserve_many(uow, requests(), known)
        started = time.process_time()
        for _ in range(rounds):
            await reserve_many(uow, requests(), known)
        return (time.process_time() - started) / (rounds * batch) * 1e6
    finally:
        await engine.dispose()
