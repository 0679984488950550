"""the ledger (movements) partitioned by month on PostgreSQL

Its rows are copied into the partitioned table in this migration, which holds the ledger
locked meanwhile: on a large ledger that takes a while, and every stock write waits for it
(replicas still running the old code too). Plan the upgrade for a quiet hour. SQLite: nothing.

Revision ID: 0015
Revises: 0014
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from omni.stock.adapters import ledger

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD = "movements_before_0015"


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    now = datetime.now(UTC)
    oldest = conn.execute(sa.text("SELECT min(occurred_at) FROM movements")).scalar()
    first = ledger.month_of(oldest or now)
    last = ledger.furthest_ahead(ledger.month_of(now))
    statements = [
        f"ALTER TABLE movements RENAME TO {OLD}",
        f"ALTER INDEX movements_pkey RENAME TO {OLD}_pkey",
        f"ALTER TABLE {OLD} RENAME CONSTRAINT uq_movements_level_version TO {OLD}_level_version",
        # The same columns in the same order, and the id's default (its sequence).
        f"CREATE TABLE movements (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (occurred_at)",
        "ALTER TABLE movements ADD PRIMARY KEY (id, occurred_at)",
        # ListMovements: one level's movements in id order (on every partition).
        "CREATE INDEX ix_movements_level ON movements (sku, location_id, id)",
        f"CREATE TABLE {ledger.DEFAULT_PARTITION} PARTITION OF movements DEFAULT",
        ledger.unique_index_statement(ledger.DEFAULT_PARTITION),
    ]
    for month in ledger.months(first, last):
        statements += ledger.partition_statements(month)
    statements += [
        f"INSERT INTO movements SELECT * FROM {OLD}",
        "ALTER SEQUENCE movements_id_seq OWNED BY movements.id",
        f"DROP TABLE {OLD}",
        "ANALYZE movements",  # autovacuum never analyzes a partitioned table's parent
    ]
    for statement in statements:
        op.execute(statement)
