"""Deliveries at this store on screen: purchase orders and transfers received by scanning what
arrived, as an associate does at the back door."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from playwright.async_api import Page, expect

from omni.platform.clock import utcnow
from omni.platform.natsserver import EmbeddedNats
from omni.platform.wire import timestamp
from omni.stock.v1 import stock_pb2 as spb
from tests.browser.conftest import HOME, WAREHOUSE, World, console_running, shot, sign_in
from tests.helpers.checks import unique
from tests.helpers.processes import free_port
from tests.helpers.running import running_stock
from tests.helpers.stock import add_location, level_of, receive


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
    # Every receipt the page sends, to say what went out should the page show otherwise.
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data or "") if r.url.endswith("/receive") else None,
    )
    await sign_in(page, world.url, "associate")
    await page.get_by_role("link", name="Deliveries").click()
    orders = page.get_by_role("table", name="Purchase orders due here")
    await expect(
        orders.get_by_role("row", name=re.compile(f"{po.id} Acme Denim PO-77"))
    ).to_be_visible()
    await orders.get_by_role("link", name=po.id).click()
    await expect(page.get_by_role("heading", name="Purchase order PO-77")).to_be_visible()
    await expect(page.get_by_text(f"from Acme Denim · {po.id}")).to_be_visible()
    await expect(page.get_by_text("3 units still to come")).to_be_visible()
    await expect(page.get_by_role("button", name="Close the order")).to_have_count(0)  # managers'

    scan = page.get_by_label("Scan the item, or type its SKU")
    await scan.fill(sku)
    await scan.press("Enter")  # a scanner ends each code with Enter
    await expect(page.get_by_role("status")).to_have_text(f"Received 1 of {sku}.")
    await expect(page.get_by_role("row", name=f"{sku} 3 1 2")).to_be_visible()
    await expect(scan).to_be_focused()  # ready for the next item

    await scan.fill(other)
    await scan.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text(f"does not list {other}")
    await expect(page.get_by_role("alert")).not_to_contain_text("ReceiveStock")
    await expect(scan).to_be_focused()  # redrawn and settled: ready again
    units = page.get_by_label("Units")
    await expect(units).to_have_value("1")  # the form drawn after the refusal
    await units.fill("2")
    await scan.fill(sku)
    await expect(units).to_have_value("2")
    await scan.press("Enter")
    await expect(page.get_by_text("received · 0 units still to come")).to_be_visible()
    assert len(sent) == 3 and "units=2" in sent[2], sent  # one receipt each, as typed
    await expect(scan).to_have_count(0)  # nothing more is expected on it
    await shot(page, "deliveries-po")
    level = await level_of(world.stock.stub, sku, HOME)
    assert (level.on_hand, level.incoming) == (3, 0)


async def test_a_manager_closes_a_purchase_order_whose_rest_will_not_come(
    world: World, page: Page
) -> None:
    sku = unique("COAT")
    line = spb.NewPurchaseOrderLine(sku=sku, quantity=5, expected_at=timestamp(utcnow()))
    po = (
        await world.stock.stub.CreatePurchaseOrder(
            spb.CreatePurchaseOrderRequest(
                idempotency_key=unique("po"),
                location_id=HOME,
                supplier="Northwind",
                lines=[line],
            )
        )
    ).purchase_order
    await sign_in(page, world.url, "manager")
    await page.goto(f"{world.url}/s/{HOME}/deliveries/po/{po.id}")
    scan = page.get_by_label("Scan the item, or type its SKU")
    await page.get_by_label("Units").fill("2")
    await scan.fill(sku)
    await scan.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(f"Received 2 of {sku}.")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_label("Why (for the buying team)").fill("supplier short-shipped")
    await page.get_by_role("button", name="Close the order").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Closed: nothing more is expected on this order."
    )
    await expect(page.get_by_text("closed · 3 units did not come")).to_be_visible()
    await expect(page.get_by_role("button", name="Close the order")).to_have_count(0)
    await expect(scan).to_have_count(0)
    level = await level_of(world.stock.stub, sku, HOME)
    assert (level.on_hand, level.incoming) == (2, 0)
    got = await world.stock.stub.GetPurchaseOrder(spb.GetPurchaseOrderRequest(id=po.id))
    assert got.purchase_order.status == spb.PURCHASE_ORDER_STATUS_CLOSED


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
    await expect(page.get_by_role("row", name=f"{sku} 2 2 1 0")).to_be_visible()  # 1 damaged
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
    await expect(row).to_contain_text(f"2 of {sku}")  # what to pack
    await row.get_by_role("button", name="Set the units aside").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"Transfer {transfer_id}: its units are set aside."
    )
    assert (await level_of(world.stock.stub, sku, HOME)).reserved == 2
    await row.get_by_role("button", name="Mark as shipped").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"Transfer {transfer_id} has left the store."
    )
    await expect(leaving.get_by_role("row", name=re.compile(transfer_id))).to_have_count(0)
    level = await level_of(world.stock.stub, sku, HOME)
    assert (level.on_hand, level.reserved) == (1, 0)


async def test_a_scan_stock_did_not_answer_is_offered_again_and_received_once(
    page: Page, nats_for_module: EmbeddedNats, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in ("stock", "orders", "pickup", "returns")}
    targets = {f"{name}_target": f"127.0.0.1:{port}" for name, port in ports.items()}
    database = f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}"
    sku = unique("JEANS")
    async with console_running(**nats_for_module.settings("console"), **targets) as url:
        async with running_stock(database, nats_for_module, grpc_port=ports["stock"]) as stock:
            await add_location(stock.stub, HOME, kind=spb.LOCATION_KIND_STORE)
            line = spb.NewPurchaseOrderLine(sku=sku, quantity=2, expected_at=timestamp(utcnow()))
            created = await stock.stub.CreatePurchaseOrder(
                spb.CreatePurchaseOrderRequest(
                    idempotency_key="po-1", location_id=HOME, supplier="Acme", lines=[line]
                )
            )
            po_id = created.purchase_order.id
            await sign_in(page, url, "associate")
            await page.goto(f"{url}/s/{HOME}/deliveries/po/{po_id}")
            scan = page.get_by_label("Scan the item, or type its SKU")
            await scan.fill(sku)
        # Stock is away as the scan is sent: it may or may not have gone through.
        key = page.locator("#delivery input[name=key]")
        sent_with = await key.input_value()
        await scan.press("Enter")
        await expect(page.locator("#delivery").get_by_role("alert")).to_contain_text(
            "Press Receive to send the same scan again."
        )
        await expect(scan).to_have_value(sku)
        await expect(key).to_have_value(sent_with)  # sent again, it cannot count twice
        async with running_stock(
            database, nats_for_module, grpc_port=ports["stock"], migrate_on_start=False
        ) as stock:
            done = page.get_by_role("status")
            for _ in range(10):  # pressed again until stock answers, as a person would
                await page.get_by_role("button", name="Receive").click()
                with contextlib.suppress(AssertionError):
                    await expect(done).to_have_text(f"Received 1 of {sku}.", timeout=2_000)
                    break
            await expect(done).to_have_text(f"Received 1 of {sku}.")
            assert (await level_of(stock.stub, sku, HOME)).on_hand == 1
