"""The returns counter on screen, and stock pages that follow it live."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from omni.common.v1 import common_pb2 as cpb
from omni.console.views import counter as counter_view
from omni.orders.v1 import orders_pb2 as opb
from tests.browser.conftest import HOME, TABLET, WAREHOUSE, World, shot, sign_in
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import level_of, receive
from tests.integration.test_orders import order_request


async def shipped_web_order(world: World, customer: str, sku: str, qty: int) -> opb.Order:
    """Bought on the web, shipped from the warehouse, known to returns."""
    await receive(world.stock.stub, sku, WAREHOUSE, qty + 5)
    request = order_request(unique("web"), {sku: qty}, price=2500, ship=cpb.ShipTo(region="east"))
    request.customer_id = customer
    order = (await world.orders.stub.PlaceOrder(request)).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    shipment = opb.RecordShipmentRequest(
        order_id=order.id,
        shipment_id=unique("ship"),
        location_id=WAREHOUSE,
        lines=[opb.ShipmentLine(sku=sku, quantity=qty)],
    )
    return (await world.orders.stub.RecordShipment(shipment)).order


async def test_a_web_order_returned_at_the_counter_shows_on_an_open_stock_page_within_2_s(
    world: World, page: Page, browser: Browser
) -> None:
    customer, sku = unique("cust"), unique("JEANS")
    await receive(world.stock.stub, sku, HOME, 2)
    order = await shipped_web_order(world, customer, sku, 2)

    manager = await (await browser.new_context(viewport=TABLET)).new_page()  # type: ignore[arg-type]
    await sign_in(manager, world.url, "manager")
    await manager.get_by_role("link", name="Stock").click()
    await manager.get_by_label("SKUs starting with").fill(sku)
    await manager.get_by_label("SKUs starting with").press("Enter")
    on_hand = manager.get_by_role("row", name=re.compile(sku)).get_by_role("cell").first
    await expect(on_hand).to_have_text("2")
    await manager.evaluate("window.notReloaded = true")

    await sign_in(page, world.url, "associate")
    await page.get_by_role("link", name="Returns counter").click()
    await page.get_by_label("Customer id or order id").fill(customer)
    await page.get_by_label("Customer id or order id").press("Enter")
    await expect(page.get_by_role("cell", name="Web")).to_be_visible()  # bought on the web
    await shot(page, "counter-orders")
    await page.get_by_role("link", name=f"Order {order.id}").click()
    await page.get_by_label(f"Sellable units of {sku}").fill("1")
    await page.get_by_label(f"Reason for {sku}").select_option("Wrong size")
    await page.get_by_role("button", name="Review refund").click()
    await expect(page.get_by_role("heading", name="Refund 25.00 EUR")).to_be_visible()
    await shot(page, "counter-return-review")
    await page.get_by_role("button", name="Confirm return and refund").click()
    await expect(page.get_by_role("heading", name=re.compile("^Return .* taken$"))).to_be_visible()
    await expect(page.get_by_text("1 back on sale at STORE-1")).to_be_visible()

    await expect(on_hand).to_have_text("3", timeout=2_000)  # live, without a reload
    assert await manager.evaluate("window.notReloaded === true")
    await shot(manager, "stock-live")
    assert (await level_of(world.stock.stub, sku, HOME)).on_hand == 3

    async def returned() -> bool:
        got = (await world.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))).order
        return got.lines[0].returned == 1

    await eventually(returned, within=5)
    await page.goto(f"{world.url}/s/{HOME}/counter/orders/{order.id}")
    row = page.get_by_role("row", name=re.compile(sku))
    # bought 2, received 2, returned 1, 1 left
    shipped = "2 shipped from WH-1"
    await expect(row).to_have_accessible_name(re.compile(rf"^{sku} 25.00 EUR 2 {shipped} 2 1 1 "))
    await manager.context.close()


async def test_more_than_can_come_back_is_refused_in_words_and_nothing_changes(
    world: World, page: Page
) -> None:
    customer, sku = unique("cust"), unique("SHIRT")
    order = await shipped_web_order(world, customer, sku, 1)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/counter/orders/{order.id}")
    await page.get_by_label(f"Sellable units of {sku}").fill("1")
    await page.get_by_label(f"Damaged units of {sku}").fill("1")
    await page.get_by_role("button", name="Review refund").click()
    await expect(page.get_by_role("main").get_by_role("alert")).to_have_text(
        f"Only 1 of {sku} can come back."
    )
    await expect(page.get_by_role("button", name="Confirm return and refund")).to_have_count(0)


async def test_a_customers_older_orders_are_a_page_away(
    world: World, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counter_view, "ORDERS_PAGE", 1)
    customer = unique("cust")
    first = await shipped_web_order(world, customer, unique("TIE"), 1)
    second = await shipped_web_order(world, customer, unique("TIE"), 1)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/counter?q={customer}")
    await expect(page.get_by_role("link", name=f"Order {second.id}")).to_be_visible()  # newest
    await expect(page.get_by_role("link", name=f"Order {first.id}")).to_have_count(0)
    await page.get_by_role("link", name="Older orders").click()
    await expect(page.get_by_role("link", name=f"Order {first.id}")).to_be_visible()


async def test_a_confirmation_sent_twice_takes_one_return_and_refunds_once(
    world: World, page: Page
) -> None:
    customer, sku = unique("cust"), unique("BAG")
    order = await shipped_web_order(world, customer, sku, 1)
    await sign_in(page, world.url, "associate")
    confirm = f"{world.url}/s/{HOME}/counter/orders/{order.id}/confirm"
    form = {f"sellable:{sku}": "1", f"reason:{sku}": "Faulty", "key": unique("console-return")}
    first = await (await page.request.post(confirm, form=form)).text()
    again = await (await page.request.post(confirm, form=form)).text()  # a resend
    taken = re.compile(r"Return (\S+) taken")
    assert taken.search(first) and taken.search(again), again
    assert taken.search(first)[1] == taken.search(again)[1]  # the same return  # type: ignore[index]

    async def returned_once() -> bool:
        got = (await world.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))).order
        return got.lines[0].returned == 1

    await eventually(returned_once, within=5)


async def test_a_wrong_size_is_exchanged_at_the_counter_and_the_new_one_joins_the_pickup_queue(
    world: World, page: Page
) -> None:
    customer, medium, large = unique("cust"), unique("JEANS-M"), unique("JEANS-L")
    order = await shipped_web_order(world, customer, medium, 1)
    await receive(world.stock.stub, large, HOME, 2)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/counter/orders/{order.id}")
    await page.get_by_label(f"Sellable units of {medium}").fill("1")
    await page.get_by_label(f"Reason for {medium}").select_option("Wrong size")
    await page.get_by_label(f"Exchange {medium} for").fill(large)
    await page.get_by_role("button", name="Review refund").click()
    await expect(page.get_by_role("heading", name="Refund 0.00 EUR")).to_be_visible()
    await expect(page.get_by_text(f"exchanged for {large} at the same price")).to_be_visible()
    await shot(page, "counter-exchange-review")
    await page.get_by_role("button", name="Confirm return and exchange").click()
    await expect(page.get_by_text(f"Exchanged: {medium} for {large}.")).to_be_visible()

    async def replacement() -> opb.Order | None:
        got = (await world.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))).order
        if not got.exchanges:
            return None
        found = opb.GetOrderRequest(id=got.exchanges[0].replacement_order_id)
        new = (await world.orders.stub.GetOrder(found)).order
        return new if new.status == opb.ORDER_STATUS_CONFIRMED else None

    new = await eventually(replacement, within=10)
    assert new.pickup.location_id == HOME and new.exchange_of_order_id == order.id
    assert [(ln.sku, ln.unit_price) for ln in new.lines] == [(large, 2500)]
    await page.get_by_role("link", name="Pickup").click()
    await expect(page.get_by_role("link", name=f"Order {new.id}")).to_be_visible()
    # The old order's timeline tells the exchange.
    await page.goto(f"{world.url}/orders/{order.id}")
    timeline = page.get_by_role("list", name="Timeline")
    await expect(timeline).to_contain_text(f"Units exchanged: replacement order {new.id}")
    await expect(timeline).to_contain_text(f"Exchange confirmed: order {new.id}")
    await shot(page, "counter-exchange-timeline")


async def test_an_exchange_for_an_item_not_in_stock_here_is_refused_at_review(
    world: World, page: Page
) -> None:
    customer, medium = unique("cust"), unique("SHIRT-M")
    order = await shipped_web_order(world, customer, medium, 1)
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/counter/orders/{order.id}")
    await page.get_by_label(f"Sellable units of {medium}").fill("1")
    await page.get_by_label(f"Exchange {medium} for").fill("NO-SUCH-SHIRT")
    await page.get_by_role("button", name="Review refund").click()
    await expect(page.get_by_role("main").get_by_role("alert")).to_have_text(
        "We have no NO-SUCH-SHIRT in this store. Check the new item's SKU, or refund instead."
    )
    await expect(page.get_by_role("button", name="Confirm return and exchange")).to_have_count(0)
