"""The operations dashboard: figures from the services' events, live, the same after the
console restarts (and re-reads every event), for managers only."""

from __future__ import annotations

import asyncio
import re

import grpc
from playwright.async_api import Page, expect

from omni.common.v1 import common_pb2 as cpb
from omni.console.figures.recording import FOLLOWED
from omni.orders.v1 import orders_pb2 as opb
from omni.returns.v1 import returns_pb2 as rpb
from tests.browser.conftest import HOME, OTHER, WAREHOUSE, World, shot, sign_in
from tests.browser.test_desk_screens import collect_over_grpc
from tests.browser.test_pickup_screens import web_order_for_pickup
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import receive
from tests.integration.test_orders import order_request

# The orders these tests place are in EUR; the dashboard shows one currency.
CONSOLE_SETTINGS = {"currency": "EUR", "low_stock_at": 2}


async def place(world: World, lines: dict[str, int], *, price: int, channel: int) -> opb.Order:
    for sku, qty in lines.items():
        await receive(world.stock.stub, sku, WAREHOUSE, qty)
    request = order_request(unique("o"), lines, price=price, ship=cpb.ShipTo(region="east"))
    request.channel = channel  # type: ignore[assignment]
    order = (await world.orders.stub.PlaceOrder(request)).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    return order


async def _number(page: Page, selector: str) -> int:
    return int(await page.locator(selector).inner_text())


async def test_the_order_counter_and_the_channel_chart_move_as_orders_come_in_over_grpc(
    world: World, page: Page
) -> None:
    await sign_in(page, world.url, "manager")
    await page.get_by_role("link", name="Operations").click()
    await expect(page.get_by_role("heading", name="Sales, last hour")).to_be_visible()
    before = await _number(page, "#orders-hour")
    web = page.locator('polyline[data-channel="WEB"]').first
    web_before = int(await web.get_attribute("data-total") or 0) if await web.count() else 0
    await page.evaluate("window.notReloaded = true")

    for _ in range(2):
        await place(world, {unique("MUG"): 1}, price=1000, channel=cpb.CHANNEL_WEB)
    await place(world, {unique("MUG"): 1}, price=1000, channel=cpb.CHANNEL_POS)

    await expect(page.locator("#orders-hour")).to_have_text(str(before + 3))
    await expect(web).to_have_attribute("data-total", str(web_before + 2))
    await expect(page.locator('polyline[data-channel="POS"]').first).to_be_attached()
    legend = page.get_by_role("list", name="Orders per minute in the last hour by channel")
    await expect(legend).to_contain_text(f"Web: {web_before + 2}")
    assert await page.evaluate("window.notReloaded === true")


async def test_the_leaderboard_ranks_products_by_revenue_across_channels(
    world: World, page: Page
) -> None:
    cheap_many, dear_one, middle = unique("SOCK"), unique("COAT"), unique("BELT")
    await place(world, {cheap_many: 9}, price=100, channel=cpb.CHANNEL_WEB)  # 9.00, 9 units
    await place(world, {dear_one: 1}, price=9_000, channel=cpb.CHANNEL_POS)  # 90.00, 1 unit
    await place(world, {middle: 2}, price=2_000, channel=cpb.CHANNEL_APP)  # 40.00
    await place(world, {middle: 1}, price=2_000, channel=cpb.CHANNEL_WEB)  # +20.00

    await sign_in(page, world.url, "manager")
    await page.goto(world.url + "/dashboard")
    board = page.locator("#leaderboard tbody tr")
    for sku in (cheap_many, dear_one, middle):  # each order is handled on its own
        await expect(board.filter(has_text=sku)).to_have_count(1)
    rows = await board.all_inner_texts()
    rank = {
        sku: next(i for i, row in enumerate(rows) if sku in row)
        for sku in (dear_one, middle, cheap_many)
    }
    assert rank[dear_one] < rank[middle] < rank[cheap_many], rows
    cells = board.filter(has_text=middle).get_by_role("cell")
    await expect(cells).to_have_text([re.compile(r"\d+"), middle, "60.00 EUR", "3"])


