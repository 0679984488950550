"""ship tasks: units of an order a location ships (ship-from-store), one per order and location

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import omni.platform.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ship_tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", omni.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", omni.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "location_id", name="uq_ship_tasks_order_location"),
    )
    op.create_index(
        "ix_ship_tasks_location_status_created",
        "ship_tasks",
        ["location_id", "status", "created_at", "id"],
    )
    op.create_index(
        "ix_ship_tasks_location_created", "ship_tasks", ["location_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("ship_tasks")
