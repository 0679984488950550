"""The pickup queue on screen: a web order arrives live, is picked by scanning, made ready,
and handed over against the customer's code; stock is checked over gRPC afterwards."""

from __future__ import annotations

import asyncio
import re

from nats.js.api import DeliverPolicy
from playwright.async_api import Page, expect

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.stock.v1 import stock_pb2 as spb
from tests.browser.conftest import HOME, OTHER, WAREHOUSE, World, shot, sign_in
from tests.helpers.checks import eventually, unique
from tests.helpers.running import TEST_CODE_KEY
from tests.helpers.stock import level_of, receive
from tests.integration.test_orders import order_request


async def web_order_for_pickup(world: World, store: str, lines: dict[str, int]) -> opb.Order:
    """A web storefront's pickup order, placed over gRPC as a storefront does."""
    for sku, qty in lines.items():
        await receive(world.stock.stub, sku, store, qty + 3)
    request = order_request(unique("web"), lines, pickup=cpb.PickupAt(location_id=store))
    order = (await world.orders.stub.PlaceOrder(request)).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    return order


async def scan(page: Page, code: str) -> None:
    """What a keyboard-wedge scanner does: types the code, then Enter."""
    field = page.get_by_label("Scan item (barcode or SKU, then Enter)")
    await field.press_sequentially(code)
    await field.press("Enter")


async def test_a_web_order_is_picked_made_ready_and_collected_on_screen(
    world: World, page: Page
) -> None:
    sku, other = unique("TEE"), unique("CAP")
    barcode = unique("0400")
    await world.stock.stub.RegisterBarcodes(
        spb.RegisterBarcodesRequest(barcodes=[spb.Barcode(code=barcode, sku=sku)])
    )
    await sign_in(page, world.url, "associate")
    await expect(page.get_by_role("heading", name=f"Pickup queue at {HOME}")).to_be_visible()
    await page.evaluate("window.notReloaded = true")

    order = await web_order_for_pickup(world, HOME, {sku: 2, other: 1})
    row = page.get_by_role("link", name=f"Order {order.id}")
    await expect(row).to_be_visible()  # arrived live: no reload
    assert await page.evaluate("window.notReloaded === true")
    await shot(page, "pickup-queue")

    await row.click()
    start = page.get_by_role("button", name="Start picking")
    await expect(start).to_be_focused()  # a keyboard alone will do from here
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Picking started")).to_be_visible()
    ready = page.get_by_role("button", name="Mark ready")
    await expect(ready).to_be_disabled()
    await scan(page, barcode)  # a barcode stands for its SKU
    await scan(page, sku)
    await scan(page, "NOT-ON-THIS-ORDER")
    await expect(page.get_by_role("main").get_by_role("alert")).to_contain_text("NOT-ON-THIS-ORDER")
    await scan(page, other)
    await expect(page.get_by_role("status")).to_have_text(f"Picked 1 of {other} (1 of 1).")
    # Every scan's answer stays listed, the refused one too, though a later one followed.
    log = page.get_by_role("list", name="Last scans")
    await expect(log.get_by_role("listitem")).to_have_count(4)
    await expect(log).to_contain_text("NOT-ON-THIS-ORDER: Task")
    await shot(page, "pickup-task-picking")

    events = await world.pickup.bus.jetstream().subscribe(
        "pickup.events.ready", deliver_policy=DeliverPolicy.NEW
    )
    await ready.click()
    await expect(page.get_by_text("Status: Ready")).to_be_visible()
    await expect(page.get_by_label("Customer's pickup code")).to_be_focused()
    event = pickup_msg.PickupChanged.FromString((await events.next_msg(5)).data)
    await events.unsubscribe()
    code = Sealer(TEST_CODE_KEY).open(event.sealed_code)

    code_field = page.get_by_label("Customer's pickup code")
    await code_field.fill("AAAA-AAAA")
    await code_field.press("Enter")
    await expect(
        page.get_by_role("main").get_by_role("alert")
    ).to_be_visible()  # a wrong code, said in words
    await expect(page.get_by_role("main").get_by_role("alert")).not_to_contain_text(
        "PERMISSION_DENIED"
    )
    await shot(page, "pickup-task-ready")
    await page.get_by_label("Customer's pickup code").fill(code.lower())
    await page.get_by_label("Customer's pickup code").press("Enter")
    await expect(page.get_by_text("Handed over. The order is collected.")).to_be_visible()
    await expect(page.get_by_text("Status: Collected")).to_be_visible()

    async def committed() -> bool:  # stock commits the units when orders tells it (NATS)
        levels = [await level_of(world.stock.stub, each, HOME) for each in (sku, other)]
        return all((lv.on_hand, lv.reserved) == (3, 0) for lv in levels)

    await eventually(committed, within=10)
    got = await world.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))
    assert got.order.status == opb.ORDER_STATUS_FULFILLED


