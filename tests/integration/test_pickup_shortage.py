"""Units missing at the pickup store: written off there, then re-allocated or cancelled as the
store's policy says, and the customer's order shows which."""

from __future__ import annotations

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
    # Nothing left to hand over at the store: the task ends there.
    status = ppb.PICKUP_STATUS_CANCELLED if missing == qty else ppb.PICKUP_STATUS_PICKING
    assert (reply.task.lines[0].short, reply.task.status) == (missing, status)
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


@pytest.mark.parametrize(
    ("policy", "delivery"),
    [
        (ppb.SHORTAGE_POLICY_SHIP_TO_HOME, opb.DELIVERY_SHIP_TO_HOME),
        (ppb.SHORTAGE_POLICY_SHIP_TO_STORE, opb.DELIVERY_SHIP_TO_STORE),
    ],
)
async def test_missing_units_are_reallocated_elsewhere_under_a_shipping_policy(
    shop: Bopis, policy: int, delivery: int
) -> None:
    a = unique("A")
    await receive(shop.stock.stub, a, "WH-N", 10)
    order, task = await short_while_picking(shop, a, 2, 1, policy)
    line = await order_line(shop, order.id, lambda ln: len(ln.allocations) == 2)
    moved = line.allocations[1]
    assert (moved.location_id, moved.quantity, moved.delivery) == ("WH-N", 1, delivery)
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
