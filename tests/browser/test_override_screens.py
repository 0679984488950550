"""A return outside the window: refused for an associate in the service's words, taken by a
manager who says why (recorded on the return)."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import HOME, TABLET, World, sign_in
from tests.browser.test_counter_screens import shipped_web_order
from tests.helpers.checks import unique

RETURNS_SETTINGS = {"window_seconds": 1.0}  # every return here is late


async def test_a_late_return_needs_a_manager_who_says_why(
    world: World, page: Page, browser: Browser
) -> None:
    customer, sku = unique("cust"), unique("COAT")
    order = await shipped_web_order(world, customer, sku, 1)
    await asyncio.sleep(1.5)  # past the window
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/counter/orders/{order.id}")
    await page.get_by_label(f"Sellable units of {sku}").fill("1")
    await page.get_by_role("button", name="Review refund").click()
    await page.get_by_role("button", name="Confirm return and refund").click()
    refusal = page.get_by_role("main").get_by_role("alert")
    await expect(refusal).to_contain_text("window")

    manager = await (await browser.new_context(viewport=TABLET)).new_page()  # type: ignore[arg-type]
    await sign_in(manager, world.url, "manager")
    await manager.goto(f"{world.url}/s/{HOME}/counter/orders/{order.id}")
    await manager.get_by_label(f"Sellable units of {sku}").fill("1")
    await manager.get_by_text("Outside the return window?").click()
    await manager.get_by_label("Take it anyway (manager override)").check()
    await manager.get_by_role("button", name="Review refund").click()
    await expect(manager.get_by_role("main").get_by_role("alert")).to_have_text(
        "Say why the return is taken outside the window."
    )
    await manager.get_by_label("Why").fill("customer was abroad")
    await manager.get_by_role("button", name="Review refund").click()
    await manager.get_by_role("button", name="Confirm return and refund").click()
    await expect(
        manager.get_by_role("heading", name=re.compile("^Return .* taken$"))
    ).to_be_visible()
    await expect(manager.get_by_text("by test-manager: customer was abroad")).to_be_visible()
    await manager.context.close()
