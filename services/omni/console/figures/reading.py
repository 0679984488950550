"""The dashboard's figures and an order's timeline, read from the read model."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.console.figures.tables import (
    levels,
    network,
    orders,
    pickups,
    returned_units,
    sales_by_minute,
    sales_by_product,
    timeline,
)

HOUR_MINUTES = 60
OPEN_TASKS = ("PLACED", "PICKING", "READY", "LOCKED")
WAITING_FOR_CUSTOMER = ("READY", "LOCKED")  # locked: ready, but a manager must unlock it


@dataclass
class Sales:
    """Confirmed orders and their value per minute of the last hour, by channel."""

    minutes: list[datetime]
    orders: dict[str, list[int]] = field(default_factory=dict)
    amount: dict[str, list[int]] = field(default_factory=dict)

    @property
    def order_count(self) -> int:
        return sum(map(sum, self.orders.values()))

    @property
    def gmv(self) -> int:
        return sum(map(sum, self.amount.values()))


@dataclass(frozen=True)
class Product:
    sku: str
    units: int
    amount: int


@dataclass(frozen=True)
class StorePickups:
    store: str
    to_prepare: int  # placed or being picked
    ready: int  # waiting for the customer
    expiring: int  # ready, and the hold ends within the hour


@dataclass
class Pickups:
    stores: list[StorePickups]
    ready_median_s: float | None  # order placed → task READY, over the last day
    ready_p90_s: float | None
    ready_count: int


@dataclass
class Returns:
    by_reason: list[tuple[str, int]]
    # units by (channel bought through, channel returned through)
    matrix: dict[tuple[str, str], int]
    bought: list[str]
    via: list[str]


async def sales_last_hour(engine: AsyncEngine, currency: str, now: datetime) -> Sales:
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=HOUR_MINUTES - 1)
    minutes = [start + timedelta(minutes=i) for i in range(HOUR_MINUTES)]
    sales = Sales(minutes)
    query = select(
        sales_by_minute.c.minute,
        sales_by_minute.c.channel,
        sales_by_minute.c.orders,
        sales_by_minute.c.amount,
    ).where(sales_by_minute.c.minute >= start, sales_by_minute.c.currency == currency)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    for minute, channel, count, amount in rows:
        i = int((minute - start).total_seconds() // 60)
        if 0 <= i < HOUR_MINUTES:
            sales.orders.setdefault(channel, [0] * HOUR_MINUTES)[i] += count
            sales.amount.setdefault(channel, [0] * HOUR_MINUTES)[i] += amount
    return sales


async def leaderboard(
    engine: AsyncEngine, day: date, currency: str, limit: int = 10
) -> list[Product]:
    """Products by revenue (then units) on `day`, every channel together."""
    t = sales_by_product.c
    query = (
        select(t.sku, t.units, t.amount)
        .where(t.day == day, t.currency == currency)
        .order_by(t.amount.desc(), t.units.desc(), t.sku)
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [Product(*row) for row in (await conn.execute(query)).all()]


async def pickup_figures(engine: AsyncEngine, now: datetime) -> Pickups:
    t = pickups.c
    open_tasks = select(t.store_id, t.status, t.hold_until).where(t.status.in_(OPEN_TASKS))
    placed = func.coalesce(orders.c.placed_at, t.created_at)
    ready = (
        select(placed, t.ready_at)
        .select_from(pickups.outerjoin(orders, orders.c.order_id == t.order_id))
        .where(t.ready_at >= now - timedelta(days=1))
        .order_by(t.ready_at.desc())
        .limit(20_000)  # the latest, on a day busier than that
    )
    async with engine.connect() as conn:
        tasks = (await conn.execute(open_tasks)).all()
        times = (await conn.execute(ready)).all()
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    soon = now + timedelta(hours=1)
    for store, status, hold_until in tasks:
        waiting = status in WAITING_FOR_CUSTOMER
        counts[store][1 if waiting else 0] += 1
        if waiting and hold_until is not None and now <= hold_until <= soon:
            counts[store][2] += 1
    waits = sorted(max(0.0, (at - since).total_seconds()) for since, at in times)
    return Pickups(
        stores=[StorePickups(s, *counts[s]) for s in sorted(counts)],
        ready_median_s=statistics.median(waits) if waits else None,
        ready_p90_s=_percentile(waits, 0.9),
        ready_count=len(waits),
    )


def _percentile(ordered: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


async def returns_figures(engine: AsyncEngine, since: datetime) -> Returns:
    t = returned_units.c
    recent = t.received_at >= since
    units = func.sum(t.units)
    by_reason = select(t.reason, units).where(recent).group_by(t.reason).order_by(units.desc())
    bought = func.coalesce(orders.c.channel, "UNKNOWN")
    matrix = (
        select(bought, t.returned_via, units)
        .select_from(returned_units.outerjoin(orders, orders.c.order_id == t.order_id))
        .where(recent)
        .group_by(bought, t.returned_via)
    )
    async with engine.connect() as conn:
        reasons = [(r, int(n)) for r, n in (await conn.execute(by_reason)).all()]
        cells = {(b, v): int(n) for b, v, n in (await conn.execute(matrix)).all()}
    return Returns(
        by_reason=reasons,
        matrix=cells,
        bought=sorted({b for b, _ in cells}),
        via=sorted({v for _, v in cells}),
    )


async def low_stock(engine: AsyncEngine, threshold: int, limit: int = 20) -> list[tuple[str, int]]:
    """SKUs whose availability across the network is at or below `threshold`, lowest first."""
    t = network.c
    query = (
        select(t.sku, t.available)
        .where(t.available <= threshold)
        .order_by(t.available, t.sku)
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [(sku, int(n)) for sku, n in (await conn.execute(query)).all()]


async def out_of_stock(
    engine: AsyncEngine, stores: list[str], limit: int = 20
) -> list[tuple[str, list[str]]]:
    """Of these (pickup) stores, those with SKUs at zero availability: (store, SKUs)."""
    if not stores:
        return []
    query = (
        select(levels.c.location_id, levels.c.sku)
        .where(levels.c.location_id.in_(stores), levels.c.available <= 0)
        .order_by(levels.c.location_id, levels.c.sku)
        .limit(500)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    out: defaultdict[str, list[str]] = defaultdict(list)
    for store, sku in rows:
        out[store].append(sku)
    return list(out.items())[:limit]


async def timeline_of(engine: AsyncEngine, order_id: str) -> list[tuple[datetime, str]]:
    """What happened to the order, oldest first."""
    t = timeline.c
    query = select(t.at, t.step, t.words).where(t.order_id == order_id).limit(500)
    async with engine.connect() as conn:
        rows = list((await conn.execute(query)).all())
    # Steps of one moment (placed and confirmed in one call) in the order they happen.
    rows.sort(key=lambda row: (row.at, _STEPS.get(row.step, len(_STEPS))))
    return [(at, said) for at, _, said in rows]


_STEPS = {
    step: rank
    for rank, step in enumerate(
        [
            "placed",
            "confirmed",
            "rejected",
            "picking",
            "ready",
            "shortage",
            "line_rejected",
            "reallocated",
        ]
    )
}
