"""Units missing at the pickup store: written off there, then re-allocated or cancelled as the
store's policy says, and the customer's order shows which."""

from __future__ import annotations

import grpc
import pytest

from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.stock.v1 import stock_pb2 as spb
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import as_domain, ledger_fold, level_of, receive
from tests.integration.test_pickup import (
    STORE,
    Bopis,
    complete,
    order_for_pickup,
    order_status,
    ready_with_code,
    shop,
    task_of,
    urls,
)

__all__ = ["shop", "urls"]  # fixtures


async def short_while_picking(
    shop: Bopis, sku: str, qty: int, missing: int, policy: int
) -> tuple[opb.Order, ppb.PickupTask]:
    """An order for `qty` of `sku` at the store, whose associate finds `missing` absent."""
    await shop.pickup.stub.SetStorePolicy(
        ppb.SetStorePolicyRequest(store_id=STORE, shortage=policy)
    )
    order = await order_for_pickup(shop, {sku: qty})
    task = await task_of(shop, order.id)
    await shop.pickup.stub.StartPicking(ppb.StartPickingRequest(id=task.id, associate_id="a-7"))
    reply = await shop.pickup.stub.ReportShortage(
        ppb.ReportShortageRequest(id=task.id, sku=sku, missing=missing, associate_id="a-7")
    )
    assert reply.policy == policy
    # Nothing left to hand over at the store: the task ends there, unless units are coming.
    coming = missing if policy == ppb.SHORTAGE_POLICY_SHIP_TO_STORE else 0
    ends = missing == qty and not coming
    status = ppb.PICKUP_STATUS_CANCELLED if ends else ppb.PICKUP_STATUS_PICKING
    line = reply.task.lines[0]
    assert (line.short, line.coming, reply.task.status) == (missing, coming, status)
    return order, reply.task


async def order_line(shop: Bopis, order_id: str, done: object) -> opb.OrderLine:
    async def settled() -> opb.OrderLine | None:
        line = (await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order_id))).order.lines[0]
        return line if done(line) else None  # type: ignore[operator]

    return await eventually(settled, within=10)


async def test_missing_units_are_written_off_and_cancelled_under_the_cancel_policy(
    shop: Bopis,
) -> None:
    a = unique("A")
    order, task = await short_while_picking(shop, a, 3, 2, ppb.SHORTAGE_POLICY_CANCEL)
    line = await order_line(shop, order.id, lambda ln: ln.cancelled == 2)
    assert line.allocations[0].quantity == 1

    async def corrected() -> spb.StockLevel | None:
        level = await level_of(shop.stock.stub, a, STORE)
        return level if (level.on_hand, level.reserved) == (3, 1) else None  # 5 received

    level = await eventually(corrected)
    page = await shop.stock.stub.ListMovements(spb.ListMovementsRequest(sku=a, location_id=STORE))
    write_off = page.movements[-1]
    assert (write_off.kind, write_off.on_hand_delta, write_off.reserved_delta) == (
        spb.MOVEMENT_KIND_ADJUSTMENT,
        -2,
        -2,
    )
    assert write_off.actor == "a-7" and write_off.reference == order.reservation_id
    assert await ledger_fold(shop.stock.stub, a, STORE) == as_domain(level)

    code = await ready_with_code(shop, task)
    await shop.pickup.stub.CompletePickup(complete(task.id, code))
    await order_status(shop, order.id, opb.ORDER_STATUS_FULFILLED)
    got = (await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))).order
    assert got.total == 1 * 1999


async def test_missing_units_are_shipped_home_from_elsewhere_under_ship_to_home(
    shop: Bopis,
) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 10)
    order, task = await short_while_picking(shop, a, 2, 1, ppb.SHORTAGE_POLICY_SHIP_TO_HOME)
    line = await order_line(shop, order.id, lambda ln: len(ln.allocations) == 2)
    moved = line.allocations[1]
    assert (moved.location_id, moved.quantity, moved.delivery) == (
        "WH-N",
        1,
        opb.DELIVERY_SHIP_TO_HOME,
    )
    assert (line.cancelled, line.reallocating) == (0, 0)
    assert (await level_of(shop.stock.stub, a, "WH-N")).reserved == 1
    ship = opb.RecordShipmentRequest(
        order_id=order.id,
        shipment_id="parcel-1",
        location_id="WH-N",
        lines=[opb.ShipmentLine(sku=a, quantity=1)],
    )
    assert (await shop.orders.stub.RecordShipment(ship)).order.status == (
        opb.ORDER_STATUS_PARTIALLY_FULFILLED
    )
    code = await ready_with_code(shop, task)
    await shop.pickup.stub.CompletePickup(complete(task.id, code))
    await order_status(shop, order.id, opb.ORDER_STATUS_FULFILLED)


async def test_missing_units_with_none_elsewhere_are_cancelled(shop: Bopis) -> None:
    a = unique("A")  # only the store ever had it
    order, _ = await short_while_picking(shop, a, 2, 2, ppb.SHORTAGE_POLICY_SHIP_TO_STORE)
    line = await order_line(shop, order.id, lambda ln: ln.cancelled == 2)
    assert line.reallocating == 0
    await order_status(shop, order.id, opb.ORDER_STATUS_CANCELLED)


async def transfer_for(shop: Bopis, reservation_id: str) -> spb.Transfer:
    page = await shop.stock.stub.ListTransfers(spb.ListTransfersRequest(location_id=STORE))
    (found,) = [t for t in page.transfers if t.for_reservation_id == reservation_id]
    return found


