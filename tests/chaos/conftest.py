"""Registers the `chaos` marker of the fault suite (select it with `-m chaos`)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: the fault suite (kill -9 of replicas and PostgreSQL, NATS restart)"
    )