async def test_an_associate_cannot_open_another_stores_queue(world: World, page: Page) -> None:
    theirs = await web_order_for_pickup(world, OTHER, {unique("SOCK"): 1})

    async def their_task() -> ppb.PickupTask | None:
        queue = await world.pickup.stub.ListPickups(ppb.ListPickupsRequest(store_id=OTHER))
        return next((t for t in queue.tasks if t.order_id == theirs.id), None)

    task = await eventually(their_task, within=10)
    await sign_in(page, world.url, "associate")
    refusal = page.get_by_role("main").get_by_role("alert")
    await page.goto(f"{world.url}/s/{OTHER}/pickup")
    await expect(refusal).to_contain_text(f"works at {HOME} only")
    await expect(page.get_by_text(theirs.id)).to_have_count(0)
    await page.goto(f"{world.url}/s/{OTHER}/pickup/{task.id}")
    await expect(refusal).to_contain_text(f"works at {HOME} only")
    answer = await page.request.post(f"{world.url}/s/{OTHER}/pickup/{task.id}/start")
    assert f"works at {HOME} only" in await answer.text()
    still = await world.pickup.stub.GetPickup(ppb.GetPickupRequest(id=task.id))
    assert still.task.status == ppb.PICKUP_STATUS_PLACED


async def test_five_wrong_codes_lock_the_task_and_a_manager_unlocks_it(
    world: World, page: Page
) -> None:
    order = await web_order_for_pickup(world, HOME, {unique("HAT"): 1})
    await sign_in(page, world.url, "manager")
    await page.get_by_role("link", name=f"Order {order.id}").click()
    await page.get_by_role("button", name="Start picking").click()
    await scan(page, order.lines[0].sku)
    await page.get_by_role("button", name="Mark ready").click()
    for _ in range(5):
        await page.get_by_label("Customer's pickup code").fill("WRNG-CODE")
        async with page.expect_response(re.compile("/handover$")):
            await page.get_by_role("button", name="Hand over").click()
        await expect(page.get_by_role("main").get_by_role("alert")).to_be_visible()
    await expect(page.get_by_text("Status: Locked")).to_be_visible()
    await page.get_by_role("link", name="Pickup", exact=True).click()
    locked = page.get_by_role("region", name=re.compile("Locked"))
    await expect(locked.get_by_role("link", name=f"Order {order.id}")).to_be_visible()
    await locked.get_by_role("link", name=f"Order {order.id}").click()
    unlock = page.get_by_role("button", name="Unlock")
    await unlock.click()
    await expect(page.get_by_text("Unlocked.")).to_be_visible()
    await expect(page.get_by_label("Customer's pickup code")).to_be_focused()


async def test_a_unit_missing_from_the_shelf_is_reported_and_the_task_can_still_be_ready(
    world: World, page: Page
) -> None:
    sku, gone = unique("MUG"), unique("BAG")
    order = await web_order_for_pickup(world, HOME, {sku: 1, gone: 1})
    await sign_in(page, world.url, "associate")
    await page.get_by_role("link", name=f"Order {order.id}").click()
    await page.get_by_role("button", name="Start picking").click()
    await scan(page, sku)
    await page.get_by_label("Missing item").select_option(gone)
    await page.get_by_label("Units not on the shelf").fill("1")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # "sure?"
    await page.get_by_role("button", name="Report missing").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Reported 1 of {gone} missing.")
    await expect(page.get_by_role("row", name=f"{gone} 1 0 1")).to_be_visible()  # 1 missing
    await page.get_by_role("button", name="Mark ready").click()
    await expect(page.get_by_text("Status: Ready")).to_be_visible()


