"""transfers between locations, with a time in transit

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omni.platform.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("origin_id", sa.String(64), sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("destination_id", sa.String(64), sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reservation_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    for end in ("origin", "destination"):
        op.create_index(
            f"ix_transfers_{end}_created", "transfers", [f"{end}_id", "created_at", "id"]
        )
    op.create_table(
        "transfer_lines",
        sa.Column("transfer_id", sa.String(64), sa.ForeignKey("transfers.id"), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND accepted >= 0 AND rejected >= 0 AND accepted + rejected <= quantity",
            name="ck_transfer_lines_quantities",
        ),
    )


def downgrade() -> None:
    op.drop_table("transfer_lines")
    for end in ("origin", "destination"):
        op.drop_index(f"ix_transfers_{end}_created", table_name="transfers")
    op.drop_table("transfers")
