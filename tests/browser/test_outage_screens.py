"""A service that is down shows as such, in words, and the page recovers by itself."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from omni.platform.natsserver import EmbeddedNats
from tests.browser.conftest import HOME, console_running, sign_in
from tests.helpers.processes import free_port
from tests.helpers.running import running_pickup


async def test_a_queue_page_says_pickup_is_down_and_recovers_when_it_is_back(
    page: Page, nats_for_module: EmbeddedNats, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in ("stock", "orders", "pickup", "returns")}
    targets = {f"{name}_target": f"127.0.0.1:{port}" for name, port in ports.items()}
    async with console_running(**nats_for_module.settings("console"), **targets) as url:
        await sign_in(page, url, "associate")
        await expect(page.get_by_role("heading", name=f"Pickup queue at {HOME}")).to_be_visible()
        queue = page.locator("#queue")
        await expect(queue.get_by_role("alert")).to_have_text(
            "The pickup service is not answering right now. Try again soon."
        )
        banner = page.get_by_text("Not answering right now:")
        await expect(banner).to_contain_text("pickup")
        await expect(page.locator("body")).not_to_contain_text("Traceback")
        await expect(page.locator("body")).not_to_contain_text("UNAVAILABLE")
        await page.evaluate("window.notReloaded = true")

        database = f"sqlite+aiosqlite:///{tmp_path / 'pickup.db'}"
        async with running_pickup(database, nats_for_module, grpc_port=ports["pickup"]):
            back = page.get_by_role("heading", name="To pick")
            await expect(back).to_be_visible(timeout=15_000)
            await expect(banner).not_to_contain_text("pickup")
            assert await page.evaluate("window.notReloaded === true")
