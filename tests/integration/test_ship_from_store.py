"""Ship-from-store: units an order gives a store to ship become a ship task in its queue
(picked by scan, packed, shipped with a carrier and tracking number), and a store may reject
units with a reason that corrects its stock; the order re-routes them to a location that has
not rejected them, or, with none left, cancels them with a refund due. Real stock, orders and
pickup services on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as spb
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import add_location, ledger_fold, level_of, receive
from tests.integration.test_orders import order_request
from tests.integration.test_pickup import Bopis, bopis, urls

__all__ = ["urls"]  # fixture

STORE_A, STORE_B = "SHIP-A", "SHIP-B"
PRICE = 1999
FAILED = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
async def shop(urls: dict[str, str], nats_server: EmbeddedNats) -> AsyncIterator[Bopis]:
    """Two stores in the north that ship: SHIP-A is preferred, then SHIP-B."""
    async with bopis(urls, nats_server) as running:
        store = spb.LOCATION_KIND_STORE
        for store_id, priority in ((STORE_A, 1), (STORE_B, 2)):
            await add_location(
                running.stock.stub, store_id, kind=store, region="north", priority=priority
            )
        yield running


async def ship_order(shop: Bopis, sku: str, qty: int) -> opb.Order:
    reply = await shop.orders.stub.PlaceOrder(order_request(unique("k"), {sku: qty}, price=PRICE))
    assert reply.order.status == opb.ORDER_STATUS_CONFIRMED
    return reply.order


async def ship_task(shop: Bopis, location_id: str, order_id: str, **want: int) -> ppb.ShipTask:
    """The order's ship task at a location, once it shows `want` (status, or a line's fields)."""

    async def found() -> ppb.ShipTask | None:
        page = await shop.pickup.stub.ListShipTasks(
            ppb.ListShipTasksRequest(location_id=location_id)
        )
        task = next((t for t in page.tasks if t.order_id == order_id), None)
        if task is None:
            return None
        seen = {
            "status": task.status,
            **{f: getattr(task.lines[0], f) for f in want if f != "status"},
        }
        return task if all(seen[f] == v for f, v in want.items()) else None

    return await eventually(found, within=10)


async def order_now(shop: Bopis, order_id: str, done: object) -> opb.Order:
    async def reached() -> opb.Order | None:
        order = (await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order_id))).order
        return order if done(order) else None  # type: ignore[operator]

    return await eventually(reached, within=10)


async def pick_all(shop: Bopis, task: ppb.ShipTask) -> ppb.ShipTask:
    stub = shop.pickup.stub
    await stub.StartShipTask(ppb.StartShipTaskRequest(id=task.id, associate_id="a-1"))
    for line in task.lines:
        for n in range(line.quantity - line.rejected - line.picked):
            pick = ppb.RecordShipPickRequest(
                id=task.id, scan_id=f"{task.id}-{line.sku}-{n}", sku=line.sku
            )
            assert not (await stub.RecordShipPick(pick)).duplicate
            assert (await stub.RecordShipPick(pick)).duplicate  # resent: harmless
    return (await stub.GetShipTask(ppb.GetShipTaskRequest(id=task.id))).task


async def test_a_store_picks_packs_and_ships_an_order_and_stock_commits_it(shop: Bopis) -> None:
    sku = unique("SFS")
    await receive(shop.stock.stub, sku, STORE_A, 5)
    order = await ship_order(shop, sku, 2)
    assert order.lines[0].allocations[0].location_id == STORE_A
    task = await ship_task(shop, STORE_A, order.id)
    assert (task.status, task.lines[0].quantity, task.ship_to_region) == (
        ppb.SHIP_TASK_STATUS_PLACED,
        2,
        "north",
    )
    stub = shop.pickup.stub
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # nothing picked yet
        await stub.PackShipTask(ppb.PackShipTaskRequest(id=task.id))
    assert refused.value.code() == FAILED
    task = await pick_all(shop, task)
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # one more than the order has
        await stub.RecordShipPick(ppb.RecordShipPickRequest(id=task.id, scan_id="x", sku=sku))
    assert refused.value.code() == FAILED
    packed = (await stub.PackShipTask(ppb.PackShipTaskRequest(id=task.id, packages=1))).task
    assert packed.status == ppb.SHIP_TASK_STATUS_PACKED
    out = ppb.ShipShipTaskRequest(id=task.id, carrier="DHL", tracking_number="JD0001")
    shipped = (await stub.ShipShipTask(out)).task
    assert shipped.status == ppb.SHIP_TASK_STATUS_SHIPPED and shipped.lines[0].shipped == 2
    again = (await stub.ShipShipTask(out)).task  # resent: harmless
    assert again.version == shipped.version

    done = await order_now(shop, order.id, lambda o: o.status == opb.ORDER_STATUS_FULFILLED)
    (shipment,) = done.shipments
    assert (shipment.location_id, shipment.carrier, shipment.tracking_number) == (
        STORE_A,
        "DHL",
        "JD0001",
    )
    assert [(ln.sku, ln.quantity) for ln in shipment.lines] == [(sku, 2)]

    async def committed() -> spb.StockLevel | None:
        level = await level_of(shop.stock.stub, sku, STORE_A)
        return level if (level.on_hand, level.reserved) == (3, 0) else None

    level = await eventually(committed)
    fold = await ledger_fold(shop.stock.stub, sku, STORE_A)
    assert (fold.on_hand, fold.reserved) == (level.on_hand, level.reserved)


async def test_rejected_units_are_rerouted_never_back_and_cancelled_when_none_is_left(
    shop: Bopis,
) -> None:
    sku = unique("REJ")
    await receive(shop.stock.stub, sku, STORE_A, 5)
    await receive(shop.stock.stub, sku, STORE_B, 4)
    events = await shop.orders.bus.jetstream().subscribe(
        "orders.events.line_rejected", deliver_policy=DeliverPolicy.NEW
    )
    order = await ship_order(shop, sku, 2)
    task_a = await ship_task(shop, STORE_A, order.id)

    # SHIP-A has none: its on_hand of the SKU becomes zero, and SHIP-B gets the units.
    reject = ppb.RejectShipUnitsRequest(
        id=task_a.id,
        sku=sku,
        quantity=2,
        reason=cpb.REJECTION_REASON_NOT_IN_STOCK,
        associate_id="a-1",
        rejection_id="r-1",
    )
    task_a = (await shop.pickup.stub.RejectShipUnits(reject)).task
    assert task_a.status == ppb.SHIP_TASK_STATUS_CANCELLED and task_a.lines[0].rejected == 2
    first = orders_msg.OrderChanged.FromString((await events.next_msg(5)).data)
    assert first.order.lines[0].reallocating == 2 and first.refund_due == 0
    task_b = await ship_task(shop, STORE_B, order.id)
    assert task_b.lines[0].quantity == 2

    async def zeroed() -> spb.StockLevel | None:
        level = await level_of(shop.stock.stub, sku, STORE_A)
        return level if (level.on_hand, level.reserved) == (0, 0) else None

    await eventually(zeroed)
    page = await shop.stock.stub.ListMovements(
        spb.ListMovementsRequest(sku=sku, location_id=STORE_A)
    )
    kinds = [(m.kind, m.on_hand_delta, m.actor) for m in page.movements[-2:]]
    assert kinds == [
        (spb.MOVEMENT_KIND_ADJUSTMENT, -2, "a-1"),
        (spb.MOVEMENT_KIND_COUNT, -3, "a-1"),
    ]

    # SHIP-B finds one damaged: moved to damaged there; nowhere else may have it (SHIP-A
    # rejected the line, even if it had stock again), so it is cancelled with a refund.
    await receive(shop.stock.stub, sku, STORE_A, 5)
    reject.id, reject.quantity, reject.reason = task_b.id, 1, cpb.REJECTION_REASON_DAMAGED
    await shop.pickup.stub.RejectShipUnits(reject)
    second = orders_msg.OrderChanged.FromString((await events.next_msg(5)).data)
    assert second.order.lines[0].reallocating == 1
    last = orders_msg.OrderChanged.FromString((await events.next_msg(5)).data)
    assert last.refund_due == PRICE and last.order.lines[0].cancelled == 1
    line = (await order_now(shop, order.id, lambda o: o.lines[0].cancelled == 1)).lines[0]
    assert [(r.location_id, r.quantity, r.reason) for r in line.rejections] == [
        (STORE_A, 2, cpb.REJECTION_REASON_NOT_IN_STOCK),
        (STORE_B, 1, cpb.REJECTION_REASON_DAMAGED),
    ]

    async def moved_to_damaged() -> bool:  # stock applies the write-off when orders asks
        level = await level_of(shop.stock.stub, sku, STORE_B)
        return (level.on_hand, level.reserved, level.damaged) == (3, 1, 1)

    await eventually(moved_to_damaged)
    level_a = await level_of(shop.stock.stub, sku, STORE_A)
    assert level_a.reserved == 0  # never given the line back

    # The one left ships from SHIP-B; the order is fulfilled with the rest refunded.
    task_b = await pick_all(shop, await ship_task(shop, STORE_B, order.id, rejected=1))
    await shop.pickup.stub.PackShipTask(ppb.PackShipTaskRequest(id=task_b.id))
    out = ppb.ShipShipTaskRequest(id=task_b.id, carrier="UPS", tracking_number="1Z9")
    await shop.pickup.stub.ShipShipTask(out)
    done = await order_now(shop, order.id, lambda o: o.status == opb.ORDER_STATUS_FULFILLED)
    assert done.total == PRICE

    async def committed() -> bool:  # stock commits when orders tells it (NATS)
        level = await level_of(shop.stock.stub, sku, STORE_B)
        return (level.on_hand, level.reserved, level.damaged) == (2, 0, 1)

    await eventually(committed)
    for store in (STORE_A, STORE_B):
        fold = await ledger_fold(shop.stock.stub, sku, store)
        level = await level_of(shop.stock.stub, sku, store)
        assert (fold.on_hand, fold.reserved, fold.damaged) == (
            level.on_hand,
            level.reserved,
            level.damaged,
        )


async def test_units_shipped_by_a_desk_or_cancelled_close_the_task(shop: Bopis) -> None:
    sku = unique("DESK")
    await receive(shop.stock.stub, sku, STORE_A, 9)
    order = await ship_order(shop, sku, 3)
    task = await ship_task(shop, STORE_A, order.id)
    desk = opb.RecordShipmentRequest(
        order_id=order.id,
        shipment_id="desk-1",
        location_id=STORE_A,
        lines=[opb.ShipmentLine(sku=sku, quantity=3)],
        carrier="DPD",
        tracking_number="D1",
    )
    await shop.orders.stub.RecordShipment(desk)
    task = await ship_task(shop, STORE_A, order.id, status=ppb.SHIP_TASK_STATUS_SHIPPED)
    assert task.lines[0].shipped == 3

    cancelled = await ship_order(shop, sku, 2)
    task = await ship_task(shop, STORE_A, cancelled.id)
    await shop.pickup.stub.StartShipTask(ppb.StartShipTaskRequest(id=task.id, associate_id="a"))
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=cancelled.id))
    task = await ship_task(shop, STORE_A, cancelled.id, status=ppb.SHIP_TASK_STATUS_CANCELLED)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        pick = ppb.RecordShipPickRequest(id=task.id, scan_id="late", sku=sku)
        await shop.pickup.stub.RecordShipPick(pick)
    assert refused.value.code() == FAILED


async def test_a_store_rejecting_units_the_reason_mismatch_or_no_variance_corrects_stock(
    shop: Bopis,
) -> None:
    sku = unique("VAR")
    await receive(shop.stock.stub, sku, STORE_A, 6)
    await receive(shop.stock.stub, sku, STORE_B, 6)
    order = await ship_order(shop, sku, 4)
    task = await ship_task(shop, STORE_A, order.id)
    reasons = (cpb.REJECTION_REASON_MISMATCH, cpb.REJECTION_REASON_NO_VARIANCE)
    for n, reason in enumerate(reasons):
        reject = ppb.RejectShipUnitsRequest(
            id=task.id,
            sku=sku,
            quantity=1,
            reason=reason,
            associate_id="a-2",
            rejection_id=f"r-{n}",
        )
        reply = await shop.pickup.stub.RejectShipUnits(reject)
        again = await shop.pickup.stub.RejectShipUnits(reject)  # resent: nothing changes
        assert (reply.duplicate, again.duplicate, again.task.version) == (
            False,
            True,
            reply.task.version,
        )
        task = reply.task
    assert (task.status, task.lines[0].rejected) == (ppb.SHIP_TASK_STATUS_PLACED, 2)

    async def corrected() -> spb.StockLevel | None:
        level = await level_of(shop.stock.stub, sku, STORE_A)
        # 6 on hand, 4 held: a mismatch takes one off hand, no variance only frees one.
        return level if (level.on_hand, level.reserved) == (5, 2) else None

    await eventually(corrected)

    def held_at(order: opb.Order) -> dict[str, int]:
        held: dict[str, int] = {}
        for a in order.lines[0].allocations:
            held[a.location_id] = held.get(a.location_id, 0) + a.quantity
        return held

    rerouted = await order_now(shop, order.id, lambda o: not o.lines[0].reallocating)
    assert held_at(rerouted) == {STORE_A: 2, STORE_B: 2}
    await ship_task(shop, STORE_B, order.id, quantity=2)


async def test_a_rejection_gives_back_the_place_it_took_in_the_stores_daily_capacity(
    shop: Bopis,
) -> None:
    stock = shop.stock.stub
    await stock.SetLocationCapacity(
        spb.SetLocationCapacityRequest(location_id=STORE_A, daily_capacity=5)
    )
    sku = unique("CAPR")
    await receive(stock, sku, STORE_A, 3)
    await receive(stock, sku, STORE_B, 3)
    before = (await stock.GetLocation(spb.GetLocationRequest(id=STORE_A))).location.taken_today
    order = await ship_order(shop, sku, 1)
    taken = (await stock.GetLocation(spb.GetLocationRequest(id=STORE_A))).location.taken_today
    assert taken == before + 1
    task = await ship_task(shop, STORE_A, order.id)
    reject = ppb.RejectShipUnitsRequest(
        id=task.id,
        sku=sku,
        quantity=1,
        reason=cpb.REJECTION_REASON_NO_VARIANCE,
        associate_id="a-1",
        rejection_id="r-1",
    )
    await shop.pickup.stub.RejectShipUnits(reject)
    await ship_task(shop, STORE_B, order.id)  # re-routed

    async def given_back() -> bool:
        location = (await stock.GetLocation(spb.GetLocationRequest(id=STORE_A))).location
        return location.taken_today == before

    await eventually(given_back)
    level = await level_of(stock, sku, STORE_A)
    assert (level.on_hand, level.reserved) == (3, 0)  # no variance: nothing written off


async def test_units_sent_or_rejected_after_the_order_was_cancelled_are_taken_off_hand(
    shop: Bopis,
) -> None:
    """A store ships (or rejects) while the order's cancellation is on its way to it: the
    units are gone all the same, so stock takes them off hand, and customer service hears."""
    sku = unique("LATE")
    await receive(shop.stock.stub, sku, STORE_A, 5)
    order = await ship_order(shop, sku, 3)
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=order.id))

    async def released() -> bool:
        return (await level_of(shop.stock.stub, sku, STORE_A)).reserved == 0

    await eventually(released)
    js = shop.orders.bus.jetstream()
    late = await js.subscribe(
        "orders.events.shipped_after_cancel", deliver_policy=DeliverPolicy.NEW
    )
    task = ppb.ShipTask(id="shp_late", order_id=order.id, location_id=STORE_A, associate_id="a-9")
    shipped = pickup_msg.ShipTaskChanged(
        event_id=unique("evt"),
        task=task,
        shipment=pickup_msg.ShipTaskShipment(
            id="shp_late:1",
            lines=[pickup_msg.ShipTaskUnits(sku=sku, quantity=2)],
            carrier="DHL",
            tracking_number="JD9",
        ),
    )
    rejected = pickup_msg.ShipTaskChanged(
        event_id=unique("evt"),
        task=task,
        rejection=pickup_msg.ShipTaskRejection(
            sku=sku, quantity=1, reason=cpb.REJECTION_REASON_MISMATCH, associate_id="a-9"
        ),
    )
    for subject, event in (("shipped", shipped), ("rejected", rejected)):
        for _ in range(2):  # redelivered: applied once
            await js.publish(f"pickup.events.ship.{subject}", event.SerializeToString())
    told = orders_msg.OrderChanged.FromString((await late.next_msg(5)).data)
    assert (told.order.status, told.shipment.tracking_number) == (opb.ORDER_STATUS_CANCELLED, "JD9")

    async def taken_off_hand() -> bool:
        level = await level_of(shop.stock.stub, sku, STORE_A)
        return (level.on_hand, level.reserved) == (2, 0)  # 5, less 2 sent and 1 not there

    await eventually(taken_off_hand)
    page = await shop.stock.stub.ListMovements(
        spb.ListMovementsRequest(sku=sku, location_id=STORE_A)
    )
    assert sorted(m.on_hand_delta for m in page.movements[-2:]) == [-2, -1]
