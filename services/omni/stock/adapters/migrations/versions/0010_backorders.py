"""backorders and preorders: units sold against supply on its way, per channel up to a cap

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.platform.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITING = sa.text("backordered > 0")


def upgrade() -> None:
    with op.batch_alter_table("stock_levels") as batch:
        batch.add_column(
            sa.Column("backordered", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("settled_version", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(
            "ck_stock_levels_backordered_non_negative", "backordered >= 0"
        )
    op.create_index(
        "ix_stock_levels_backordered",
        "stock_levels",
        ["sku", "location_id"],
        postgresql_where=_WAITING,
        sqlite_where=_WAITING,
    )
    with op.batch_alter_table("movements") as batch:
        batch.add_column(
            sa.Column("backordered_delta", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default=""))
    with op.batch_alter_table("reservation_lines") as batch:
        batch.add_column(sa.Column("waiting", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("expected_at", UTCDateTime(timezone=True), nullable=True))
    waits = sa.text("waiting > 0")
    op.create_index(
        "ix_reservation_lines_waiting",
        "reservation_lines",
        ["sku", "location_id"],
        postgresql_where=waits,
        sqlite_where=waits,
    )
    with op.batch_alter_table("purchase_order_lines") as batch:  # amended to nothing: 0
        batch.drop_constraint("ck_purchase_order_lines_quantities", type_="check")
        batch.create_check_constraint(
            "ck_purchase_order_lines_quantities", "quantity >= 0 AND received >= 0"
        )
    op.create_table(
        "presale_policies",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cap", sa.BigInteger(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("waiting", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("waiting >= 0", name="ck_presale_policies_waiting"),
    )


def downgrade() -> None:
    op.drop_table("presale_policies")
    with op.batch_alter_table("purchase_order_lines") as batch:
        batch.drop_constraint("ck_purchase_order_lines_quantities", type_="check")
        batch.create_check_constraint(
            "ck_purchase_order_lines_quantities", "quantity > 0 AND received >= 0"
        )
    op.drop_index("ix_reservation_lines_waiting", table_name="reservation_lines")
    with op.batch_alter_table("reservation_lines") as batch:
        batch.drop_column("expected_at")
        batch.drop_column("waiting")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("channel")
    with op.batch_alter_table("movements") as batch:
        batch.drop_column("backordered_delta")
    op.drop_index("ix_stock_levels_backordered", table_name="stock_levels")
    with op.batch_alter_table("stock_levels") as batch:
        batch.drop_constraint("ck_stock_levels_backordered_non_negative", type_="check")
        batch.drop_column("settled_version")
        batch.drop_column("backordered")
