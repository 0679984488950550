"""Alembic environment for the pickup database."""

from alembic import context

from omni.pickup.adapters.tables import metadata
from omni.platform.migrations import run_env

run_env(context, metadata)
