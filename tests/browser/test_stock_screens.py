"""Stock at this store on screen: a SKU's ledger, and a manager's count and adjustment."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from omni.console.views import stock as stock_view
from omni.stock.v1 import stock_pb2 as spb
from tests.browser.conftest import HOME, World, shot, sign_in
from tests.helpers.checks import unique
from tests.helpers.stock import level_of, receive


async def test_a_manager_counts_and_adjusts_a_sku_and_the_ledger_shows_both(
    world: World, page: Page
) -> None:
    sku = unique("BELT")
    await receive(world.stock.stub, sku, HOME, 7)
    await sign_in(page, world.url, "manager")
    await page.goto(f"{world.url}/s/{HOME}/stock/item?sku={sku}")
    await page.get_by_label("Units counted on the shelf").fill("5")
    await page.get_by_label("Units counted on the shelf").press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Counted 5: on hand is now 5.")
    # Redrawn, the page hands the focus to the count again once it has settled.
    await expect(page.get_by_label("Units counted on the shelf")).to_be_focused()
    await page.get_by_label("Change in units (e.g. -2)").fill("-1")
    await page.get_by_label("Why").fill("found torn")
    await page.get_by_role("button", name="Adjust").click()
    await expect(page.get_by_role("status")).to_have_text("Adjusted on hand by -1.")
    ledger = page.get_by_role("table", name="Ledger, newest first")
    rows = ledger.get_by_role("row")
    await expect(rows.nth(1)).to_have_accessible_name(re.compile(r"Adjustment -1 +found torn"))
    await expect(rows.nth(2)).to_have_accessible_name(re.compile(r"Count -2\b"))
    await expect(rows.nth(3)).to_have_accessible_name(re.compile(r"Receipt \+7$"))
    await shot(page, "stock-sku")
    assert (await level_of(world.stock.stub, sku, HOME)).on_hand == 4


async def test_an_associate_sees_levels_but_neither_counts_nor_reads_the_ledger(
    world: World, page: Page
) -> None:
    sku = unique("BELT")
    await receive(world.stock.stub, sku, HOME, 2)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/stock?prefix={sku}")
    await expect(page.get_by_role("row", name=f"{sku} 2 0 0 0 2")).to_be_visible()
    await page.get_by_role("link", name=sku).click()
    await expect(page.get_by_role("heading", name=f"{sku} at {HOME}")).to_be_visible()
    await expect(page.get_by_label("Units counted on the shelf")).to_have_count(0)
    await expect(page.get_by_role("table", name="Ledger, newest first")).to_have_count(0)
    await page.goto(f"{world.url}/s/{HOME}/stock")
    await expect(page.get_by_role("button", name="Pause ship orders")).to_have_count(0)


async def test_a_page_that_does_not_exist_says_so_in_words(world: World, page: Page) -> None:
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/no/such/page")
    await expect(page.get_by_role("main").get_by_role("alert")).to_have_text(
        "There is no such page."
    )


async def test_a_store_with_more_skus_than_a_page_is_read_page_by_page(
    world: World, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock_view, "PAGE", 2)
    prefix = unique("SCARF")
    for n in range(3):
        await receive(world.stock.stub, f"{prefix}-{n}", HOME, n + 1)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/stock?prefix={prefix}")
    await expect(page.get_by_role("row", name=re.compile(prefix))).to_have_count(2)
    await page.get_by_role("link", name="Next page").click()
    await expect(page.get_by_role("row", name=f"{prefix}-2 3 0 0 0 3")).to_be_visible()
    await expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    await receive(world.stock.stub, f"{prefix}-2", HOME, 1)  # the second page is live too
    await expect(page.get_by_role("row", name=f"{prefix}-2 4 0 0 0 4")).to_be_visible()


async def test_a_sku_new_to_the_store_appears_on_an_open_stock_page(
    world: World, page: Page
) -> None:
    prefix = unique("GLOVE")
    await receive(world.stock.stub, f"{prefix}-A", HOME, 1)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/stock?prefix={prefix}")
    await expect(page.get_by_role("row", name=f"{prefix}-A 1 0 0 0 1")).to_be_visible()
    await page.evaluate("window.notReloaded = true")
    await receive(world.stock.stub, f"{prefix}-B", HOME, 4)
    await expect(page.get_by_role("row", name=f"{prefix}-B 4 0 0 0 4")).to_be_visible(
        timeout=20_000  # looked for every 5 s
    )
    await receive(world.stock.stub, f"{prefix}-B", HOME, 1)  # and that row is live too
    await expect(page.get_by_role("row", name=f"{prefix}-B 5 0 0 0 5")).to_be_visible()
    assert await page.evaluate("window.notReloaded === true")


async def test_a_manager_pauses_the_stores_ship_orders_and_sets_how_many_it_takes(
    world: World, page: Page
) -> None:
    stub = world.stock.stub
    here = (await stub.GetLocation(spb.GetLocationRequest(id=HOME))).location
    here.ships, here.taken_today = True, 0
    await stub.UpdateLocation(spb.UpdateLocationRequest(location=here))
    try:
        await sign_in(page, world.url, "manager")
        await page.goto(f"{world.url}/s/{HOME}/stock")
        card = page.get_by_role("region", name="Ship orders from this store")
        await expect(card).to_contain_text("Taking ship orders, with no daily limit.")
        await card.get_by_role("button", name="Pause ship orders").click()
        await expect(card.get_by_role("status")).to_have_text(
            "Paused: no new ship orders come to this store until you resume."
        )
        got = (await stub.GetLocation(spb.GetLocationRequest(id=HOME))).location
        assert got.paused
        await card.get_by_role("button", name="Resume ship orders").click()
        await expect(card.get_by_role("status")).to_have_text("Taking ship orders again.")
        await card.get_by_label("Ship orders a day, at most (empty: no limit)").fill("lots")
        await card.get_by_role("button", name="Save").click()
        await expect(card.get_by_role("alert")).to_contain_text("Enter how many ship orders")
        await card.get_by_label("Ship orders a day, at most (empty: no limit)").fill("12")
        await card.get_by_role("button", name="Save").click()
        await expect(card.get_by_role("status")).to_have_text("Up to 12 ship orders a day.")
        await shot(page, "stock-ship-orders")
        got = (await stub.GetLocation(spb.GetLocationRequest(id=HOME))).location
        assert (got.paused, got.daily_capacity) == (False, 12)
    finally:
        reset = spb.SetLocationCapacityRequest(location_id=HOME, no_limit=True, paused=False)
        await stub.SetLocationCapacity(reset)
        here.ships = False
        await stub.UpdateLocation(spb.UpdateLocationRequest(location=here))
