"""The orders desk: find an order, follow its timeline live, and act on it as the
person's role allows (the orders service decides)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, timedelta

from nats.js.api import DeliverPolicy
from playwright.async_api import Page, expect

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from tests.browser.conftest import HOME, WAREHOUSE, World, shot, sign_in
from tests.browser.test_pickup_screens import web_order_for_pickup
from tests.helpers.checks import eventually, unique
from tests.helpers.running import TEST_CODE_KEY, TOKENS
from tests.helpers.stock import receive
from tests.integration.test_orders import order_request


async def collect_over_grpc(world: World, order: opb.Order) -> None:
    """What the store does for a pickup order, through the pickup service's API."""

    async def task() -> ppb.PickupTask | None:
        queue = await world.pickup.stub.ListPickups(ppb.ListPickupsRequest(store_id=HOME))
        return next((t for t in queue.tasks if t.order_id == order.id), None)

    found = await eventually(task, within=10)
    stub = world.pickup.stub
    events = await world.pickup.bus.jetstream().subscribe(
        "pickup.events.ready", deliver_policy=DeliverPolicy.NEW
    )
    await stub.StartPicking(ppb.StartPickingRequest(id=found.id, associate_id="a"))
    for line in found.lines:
        for n in range(line.quantity):
            await stub.RecordPick(ppb.RecordPickRequest(id=found.id, scan_id=f"s{n}", sku=line.sku))
    await stub.MarkReady(ppb.MarkReadyRequest(id=found.id))
    sealed = pickup_msg.PickupChanged.FromString((await events.next_msg(5)).data).sealed_code
    await events.unsubscribe()
    code = Sealer(TEST_CODE_KEY).open(sealed)
    await stub.CompletePickup(ppb.CompletePickupRequest(id=found.id, code=code, associate_id="a"))


async def test_an_orders_timeline_follows_a_pickup_order_to_collected_live(
    world: World, page: Page
) -> None:
    sku = unique("SCARF")
    order = await web_order_for_pickup(world, HOME, {sku: 1})
    await sign_in(page, world.url, "manager")
    await page.get_by_role("link", name="Orders").click()
    await page.get_by_label("Customer").fill(order.customer_id)
    await page.get_by_label("Status").select_option(label="Confirmed")
    await page.get_by_role("button", name="Find").click()
    await page.get_by_role("link", name=f"Order {order.id}").click()
    timeline = page.get_by_role("list", name="Timeline")
    await expect(timeline).to_contain_text("Placed through Web: 1 unit, 19.99 EUR")
    await expect(timeline).to_contain_text(f"Confirmed: 1 unit from {HOME}")
    await page.evaluate("window.notReloaded = true")

    await collect_over_grpc(world, order)
    # Each step from its own service's event, in the order they happened.
    steps = timeline.get_by_role("listitem")
    await expect(steps).to_contain_text(
        [
            "Placed through Web",
            f"Confirmed: 1 unit from {HOME}",
            f"Picking started at {HOME}",
            f"Ready for collection at {HOME}",
            f"Collected at {HOME}: 1 unit",
        ]
    )
    await expect(page.locator("#timeline")).to_contain_text("Fulfilled")
    await expect(page.get_by_role("row", name=f"{sku} 1 19.99 EUR 1 at {HOME} 1 0")).to_be_visible()
    await expect(page.get_by_role("button", name="Record shipment")).to_have_count(0)
    assert await page.evaluate("window.notReloaded === true")
    await shot(page, "orders-desk-order")


async def ship_order(world: World, sku: str) -> opb.Order:
    await receive(world.stock.stub, sku, WAREHOUSE, 5)
    request = order_request(unique("web"), {sku: 2}, ship=cpb.ShipTo(region="east"))
    order = (await world.orders.stub.PlaceOrder(request)).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    return order


async def test_a_shipment_is_recorded_by_whom_the_service_lets_and_refused_in_words_to_others(
    world: World, page: Page
) -> None:
    sku = unique("BOOT")
    order = await ship_order(world, sku)
    await sign_in(page, world.url, "manager")  # a manager of STORE-1: not the warehouse's
    await page.goto(f"{world.url}/orders/{order.id}")
    await page.get_by_label(f"Units of {sku}").fill("2")
    await page.get_by_role("button", name="Record shipment").click()
    await expect(page.get_by_role("main").get_by_role("alert")).to_contain_text(
        f"works at {HOME} only"
    )

    await page.context.clear_cookies()
    await page.goto(world.url + "/signin")
    await page.get_by_label("Access token").fill(TOKENS["manager-anywhere"])
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.goto(f"{world.url}/orders/{order.id}")
    await page.get_by_label("Shipped from").select_option(WAREHOUSE)
    await page.get_by_label(f"Units of {sku}").fill("1")  # one now, one later
    await page.get_by_label("Carrier").fill("UPS")
    await page.get_by_role("button", name="Record shipment").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Shipment recorded. Stock commits its units."
    )
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(
        f"Shipped from {WAREHOUSE} by UPS: 1 unit"
    )
    await expect(page.locator("#timeline")).to_contain_text("Partially fulfilled")


async def test_an_order_is_cancelled_from_the_desk_after_a_confirmation(
    world: World, page: Page
) -> None:
    order = await ship_order(world, unique("HAT"))
    await page.goto(world.url + "/signin")
    await page.get_by_label("Access token").fill(TOKENS["manager-anywhere"])
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.goto(f"{world.url}/orders/{order.id}")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_label("Why").fill("customer called")
    await page.get_by_role("button", name="Cancel order").click()
    await expect(page.get_by_role("status")).to_contain_text("Cancelled.")
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(
        re.compile("Cancelled: customer called")
    )


async def test_orders_are_found_by_the_day_they_were_placed(world: World, page: Page) -> None:
    order = await ship_order(world, unique("KEY"))
    placed = order.created_at.ToDatetime(tzinfo=UTC).date()
    await sign_in(page, world.url, "manager")
    await page.goto(world.url + "/orders")
    rows = page.get_by_role("link", name=f"Order {order.id}")
    for day, found in ((placed, 1), (placed - timedelta(days=1), 0)):
        await page.get_by_label("Placed on (UTC day)").fill(day.isoformat())
        await page.get_by_role("button", name="Find").click()
        await expect(rows).to_have_count(found)
    await page.goto(world.url + "/orders?day=2026-13-40")
    await expect(page.get_by_role("alert")).to_have_text("Placed on must be a date (YYYY-MM-DD).")
