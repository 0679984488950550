"""outbox subjects up to 512 characters (availability subjects of long ids reach about 400)

Revision ID: 0004
Revises: 0003
"""

from omni.platform.tables import widen_outbox_subject

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    widen_outbox_subject()
