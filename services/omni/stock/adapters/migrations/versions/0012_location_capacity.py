"""a location's daily capacity for ship orders and its pause switch; the orders given to it
per day, and which allocation took each place

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locations") as batch:
        batch.add_column(sa.Column("daily_capacity", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "location_load",
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.id"), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("orders >= 0", name="ck_location_load_orders"),
    )
    op.create_table(
        "capacity_charges",
        sa.Column(
            "reservation_id", sa.String(64), sa.ForeignKey("reservations.id"), primary_key=True
        ),
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("capacity_charges")
    op.drop_table("location_load")
    with op.batch_alter_table("locations") as batch:
        batch.drop_column("paused")
        batch.drop_column("daily_capacity")
