"""The ledger on PostgreSQL, partitioned by month: an existing ledger keeps every movement
through the migration, new movements land in their month, the coming months are made ahead,
and a second movement of the same version of a level is still refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from omni.platform import migrations
from omni.platform.db import create_engine, write_transaction
from omni.stock.adapters import ledger
from omni.stock.app import MIGRATIONS
from tests.conftest import create_postgres_database

pytestmark = pytest.mark.postgres

MOVEMENT = (
    "INSERT INTO movements (sku, location_id, kind, on_hand_delta, reserved_delta, "
    "damaged_delta, safety_stock_delta, reference, actor, version, occurred_at) "
    "VALUES (:sku, 'L1', 'RECEIPT', 1, 0, 0, 0, '', '', :version, :at)"
)


async def partitions(url: str) -> dict[str, int]:
    """Each partition of movements, with the rows in it."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(ledger.existing_partitions)
            return {
                name: (await conn.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
                for name in sorted(names)
            }
    finally:
        await engine.dispose()


async def test_the_ledger_is_split_by_month_and_keeps_every_movement(
    postgres_admin_url: str,
) -> None:
    url = await create_postgres_database(postgres_admin_url)
    await migrations.upgrade(url, MIGRATIONS, "0014")
    engine = create_engine(url)
    try:
        async with write_transaction(engine) as conn:  # a ledger from before, since August
            before = [(8, 15, 0), (8, 31, 23), (10, 1, 0)]  # (month, day, hour) of 2026
            for version, (month, day, hour) in enumerate(before, start=1):
                at = datetime(2026, month, day, hour, tzinfo=UTC)
                await conn.execute(text(MOVEMENT), {"sku": "A", "version": version, "at": at})
        await migrations.upgrade(url, MIGRATIONS)

        found = await partitions(url)
        now = datetime.now(UTC)
        last = ledger.furthest_ahead(ledger.month_of(now))
        months = ledger.months(ledger.month_of(datetime(2026, 8, 1, tzinfo=UTC)), last)
        assert set(found) == {ledger.partition_name(m) for m in months} | {"movements_default"}
        assert found["movements_2026_08"] == 2 and found["movements_2026_10"] == 1
        assert found["movements_2026_09"] == 0 and found["movements_default"] == 0

        # A new movement (every stock test on PostgreSQL writes them through the service):
        # the sequence goes on, and the row is in this month's partition.
        async with write_transaction(engine) as conn:
            await conn.execute(text(MOVEMENT), {"sku": "A", "version": 4, "at": now})
            ids = (await conn.execute(text("SELECT id FROM movements ORDER BY id"))).scalars()
            assert list(ids) == [1, 2, 3, 4]
        assert (await partitions(url))[ledger.partition_name(ledger.month_of(now))] == 1

        # One movement per version of a level, within its month.
        with pytest.raises(IntegrityError):
            async with write_transaction(engine) as conn:
                await conn.execute(text(MOVEMENT), {"sku": "A", "version": 4, "at": now})

        # When the last month made comes, the next ones are made, once.
        later = datetime(last.year, last.month, 2, tzinfo=UTC)
        async with write_transaction(engine) as conn:
            made = await conn.run_sync(ledger.ensure_partitions, later)
            again = await conn.run_sync(ledger.ensure_partitions, later)
        coming = ledger.months(ledger.next_month(last), ledger.furthest_ahead(last))
        assert made == [ledger.partition_name(m) for m in coming] and again == []
    finally:
        await engine.dispose()


async def test_sqlite_keeps_one_plain_ledger(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/stock.db"
    await migrations.upgrade(url, MIGRATIONS)
    engine = create_engine(url)
    try:
        async with write_transaction(engine) as conn:
            assert await conn.run_sync(ledger.ensure_partitions, datetime.now(UTC)) == []
            await conn.execute(text(MOVEMENT), {"sku": "A", "version": 1, "at": datetime.now(UTC)})
    finally:
        await engine.dispose()


def test_months_roll_over_the_year() -> None:
    new_year = ledger.next_month(ledger.month_of(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)))
    assert new_year == date(2027, 1, 1)
    assert ledger.partition_name(new_year) == "movements_2027_01"
