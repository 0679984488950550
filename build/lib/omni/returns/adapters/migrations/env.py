"""Alembic environment for the returns database."""

from alembic import context

from omni.platform.migrations import run_env
from omni.returns.adapters.tables import metadata

run_env(context, metadata)
