"""outbox rows carry the trace context of the work that caused them

Revision ID: 0005
Revises: 0004
"""

from omni.platform.tables import add_outbox_traceparent

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_traceparent()