async def test_a_restarted_console_reading_every_event_again_shows_the_same_totals(
    world: World, page: Page
) -> None:
    await place(world, {unique("LAMP"): 2}, price=4_550, channel=cpb.CHANNEL_WEB)
    await sign_in(page, world.url, "manager")
    await page.goto(world.url + "/dashboard")
    await _settled(world)
    await page.reload()
    shown = {
        name: await page.locator(selector).inner_text()
        for name, selector in {
            "orders": "#orders-hour",
            "gmv": "#gmv-hour",
            "leaders": "#leaderboard",
        }.items()
    }
    assert int(shown["orders"]) >= 1

    await world.console.stop()
    # Its consumers forgotten too: JetStream delivers every event again from the start, and
    # only the handled-event ids keep them from being counted twice.
    js = world.stock.bus.jetstream()
    for durable, stream in FOLLOWED.items():
        await js.delete_consumer(stream.name, durable)
    await world.console.start()
    await _settled(world)
    await page.reload()
    for name, selector in {"orders": "#orders-hour", "gmv": "#gmv-hour"}.items():
        await expect(page.locator(selector)).to_have_text(shown[name])
    assert await page.locator("#leaderboard").inner_text() == shown["leaders"]


async def _settled(world: World) -> None:
    """Until the console's consumers have handled every event there is."""
    js = world.stock.bus.jetstream()

    async def caught_up() -> bool | None:
        for durable, stream in FOLLOWED.items():
            try:
                info = await js.consumer_info(stream.name, durable)
            except Exception:  # not created yet
                return None
            if info.num_pending or info.num_ack_pending:
                return None
        return True

    await eventually(caught_up, within=15)
    await asyncio.sleep(1.6)  # the dashboard works its figures out at most every 1.5 s


async def test_pickup_returns_stock_and_health_come_from_the_events_of_every_service(
    world: World, page: Page
) -> None:
    waiting = await web_order_for_pickup(world, OTHER, {unique("CUP"): 1})
    sku = unique("VASE")
    bought = await web_order_for_pickup(world, HOME, {sku: 2})
    await collect_over_grpc(world, bought)
    counter = rpb.ReturnAtCounterRequest(
        create=rpb.CreateReturnRequest(
            idempotency_key=unique("ret"),
            order_id=bought.id,
            channel=cpb.CHANNEL_POS,
            location_id=HOME,
            lines=[rpb.CreateReturnLine(sku=sku, quantity=1, reason="too small")],
        ),
        received=[
            rpb.ReceivedLine(
                sku=sku, quantity=1, condition=rpb.CONDITION_SELLABLE, scan_id=unique("s")
            )
        ],
    )
    await eventually(lambda: _returned(world, counter), within=10)
    scarce = unique("RARE")
    await receive(world.stock.stub, scarce, WAREHOUSE, 1)

    await sign_in(page, world.url, "manager")
    await page.goto(world.url + "/dashboard")
    pickup = page.get_by_role("table", name="Tasks waiting, by store")
    await expect(pickup.get_by_role("row", name=f"{OTHER} 1 0 0")).to_be_visible()
    await expect(page.get_by_text("Made ready, last 24 h")).to_be_visible()
    reasons = page.get_by_role("table", name="Units returned, by reason")
    await expect(reasons.get_by_role("row", name="too small 1")).to_be_visible()
    matrix = page.locator("#returns-matrix")
    await expect(matrix.get_by_role("columnheader", name="Store (POS)")).to_be_visible()
    await expect(matrix.get_by_role("row", name="Web")).to_contain_text("1")
    low = page.get_by_role("table", name="SKUs with 2 or fewer units available")
    await expect(low.get_by_role("row", name=f"{scarce} 1")).to_be_visible()
    replicas = page.locator("#replicas")
    for service in ("stock", "orders", "pickup", "returns"):
        row = replicas.get_by_role("row").filter(has_text=service)
        await expect(row.get_by_role("cell").nth(2)).to_have_text("SERVING")
    await expect(page.locator("#lag")).to_be_attached()
    assert waiting.status == opb.ORDER_STATUS_CONFIRMED
    await shot(page, "operations-dashboard")


async def _returned(world: World, request: rpb.ReturnAtCounterRequest) -> bool | None:
    try:
        await world.returns.stub.ReturnAtCounter(request)
    except grpc.aio.AioRpcError as exc:  # the returns service has not seen the collection yet
        assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc.details()
        await asyncio.sleep(0.2)
        return None
    return True


async def test_an_associate_is_told_the_dashboard_is_for_managers(world: World, page: Page) -> None:
    await sign_in(page, world.url, "associate")
    await expect(page.get_by_role("link", name="Operations")).to_have_count(0)
    await page.goto(world.url + "/dashboard")
    await expect(page.get_by_role("main")).to_contain_text("for managers")
    # Nor do its figures stream to them: the event stream is told to stop.
    stream = await page.request.get(
        world.url + "/dashboard/live", headers={"accept": "text/event-stream"}
    )
    assert stream.status == 204
