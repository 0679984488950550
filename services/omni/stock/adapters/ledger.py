"""The ledger (`movements`) on PostgreSQL: one partition per calendar month (UTC) of
`occurred_at`, so that it stays complete and fast as it grows: inserts go to this month's
partition, vacuum works a month at a time, a level's history is read through each month's
own index, and an old month can be detached and archived whole
(`ALTER TABLE movements DETACH PARTITION movements_2026_01`) without a long DELETE.

Each month's partition exists before its first movement: the migration makes them from the
oldest movement's month onward, and stock makes the coming months' (`MONTHS_AHEAD`) every
ten minutes, on one replica at a time. A movement outside every month (a clock far off)
still lands, in the default partition. SQLite keeps one plain table.

The guard against lost updates — one movement per version of a level — is a unique index on
each partition (PostgreSQL's unique constraints across partitions must include the
partition key): two movements of the same version a month apart would pass it, where the
level's row lock already stops them.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

MONTHS_AHEAD = 3
DEFAULT_PARTITION = "movements_default"


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def furthest_ahead(month: date) -> date:
    """The last month whose partition is made while `month` is the current one."""
    for _ in range(MONTHS_AHEAD):
        month = next_month(month)
    return month


def partition_name(month: date) -> str:
    return f"movements_{month.year:04d}_{month.month:02d}"


def partition_statements(month: date) -> list[str]:
    """The month's partition and its unique index (both idempotent)."""
    name = partition_name(month)
    start, end = month.isoformat(), next_month(month).isoformat()
    return [
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF movements "
        f"FOR VALUES FROM ('{start} 00:00:00+00') TO ('{end} 00:00:00+00')",
        unique_index_statement(name),
    ]


def unique_index_statement(partition: str) -> str:
    return (
        f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{partition}_level_version "
        f"ON {partition} (sku, location_id, version)"
    )


def months(first: date, last: date) -> list[date]:
    found, month = [], first
    while month <= last:
        found.append(month)
        month = next_month(month)
    return found


def existing_partitions(conn: Connection) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE parent.relname = 'movements'"
        )
    )
    return {r[0] for r in rows}


def ensure_partitions(conn: Connection, now: datetime) -> list[str]:
    """Creates this month's and the next MONTHS_AHEAD months' partitions where missing (on
    PostgreSQL; nothing on SQLite); returns the names of those made. A month whose movements
    already sit in the default partition is left there, and said."""
    if conn.dialect.name != "postgresql":
        return []
    have = existing_partitions(conn)
    if not have:
        return []  # not partitioned (yet): the migration makes the table
    this = month_of(now)
    last = furthest_ahead(this)
    # Making a partition locks the whole ledger for a moment: never queue behind a long
    # reader (every write would queue behind this); the next run, ten minutes on, tries again.
    conn.execute(text("SET LOCAL lock_timeout = '2s'"))
    made = []
    for month in months(this, last):
        name = partition_name(month)
        if name in have:
            continue
        try:
            with conn.begin_nested():
                for statement in partition_statements(month):
                    conn.execute(text(statement))
            made.append(name)
        except Exception as exc:  # a lock not had in time; that month's rows in the default
            log.error("cannot make the ledger's partition %s yet: %s", name, exc)
            break  # the later months next time, in order
    return made
