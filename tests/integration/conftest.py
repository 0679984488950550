"""Fixtures for integration tests that need more than one stock replica."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from omni.platform.natsserver import EmbeddedNats
from tests.helpers import Stock, running_stock


@pytest.fixture
async def two_replicas(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[list[Stock]]:
    """Two stock replicas on one database and one NATS, both connected to NATS."""
    async with (
        running_stock(database_url, nats_server.url) as a,
        running_stock(database_url, nats_server.url, migrate_on_start=False) as b,
    ):
        for replica in (a, b):
            await replica.app.nats.ready.wait()
        yield [a, b]
