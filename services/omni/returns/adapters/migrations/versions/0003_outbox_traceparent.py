"""outbox rows carry the trace context of the work that caused them

Revision ID: 0003
Revises: 0002
"""

from omni.platform.tables import add_outbox_traceparent

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_traceparent()
