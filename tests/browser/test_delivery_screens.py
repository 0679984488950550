"""Deliveries at this store on screen: purchase orders and transfers received by scanning what
arrived, as an associate does at the back door."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from omni.platform.clock import utcnow
from omni.platform.wire import timestamp
from omni.stock.v1 import stock_pb2 as spb
from tests.browser.conftest import HOME, WAREHOUSE, World, shot, sign_in
from tests.helpers.checks import unique
from tests.helpers.stock import level_of, receive


async def test_an_associate_receives_a_purchase_order_by_scanning_each_item(
    world: World, page: Page
) -> None:
    sku, other = unique("JEANS"), unique("BELT")
    line = spb.NewPurchaseOrderLine(sku=sku, quantity=3, expected_at=timestamp(utcnow()))
    po = (
        await world.stock.stub.CreatePurchaseOrder(
            spb.CreatePurchaseOrderRequest(
                idempotency_key=unique("po"),
                location_id=HOME,
                supplier="Acme Denim",
                reference="PO-77",
                lines=[line],
            )
        )
    ).purchase_order
    await sign_in(page, world.url, "associate")
    await page.get_by_role("link", name="Deliveries").click()
    orders = page.get_by_role("table", name="Purchase orders due here")
    await expect(
        orders.get_by_role("row", name=re.compile(f"{po.id} Acme Denim PO-77"))
    ).to_be_visible()
    await orders.get_by_role("link", name=po.id).click()
    await expect(page.get_by_role("heading", name="Purchase order PO-77")).to_be_visible()
    await expect(page.get_by_text(f"from Acme Denim · {po.id}")).to_be_visible()

    scan = page.get_by_label("Scan the item, or type its SKU")
    await scan.fill(sku)
    await scan.press("Enter")  # a scanner ends each code with Enter
    await expect(page.get_by_role("status")).to_have_text(f"Received 1 of {sku}.")
    await expect(page.get_by_role("row", name=f"{sku} 3 1 2")).to_be_visible()
    await expect(scan).to_be_focused()  # ready for the next item

    await scan.fill(other)
    await scan.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text(f"does not list {other}")
    await expect(scan).to_be_focused()  # redrawn and settled: ready again
    await page.get_by_label("Units").fill("2")
    await scan.fill(sku)
    await scan.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(f"Received 2 of {sku}.")
    await expect(page.get_by_text("received · 0 units still to come")).to_be_visible()
    await expect(scan).to_have_count(0)  # nothing more is expected on it
    await shot(page, "deliveries-po")
    level = await level_of(world.stock.stub, sku, HOME)
    assert (level.on_hand, level.incoming) == (3, 0)


async def test_a_transfer_from_the_warehouse_is_received_and_a_damaged_item_counted_so(
    world: World, page: Page
) -> None:
    sku = unique("SCARF")
    await receive(world.stock.stub, sku, WAREHOUSE, 5)
    made = await world.stock.stub.CreateTransfer(
        spb.CreateTransferRequest(
            idempotency_key=unique("trf"),
            origin_id=WAREHOUSE,
            destination_id=HOME,
            reference="refill",
            lines=[spb.NewTransferLine(sku=sku, quantity=2)],
            ready=True,
        )
    )
    await world.stock.stub.ShipTransfer(spb.ShipTransferRequest(id=made.transfer.id))
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/deliveries")
    coming = page.get_by_role("table", name="Transfers on their way here")
    await coming.get_by_role("link", name=made.transfer.id).click()
    scan = page.get_by_label("Scan the item, or type its SKU")
    await scan.fill(sku)
    await scan.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(f"Received 1 of {sku}.")
    await page.get_by_label("Damaged").check()
    await scan.fill(sku)
    await scan.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(f"Received 1 of {sku} as damaged.")
    level = await level_of(world.stock.stub, sku, HOME)
    assert (level.on_hand, level.damaged, level.incoming) == (1, 1, 0)


async def test_a_transfer_leaving_the_store_is_held_then_shipped_from_the_list(
    world: World, page: Page
) -> None:
    sku = unique("CAP")
    await receive(world.stock.stub, sku, HOME, 3)
    made = await world.stock.stub.CreateTransfer(
        spb.CreateTransferRequest(
            idempotency_key=unique("trf"),
            origin_id=HOME,
            destination_id=WAREHOUSE,
            reference="end of season",
            lines=[spb.NewTransferLine(sku=sku, quantity=2)],
        )
    )
    transfer_id = made.transfer.id
    await sign_in(page, world.url, "associate")
    await page.goto(f"{world.url}/s/{HOME}/deliveries")
    leaving = page.get_by_role("table", name="Transfers leaving here")
    row = leaving.get_by_role("row", name=re.compile(transfer_id))
    await row.get_by_role("button", name="Hold the units").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"Transfer {transfer_id} is held, ready to ship."
    )
    assert (await level_of(world.stock.stub, sku, HOME)).reserved == 2
    await row.get_by_role("button", name="Ship").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"Transfer {transfer_id} has left the store."
    )
    await expect(leaving.get_by_role("row", name=re.compile(transfer_id))).to_have_count(0)
    level = await level_of(world.stock.stub, sku, HOME)
    assert (level.on_hand, level.reserved) == (1, 0)
