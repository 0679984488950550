"""The endless aisle on screen: where a SKU is, live, and an order placed from it."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import OTHER, WAREHOUSE, World, shot, sign_in
from tests.helpers.checks import unique
from tests.helpers.stock import receive


async def test_an_endless_aisle_order_for_pickup_at_another_store_ends_confirmed(
    world: World, page: Page
) -> None:
    sku = unique("BOOT")
    await receive(world.stock.stub, sku, OTHER, 3)
    await receive(world.stock.stub, sku, WAREHOUSE, 10)
    await sign_in(page, world.url, "associate")
    await page.get_by_role("link", name="Endless aisle").click()
    await page.get_by_label("SKU or barcode").fill(sku)
    await page.get_by_label("SKU or barcode").press("Enter")
    await expect(page.get_by_text("0 available", exact=True)).to_be_visible()  # not here
    await expect(page.get_by_text("10 available across the network")).to_be_visible()
    nearby = page.get_by_role("row", name=re.compile(OTHER))
    await expect(nearby).to_contain_text("8 km")
    await expect(nearby.get_by_role("cell").nth(2)).to_have_text("3")

    await receive(world.stock.stub, sku, OTHER, 2)
    await expect(nearby.get_by_role("cell").nth(2)).to_have_text("5")  # live
    await page.get_by_label("Customer id").fill("walk-in-42")
    await page.get_by_label("Price of one unit (USD)").fill("129.00")
    await page.get_by_label("Picked up at a store").check()
    await page.get_by_label("Pickup store").select_option(OTHER)
    await shot(page, "endless-aisle")
    await page.get_by_role("button", name="Place order").click()
    await expect(
        page.get_by_role("heading", name=re.compile(r"Order .*: Confirmed"))
    ).to_be_visible()
    await expect(page.get_by_text(f"to collect at {OTHER}")).to_be_visible()
    await expect(nearby.get_by_role("cell").nth(2)).to_have_text("4")  # and it is held there


async def test_an_order_the_form_cannot_describe_is_refused_in_words(
    world: World, page: Page
) -> None:
    sku = unique("BOOT")
    await receive(world.stock.stub, sku, WAREHOUSE, 1)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/STORE-1/aisle?q={sku}")
    await page.get_by_label("Customer id").fill("walk-in-43")
    await page.get_by_label("Price of one unit (USD)").fill("12,5x")
    await page.get_by_role("button", name="Place order").click()
    await expect(page.get_by_role("main").get_by_role("alert")).to_have_text(
        "Enter the price of one unit in USD, e.g. 49.99."
    )
    await page.get_by_label("Price of one unit (USD)").fill("12.50")
    await page.get_by_label("Quantity").fill("2")
    await page.get_by_role("button", name="Place order").click()
    await expect(
        page.get_by_role("heading", name=re.compile(r"Order .*: Rejected"))
    ).to_be_visible()
    await page.get_by_label("Quantity").fill("1")
    await page.get_by_role("button", name="Place order").click()  # a new sale: a new key
    await expect(
        page.get_by_role("heading", name=re.compile(r"Order .*: Confirmed"))
    ).to_be_visible()
