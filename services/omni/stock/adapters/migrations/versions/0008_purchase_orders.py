"""purchase orders, and the units they bring: `incoming` on each level and in the ledger

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.platform.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_levels") as batch:
        batch.add_column(sa.Column("incoming", sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_check_constraint("ck_stock_levels_incoming_non_negative", "incoming >= 0")
    with op.batch_alter_table("movements") as batch:
        batch.add_column(
            sa.Column("incoming_delta", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("supplier", sa.String(128), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_purchase_orders_location_created",
        "purchase_orders",
        ["location_id", "created_at", "id"],
    )
    op.create_table(
        "purchase_order_lines",
        sa.Column(
            "purchase_order_id",
            sa.String(64),
            sa.ForeignKey("purchase_orders.id"),
            primary_key=True,
        ),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("expected_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND received >= 0", name="ck_purchase_order_lines_quantities"
        ),
    )
    op.create_index("ix_purchase_order_lines_sku", "purchase_order_lines", ["sku"])


def downgrade() -> None:
    op.drop_index("ix_purchase_order_lines_sku", table_name="purchase_order_lines")
    op.drop_table("purchase_order_lines")
    op.drop_index("ix_purchase_orders_location_created", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    with op.batch_alter_table("movements") as batch:
        batch.drop_column("incoming_delta")
    with op.batch_alter_table("stock_levels") as batch:
        batch.drop_constraint("ck_stock_levels_incoming_non_negative", type_="check")
        batch.drop_column("incoming")