async def task_line(shop: Bopis, task_id: str, done: object) -> ppb.PickupLine:
    async def settled() -> ppb.PickupLine | None:
        task = (await shop.pickup.stub.GetPickup(ppb.GetPickupRequest(id=task_id))).task
        return task.lines[0] if done(task.lines[0]) else None  # type: ignore[operator]

    return await eventually(settled, within=10)


async def brought_by_transfer(
    shop: Bopis, qty: int, missing: int
) -> tuple[str, opb.Order, ppb.PickupTask, spb.Transfer]:
    """A pickup order whose store finds `missing` of `qty` absent under SHIP_TO_STORE, and
    the transfer made to bring them from the warehouse."""
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 10)
    order, task = await short_while_picking(
        shop, a, qty, missing, ppb.SHORTAGE_POLICY_SHIP_TO_STORE
    )
    line = await order_line(shop, order.id, lambda ln: len(ln.allocations) == 2)
    return a, order, task, await transfer_for(shop, line.allocations[1].reservation_id)


async def test_missing_units_under_ship_to_store_come_by_transfer_and_are_collected_there(
    shop: Bopis,
) -> None:
    a, order, task, transfer = await brought_by_transfer(shop, 3, 2)
    moved = (await order_line(shop, order.id, lambda ln: True)).allocations[1]
    # Allocated where the customer collects, waiting for a transfer from the warehouse.
    assert (moved.location_id, moved.quantity, moved.backordered, moved.delivery) == (
        STORE,
        2,
        2,
        opb.DELIVERY_SHIP_TO_STORE,
    )
    assert (transfer.origin_id, transfer.status, transfer.reference) == (
        "WH-N",
        spb.TRANSFER_STATUS_READY_TO_SHIP,
        order.id,
    )
    assert (await level_of(shop.stock.stub, a, "WH-N")).reserved == 2  # held for the transfer
    here = await level_of(shop.stock.stub, a, STORE)
    # Sold already: neither incoming nor backordered at the store, whose 2 spare units on
    # the books stay available.
    assert (here.incoming, here.backordered, here.available) == (0, 0, 2)

    # The one unit found is picked; the task cannot be ready before the rest arrives.
    await shop.pickup.stub.RecordPick(ppb.RecordPickRequest(id=task.id, scan_id="s-1", sku=a))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.pickup.stub.MarkReady(ppb.MarkReadyRequest(id=task.id))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "on their way" in (refused.value.details() or "")

    await shop.stock.stub.ShipTransfer(spb.ShipTransferRequest(id=transfer.id))
    arrived = [spb.ArrivedLine(sku=a, accepted=2)]
    receipt = spb.ReceiveTransferRequest(id=transfer.id, idempotency_key=unique("r"), lines=arrived)
    await shop.stock.stub.ReceiveTransfer(receipt)
    await shop.stock.stub.ReceiveTransfer(receipt)  # resent: harmless
    await order_line(shop, order.id, lambda ln: ln.allocations[1].backordered == 0)
    here = await level_of(shop.stock.stub, a, STORE)
    assert (here.incoming, here.backordered, here.reserved) == (0, 0, 3)  # held for the order
    assert await ledger_fold(shop.stock.stub, a, STORE) == as_domain(here)
    brought = await task_line(shop, task.id, lambda ln: ln.arrived == 2)
    assert (brought.coming, brought.picked) == (0, 1)

    latest = (await shop.pickup.stub.GetPickup(ppb.GetPickupRequest(id=task.id))).task
    code = await ready_with_code(shop, latest)
    await shop.pickup.stub.CompletePickup(complete(task.id, code))
    await order_status(shop, order.id, opb.ORDER_STATUS_FULFILLED)

    async def handed_over() -> bool:  # stock commits what orders tells it, a moment later
        here = await level_of(shop.stock.stub, a, STORE)
        return (here.reserved, here.on_hand) == (0, 5 - 2 + 2 - 3)  # in, missing, came, out

    await eventually(handed_over, within=10)


async def test_an_order_cancelled_before_its_transfer_leaves_cancels_the_transfer(
    shop: Bopis,
) -> None:
    a, order, _, transfer = await brought_by_transfer(shop, 2, 1)
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id, reason="changed mind"))

    async def cancelled() -> bool:
        return (await transfer_for(shop, transfer.for_reservation_id)).status == (
            spb.TRANSFER_STATUS_CANCELLED
        )

    await eventually(cancelled, within=10)
    warehouse = await level_of(shop.stock.stub, a, "WH-N")
    here = await level_of(shop.stock.stub, a, STORE)
    assert (warehouse.reserved, here.incoming, here.backordered, here.reserved) == (0, 0, 0, 0)


async def test_a_transfer_cancelled_at_its_origin_refunds_the_units_it_would_have_brought(
    shop: Bopis,
) -> None:
    a, order, task, transfer = await brought_by_transfer(shop, 2, 2)
    await shop.stock.stub.CancelTransfer(spb.CancelTransferRequest(id=transfer.id, reason="lost"))
    await order_status(shop, order.id, opb.ORDER_STATUS_CANCELLED)  # nothing left of it
    await order_line(shop, order.id, lambda ln: ln.cancelled == 2)
    assert (await level_of(shop.stock.stub, a, STORE)).backordered == 0

    async def ended() -> bool:
        got = (await shop.pickup.stub.GetPickup(ppb.GetPickupRequest(id=task.id))).task
        return got.status == ppb.PICKUP_STATUS_CANCELLED

    await eventually(ended, within=10)
