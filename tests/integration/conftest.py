"""Fixtures for integration tests: the platform's tables on a real database, and more than one
stock replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform.db import create_engine
from omni.platform.natsserver import EmbeddedNats
from omni.platform.tables import platform_tables
from tests.conftest import NewDatabase
from tests.helpers.running import Orders, Stock, running_orders, running_stock
from tests.helpers.stock import add_location

PLATFORM = MetaData()
OUTBOX, PROCESSED, _ = platform_tables(PLATFORM)
# One counter, for tests that count how often an effect happened.
TALLY = Table(
    "tally",
    PLATFORM,
    Column("name", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)


@pytest.fixture
async def platform_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database (SQLite, then PostgreSQL) with the platform's tables and the tally at 0."""
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(PLATFORM.create_all)
        await conn.execute(TALLY.insert().values(name="seen", count=0))
    yield engine
    await engine.dispose()


@pytest.fixture
async def two_replicas(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[list[Stock]]:
    """Two stock replicas on one database and one NATS, both connected to NATS."""
    async with (
        running_stock(database_url, nats_server) as a,
        running_stock(database_url, nats_server, migrate_on_start=False) as b,
    ):
        for replica in (a, b):
            await replica.app.nats.ready.wait()
        yield [a, b]


@dataclass
class Cluster:
    """Two stock replicas on one database, two orders replicas on another, one NATS; the
    warehouses WH-N (region north) and WH-S (south)."""

    stock: list[Stock]
    orders: list[Orders]


@pytest.fixture
async def cluster(
    database_url: str, new_database: NewDatabase, nats_server: EmbeddedNats
) -> AsyncIterator[Cluster]:
    orders_url = await new_database("orders")
    async with (
        running_stock(database_url, nats_server) as s1,
        running_stock(database_url, nats_server, migrate_on_start=False) as s2,
        running_orders(orders_url, nats_server) as o1,
        running_orders(orders_url, nats_server, migrate_on_start=False) as o2,
    ):
        for service in (s1.app, s2.app, o1.app, o2.app):
            await service.nats.ready.wait()
        await add_location(s1.stub, "WH-N", region="north")
        await add_location(s1.stub, "WH-S", region="south")
        yield Cluster([s1, s2], [o1, o2])
