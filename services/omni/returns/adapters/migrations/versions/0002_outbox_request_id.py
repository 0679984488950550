"""outbox rows carry the id of the request that caused them

Revision ID: 0002
Revises: 0001
"""

from omni.platform.tables import add_outbox_request_id

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_request_id()
