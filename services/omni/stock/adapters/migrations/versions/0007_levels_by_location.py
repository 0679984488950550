"""stock levels by location, in SKU order (ListLevels)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The key is (sku, location_id): without this, a location's page reads past every other
    # location's rows of the same SKUs.
    op.create_index("ix_stock_levels_location_sku", "stock_levels", ["location_id", "sku"])


def downgrade() -> None:
    op.drop_index("ix_stock_levels_location_sku", table_name="stock_levels")
