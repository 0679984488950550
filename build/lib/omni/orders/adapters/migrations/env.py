"""Alembic environment for the orders database."""

from alembic import context

from omni.orders.adapters.tables import metadata
from omni.platform.migrations import run_env

run_env(context, metadata)
