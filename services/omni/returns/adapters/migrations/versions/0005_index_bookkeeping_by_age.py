"""index processed events and idempotency keys by age, for pruning without full scans

Revision ID: 0005
Revises: 0004
"""

from omni.platform.tables import index_bookkeeping_by_age

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    index_bookkeeping_by_age()
