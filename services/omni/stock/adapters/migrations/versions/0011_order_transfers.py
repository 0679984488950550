"""transfers made for an order's units (ship to store): the reservation they bring units to,
whose lines count those units as coming

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOR_ORDER = sa.text("for_reservation_id <> ''")


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(
            sa.Column("for_reservation_id", sa.String(64), nullable=False, server_default="")
        )
    op.create_index(
        "ix_transfers_for_reservation",
        "transfers",
        ["for_reservation_id"],
        postgresql_where=_FOR_ORDER,
        sqlite_where=_FOR_ORDER,
    )
    with op.batch_alter_table("reservation_lines") as batch:
        batch.add_column(sa.Column("coming", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("reservation_lines") as batch:
        batch.drop_column("coming")
    op.drop_index("ix_transfers_for_reservation", table_name="transfers")
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("for_reservation_id")
