"""The console in a real browser: the four services and the console run in this process on
real ports (SQLite, a real nats-server), and headless Chromium drives the pages as a person
would, finding things by role, label and text."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from omni.console.app import ConsoleServer
from omni.console.settings import ConsoleSettings
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as spb
from tests.helpers.processes import free_port
from tests.helpers.running import (
    AUTH_TOKENS,
    TOKENS,
    Orders,
    Pickup,
    Returns,
    Stock,
    running_orders,
    running_pickup,
    running_returns,
    running_stock,
)
from tests.helpers.stock import add_location

HOME, OTHER, WAREHOUSE = "STORE-1", "STORE-2", "WH-1"
SESSION_KEY = "q8lO3Sx2F3rYbJr7aTQK0mJ6bqNSlWcDPk3rdD0n1Mc="
# A tablet held in landscape at a counter.
TABLET = {"width": 1180, "height": 820}


def chromium() -> str:
    """Chromium from the OS (`make test` installs it); OMNI_CHROMIUM names another."""
    found = os.environ.get("OMNI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail("no Chromium: run `make test`, which installs it (apt-get install chromium)")
    return found


@dataclass
class World:
    stock: Stock
    orders: Orders
    pickup: Pickup
    returns: Returns
    nats: EmbeddedNats
    console: RunningConsole

    @property
    def url(self) -> str:
        return self.console.url


@pytest.fixture(scope="module")
def nats_for_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats")).start()
    try:
        yield server
    finally:
        server.stop()
    assert server.violations() == [], "NATS refused something (omni.platform.nats_access)"


async def _stores(stock: Stock) -> None:
    kind = spb.LOCATION_KIND_STORE
    await add_location(stock.stub, WAREHOUSE, region="east", latitude=40.7, longitude=-74.2)
    for store, (lat, lon) in {HOME: (40.76, -73.97), OTHER: (40.69, -73.99)}.items():
        await add_location(
            stock.stub,
            store,
            kind=kind,
            ships=False,
            pickup=True,
            accepts_returns=True,
            region="east",
            latitude=lat,
            longitude=lon,
        )


@pytest.fixture(scope="module")
async def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    nats_for_module: EmbeddedNats,
) -> AsyncIterator[World]:
    """Every service on its own SQLite file, the demo's shape of network, and the console.
    A test module may set RETURNS_SETTINGS (e.g. a short return window) and
    CONSOLE_SETTINGS (e.g. CORS origins)."""
    db = tmp_path_factory.mktemp("db")
    nats = nats_for_module
    async with (
        running_stock(f"sqlite+aiosqlite:///{db / 'stock.db'}", nats) as stock,
        running_orders(f"sqlite+aiosqlite:///{db / 'orders.db'}", nats) as orders,
        running_pickup(f"sqlite+aiosqlite:///{db / 'pickup.db'}", nats) as pickup,
        running_returns(
            f"sqlite+aiosqlite:///{db / 'returns.db'}",
            nats,
            **getattr(request.module, "RETURNS_SETTINGS", {}),
        ) as returns,
    ):
        for service in (stock.app, orders.app, pickup.app, returns.app):
            await service.nats.ready.wait()
        await _stores(stock)
        targets = {
            "stock_target": f"127.0.0.1:{stock.app.port}",
            "orders_target": f"127.0.0.1:{orders.app.port}",
            "pickup_target": f"127.0.0.1:{pickup.app.port}",
            "returns_target": f"127.0.0.1:{returns.app.port}",
        }
        extra = getattr(request.module, "CONSOLE_SETTINGS", {})
        folder = tmp_path_factory.mktemp("console")
        settings = _console_settings(folder, **nats.settings("console"), **targets, **extra)
        console = RunningConsole(settings)
        await console.start()
        try:
            yield World(stock, orders, pickup, returns, nats_for_module, console)
        finally:
            await console.stop()


def _console_settings(folder: Path, **settings: object) -> ConsoleSettings:
    """The console's settings on a free port, its read-model database in `folder`."""
    settings.setdefault("database_url", f"sqlite+aiosqlite:///{folder}/console.db")
    return ConsoleSettings(
        http_host="127.0.0.1",
        http_port=free_port(),
        session_key=SESSION_KEY,
        secure_cookies=False,
        auth_tokens=AUTH_TOKENS,
        **settings,  # type: ignore[arg-type]
    )


class RunningConsole:
    """The console in this process, as `omni-console` runs it; stopped and started again on
    the same port and database by `restart`."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.http_port}"
        self._server: ConsoleServer | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._server = ConsoleServer(self.settings)
        self._serving = asyncio.create_task(self._server.serve())
        await _started(self._server, self._serving)

    async def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@asynccontextmanager
async def console_running(**settings: object) -> AsyncIterator[str]:
    """A console of its own, for as long as the block runs; its URL."""
    with tempfile.TemporaryDirectory(prefix="console-") as folder:
        console = RunningConsole(_console_settings(Path(folder), **settings))
        await console.start()
        try:
            yield console.url
        finally:
            await console.stop()


async def _started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    while not server.started:
        if serving.done():
            serving.result()  # it failed to start: say why
        await asyncio.sleep(0.02)


@asynccontextmanager
async def uvicorn_serving(server: uvicorn.Server) -> AsyncIterator[None]:
    """A uvicorn server in this process, from started to stopped."""
    serving = asyncio.create_task(server.serve())
    await _started(server, serving)
    try:
        yield
    finally:
        server.should_exit = True
        await serving


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test."""
    opened = await browser.new_context(viewport=TABLET)  # type: ignore[arg-type]
    opened.set_default_timeout(10_000)
    yield opened
    await opened.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def sign_in(page: Page, url: str, role: str) -> None:
    """Signs in with the test token of `role`, as a person types it."""
    await page.goto(url + "/signin")
    await page.get_by_label("Access token").fill(TOKENS[role])
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state()


async def shot(page: Page, name: str) -> None:
    """A screenshot for the docs, when OMNI_SCREENSHOTS names a folder (`make screenshots`)."""
    folder = os.environ.get("OMNI_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
