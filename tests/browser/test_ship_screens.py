"""Ship-from-store on screen: a web order the store ships arrives live in its Ship queue, is
scanned, packed and handed to the carrier; another is rejected as damaged, and the order
finds the units elsewhere. Orders and stock are checked over gRPC afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from omni.orders.v1 import orders_pb2 as opb
from omni.stock.v1 import stock_pb2 as spb
from tests.browser.conftest import HOME, WAREHOUSE, World, shot, sign_in
from tests.browser.test_pickup_screens import scan
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import level_of, receive
from tests.integration.test_orders import order_request

EAST = {"ship": {"region": "east"}}


@pytest.fixture
async def shipping_home(world: World) -> AsyncIterator[None]:
    """HOME ships web orders for the length of a test."""
    stub = world.stock.stub
    here = (await stub.GetLocation(spb.GetLocationRequest(id=HOME))).location
    here.ships, here.taken_today = True, 0
    await stub.UpdateLocation(spb.UpdateLocationRequest(location=here))
    try:
        yield
    finally:
        here.ships = False
        await stub.UpdateLocation(spb.UpdateLocationRequest(location=here))


async def web_ship_order(world: World, sku: str, qty: int) -> opb.Order:
    request = order_request(unique("web"), {sku: qty}, **EAST)  # type: ignore[arg-type]
    order = (await world.orders.stub.PlaceOrder(request)).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    assert order.lines[0].allocations[0].location_id == HOME
    return order


async def test_a_store_ships_a_web_order_and_rejects_a_damaged_one_on_screen(
    world: World, page: Page, shipping_home: None
) -> None:
    sku, spare = unique("JEANS"), unique("BAG")
    await receive(world.stock.stub, sku, HOME, 4)
    await sign_in(page, world.url, "associate")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Ship").click()
    await expect(page.get_by_role("heading", name=f"Orders to ship from {HOME}")).to_be_visible()
    await page.evaluate("window.notReloaded = true")

    order = await web_ship_order(world, sku, 2)
    row = page.get_by_role("link", name=f"Order {order.id}")
    await expect(row).to_be_visible()  # arrived live: no reload
    assert await page.evaluate("window.notReloaded === true")
    await shot(page, "ship-queue")

    await row.click()
    await expect(page.get_by_role("button", name="Start picking")).to_be_focused()
    await page.keyboard.press("Enter")
    packed = page.get_by_role("button", name="Packed")
    await expect(packed).to_be_disabled()
    await scan(page, sku)
    await scan(page, sku)
    await scan(page, sku)  # one too many: said in words, nothing changes
    await expect(page.get_by_role("main").get_by_role("alert")).to_contain_text("is picked already")
    await expect(packed).to_be_enabled()
    await shot(page, "ship-task-picking")
    await packed.click()
    await expect(page.get_by_text("Status: Packed")).to_be_visible()
    await expect(page.get_by_label("Carrier")).to_be_focused()  # the next thing to type
    await page.get_by_label("Carrier").fill("DHL")
    await page.get_by_label("Tracking number (scan the label)").fill("JD014600")
    await page.get_by_label("Tracking number (scan the label)").press("Enter")
    await expect(page.get_by_text("Shipped with DHL, tracking JD014600.")).to_be_visible()

    async def fulfilled() -> bool:
        got = (await world.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))).order
        return got.status == opb.ORDER_STATUS_FULFILLED and got.shipments[0].carrier == "DHL"

    await eventually(fulfilled, within=10)

    # A second order: its unit is damaged. The warehouse has one now, so the order goes there.
    await receive(world.stock.stub, spare, HOME, 1)
    other = await web_ship_order(world, spare, 1)
    await receive(world.stock.stub, spare, WAREHOUSE, 1)
    await page.goto(f"{world.url}/s/{HOME}/ship")
    await page.get_by_role("link", name=f"Order {other.id}").click()
    await page.get_by_label("Why").select_option(label="Damaged (moved to damaged stock)")
    await page.get_by_label("Units").fill("5")  # more than the order has: said by the form
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Reject").click()
    form = page.get_by_role("main").get_by_role("alert")
    await expect(form).to_have_text(f"Only 1 {spare} left to ship on this order, not 5.")
    await expect(page.get_by_label("Why")).to_have_value("REJECTION_REASON_DAMAGED")  # kept
    await expect(page.get_by_label("Units")).to_be_focused()
    await page.get_by_label("Units").fill("1")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Reject").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Rejected 1 of {spare}.")
    await expect(page.get_by_text("Status: Cancelled")).to_be_visible()
    await shot(page, "ship-task-rejected")

    async def rerouted() -> bool:
        got = (await world.orders.stub.GetOrder(opb.GetOrderRequest(id=other.id))).order
        live = [a for a in got.lines[0].allocations if a.quantity]
        return [a.location_id for a in live] == [WAREHOUSE] and not got.lines[0].reallocating

    await eventually(rerouted, within=10)

    async def moved_to_damaged() -> bool:  # stock applies the write-off when orders asks
        level = await level_of(world.stock.stub, spare, HOME)
        return (level.on_hand, level.reserved, level.damaged) == (0, 0, 1)

    await eventually(moved_to_damaged, within=10)

    # The order's timeline tells each step, in words.
    await page.goto(f"{world.url}/orders/{other.id}")
    timeline = page.get_by_role("list", name="Timeline")
    await expect(timeline).to_contain_text(
        f"1 unit of {spare} rejected at {HOME} (damaged): finding it elsewhere"
    )
    await expect(timeline).to_contain_text(f"Re-allocated: 1 unit from {WAREHOUSE}")
    await shot(page, "ship-order-timeline")
