"""Alembic environment for the stock database."""

from alembic import context

from omni.platform.migrations import run_env
from omni.stock.adapters.tables import metadata

run_env(context, metadata)