async def test_a_customer_at_the_counter_is_found_in_the_queue_by_name(
    world: World, page: Page
) -> None:
    theirs = await web_order_for_pickup(world, HOME, {unique("SOCK"): 1})
    await sign_in(page, world.url, "associate")
    await page.get_by_label("Find a pickup by customer or order").fill(theirs.id[-6:].upper())
    await page.get_by_label("Find a pickup by customer or order").press("Enter")
    await expect(page.get_by_role("link", name=re.compile(r"^Order "))).to_have_count(1)
    await expect(page.get_by_role("link", name=f"Order {theirs.id}")).to_be_visible()


async def test_units_missing_under_ship_to_store_arrive_by_transfer_and_are_picked_then(
    world: World, page: Page
) -> None:
    sku = unique("BOOT")
    policy = ppb.SetStorePolicyRequest(store_id=HOME, shortage=ppb.SHORTAGE_POLICY_SHIP_TO_STORE)
    await world.pickup.stub.SetStorePolicy(policy)
    try:
        await receive(world.stock.stub, sku, WAREHOUSE, 5)
        order = await web_order_for_pickup(world, HOME, {sku: 2})
        await sign_in(page, world.url, "associate")
        await page.get_by_role("link", name=f"Order {order.id}").click()
        await page.get_by_role("button", name="Start picking").click()
        await scan(page, sku)
        await page.get_by_label("Units not on the shelf").fill("1")
        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.get_by_role("button", name="Report missing").click()
        await expect(page.get_by_role("status")).to_contain_text("sent to this store")
        # The queue and the task say the unit is on its way; the task waits for it.
        await page.reload()
        await expect(page.get_by_role("row", name=f"{sku} 2 1 1 on the way here")).to_be_visible()
        await expect(page.get_by_role("button", name="Mark ready")).to_be_disabled()
        await expect(page.get_by_text("1 unit is on the way to this store")).to_be_visible()
        await shot(page, "pickup-task-units-on-the-way")

        async def made() -> spb.Transfer | None:
            listed = await world.stock.stub.ListTransfers(
                spb.ListTransfersRequest(location_id=HOME)
            )
            return next((t for t in listed.transfers if t.reference == order.id), None)

        transfer = await eventually(made, within=10)
        await world.stock.stub.ShipTransfer(spb.ShipTransferRequest(id=transfer.id))
        await page.goto(f"{world.url}/s/{HOME}/deliveries")
        coming = page.get_by_role("table", name="Transfers on their way here")
        await expect(coming).to_contain_text("for a customer collecting here")
        await coming.get_by_role("link", name=transfer.id).click()
        field = page.get_by_label("Scan the item, or type its SKU")
        await field.fill(sku)
        await field.press("Enter")
        await expect(page.get_by_role("status")).to_have_text(f"Received 1 of {sku}.")

        async def arrived() -> bool:
            queue = await world.pickup.stub.ListPickups(ppb.ListPickupsRequest(store_id=HOME))
            task = next(t for t in queue.tasks if t.order_id == order.id)
            return task.lines[0].arrived == 1

        await eventually(arrived, within=10)
        await page.goto(f"{world.url}/s/{HOME}/pickup")
        await page.get_by_role("link", name=f"Order {order.id}").click()
        await expect(page.get_by_role("row", name=f"{sku} 2 1 0")).to_be_visible()
        await scan(page, sku)
        await page.get_by_role("button", name="Mark ready").click()
        await expect(page.get_by_text("Status: Ready")).to_be_visible()
    finally:
        policy.shortage = ppb.SHORTAGE_POLICY_SHIP_TO_HOME
        await world.pickup.stub.SetStorePolicy(policy)
