"""Alembic environment for the console's read model."""

from alembic import context

from omni.console.figures.tables import metadata
from omni.platform.migrations import run_env

run_env(context, metadata)
