"""outbox subjects up to 512 characters (availability subjects of long ids reach about 400)

Revision ID: 0006
Revises: 0005
"""

from omni.platform.tables import widen_outbox_subject

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    widen_outbox_subject()
