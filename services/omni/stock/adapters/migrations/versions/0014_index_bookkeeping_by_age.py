"""index processed events, idempotency keys and finished reservations by age, for pruning and
purging without full scans

Revision ID: 0014
Revises: 0013
"""

from alembic import op

from omni.platform.tables import index_bookkeeping_by_age

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    index_bookkeeping_by_age()
    op.create_index("ix_reservations_status_updated_at", "reservations", ["status", "updated_at"])
