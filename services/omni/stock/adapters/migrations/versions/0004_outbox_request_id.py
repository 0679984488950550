"""outbox rows carry the id of the request that caused them

Revision ID: 0004
Revises: 0003
"""

from omni.platform.tables import add_outbox_request_id

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_request_id()
