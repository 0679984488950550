"""The orders, pickup and returns servicers through grpcio-testing (tests.helpers.servicers):
order transitions, the pickup lock and expiry, the return window and quantities, with no
network. What other services' events would bring is handed to the service layer directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from omni.common.v1 import common_pb2 as cpb
from omni.orders.app import OrdersApp
from omni.orders.domain.commands import StockDecision
from omni.orders.domain.model import ALLOCATION_KEY_PREFIX
from omni.orders.settings import OrdersSettings
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.adapters import tables as pickup_tables
from omni.pickup.app import PickupApp
from omni.pickup.domain.commands import OpenTask
from omni.pickup.service_layer import handlers as pickup_handlers
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.settings import PickupSettings
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform.clock import utcnow
from omni.returns.app import ReturnsApp
from omni.returns.domain.model import KnownLocation, KnownOrder, SoldLine
from omni.returns.service_layer import handlers as returns_handlers
from omni.returns.settings import ReturnsSettings
from omni.returns.v1 import returns_pb2 as rpb
from tests.helpers.running import TEST_CODE_KEY, TEST_SETTINGS
from tests.helpers.servicers import Served, served

OK, REFUSED = grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED


def _settings(tmp_path: Path, name: str) -> dict[str, Any]:
    return {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / name}.db",
        "nats_url": "nats://127.0.0.1:1",  # never connected
        **TEST_SETTINGS,
    }


# Orders -----------------------------------------------------------------------------------


@pytest.fixture
async def orders(tmp_path: Path) -> AsyncIterator[Served[OrdersApp]]:
    # Stock's decision comes over NATS, which these tests leave out: PlaceOrder answers
    # PENDING at once, and the decision is handed to the service layer.
    settings = OrdersSettings(**_settings(tmp_path, "orders"), decision_wait_seconds=0)
    async with served(OrdersApp(settings), opb.DESCRIPTOR.services_by_name["OrdersService"]) as s:
        yield s


def place(key: str) -> opb.PlaceOrderRequest:
    return opb.PlaceOrderRequest(
        idempotency_key=key,
        channel=cpb.CHANNEL_WEB,
        customer_id="cust-1",
        currency="EUR",
        lines=[opb.PlaceOrderLine(sku="A", quantity=2, unit_price=1999)],
        ship=cpb.ShipTo(region="north", latitude=59.0, longitude=18.0),
    )


async def status_of(orders: Served[OrdersApp], order_id: str) -> int:
    return int((await orders.ok("GetOrder", opb.GetOrderRequest(id=order_id))).order.status)


async def test_an_order_is_pending_until_stock_decides_then_confirmed_once(
    orders: Served[OrdersApp],
) -> None:
    order = (await orders.ok("PlaceOrder", place("o1"), role="storefront")).order
    assert order.status == opb.ORDER_STATUS_PENDING
    again = (await orders.ok("PlaceOrder", place("o1"), role="storefront")).order
    assert again.id == order.id  # the same key is the same order
    decision = StockDecision(
        "evt-1", order.id, ALLOCATION_KEY_PREFIX + order.id, "res-1", (("A", "WH-1", 2),)
    )
    await orders.app.services.decide(decision)
    await orders.app.services.decide(decision)  # redelivered: changes nothing
    got = (await orders.ok("GetOrder", opb.GetOrderRequest(id=order.id))).order
    assert got.status == opb.ORDER_STATUS_CONFIRMED and got.version == order.version + 1
    cancelled = await orders.ok("CancelOrder", opb.CancelOrderRequest(id=order.id, reason="x"))
    assert cancelled.order.status == opb.ORDER_STATUS_CANCELLED
    answer = await orders.call("CancelOrder", opb.CancelOrderRequest(id=order.id, reason="x"))
    assert answer.code in (OK, REFUSED)  # cancelling twice is harmless or refused, never more
    assert await status_of(orders, order.id) == opb.ORDER_STATUS_CANCELLED


async def test_a_key_reused_for_another_order_is_already_exists(
    orders: Served[OrdersApp],
) -> None:
    await orders.ok("PlaceOrder", place("o1"))
    other = place("o1")
    other.lines[0].quantity = 3
    answer = await orders.call("PlaceOrder", other)
    assert answer.code is grpc.StatusCode.ALREADY_EXISTS


async def test_a_rejected_order_cannot_be_cancelled_and_unknown_ones_are_not_found(
    orders: Served[OrdersApp],
) -> None:
    order = (await orders.ok("PlaceOrder", place("o1"))).order
    await orders.app.services.decide(
        StockDecision("evt-1", order.id, ALLOCATION_KEY_PREFIX + order.id, reason="no stock")
    )
    assert await status_of(orders, order.id) == opb.ORDER_STATUS_REJECTED
    answer = await orders.call("CancelOrder", opb.CancelOrderRequest(id=order.id))
    assert answer.code is REFUSED
    missing = await orders.call("GetOrder", opb.GetOrderRequest(id="ord-missing"))
    assert missing.code is grpc.StatusCode.NOT_FOUND


# Pickup -----------------------------------------------------------------------------------


@pytest.fixture
async def pickup(tmp_path: Path) -> AsyncIterator[Served[PickupApp]]:
    settings = PickupSettings(
        **_settings(tmp_path, "pickup"), code_key=TEST_CODE_KEY, hold_seconds=3600
    )
    async with served(PickupApp(settings), ppb.DESCRIPTOR.services_by_name["PickupService"]) as s:
        yield s


async def ready_task(pickup: Served[PickupApp]) -> tuple[str, str]:
    """A task at STORE-1 for one unit, picked and READY: (its id, the customer's code)."""
    opened = OpenTask("evt-1", "ord-1", "STORE-1", "cust-1", "EUR", (("A", 1, 1999),))
    await pickup_handlers.open_task(pickup.app.uow, opened)
    await pickup_handlers.open_task(pickup.app.uow, opened)  # redelivered: still one task
    tasks = (await pickup.ok("ListPickups", ppb.ListPickupsRequest(store_id="STORE-1"))).tasks
    [task] = tasks
    await pickup.ok("StartPicking", ppb.StartPickingRequest(id=task.id, associate_id="anna"))
    pick = ppb.RecordPickRequest(id=task.id, scan_id="scan-1", sku="A", quantity=1)
    assert not (await pickup.ok("RecordPick", pick, role="associate")).duplicate
    assert (await pickup.ok("RecordPick", pick, role="associate")).duplicate
    await pickup.ok("MarkReady", ppb.MarkReadyRequest(id=task.id))
    async with pickup.app.engine.connect() as conn:
        outbox = pickup_tables.outbox
        ready = select(outbox.c.payload).where(outbox.c.subject == "pickup.events.ready")
        payload = (await conn.execute(ready)).scalar_one()
    return task.id, Sealer(TEST_CODE_KEY).open(
        pickup_msg.PickupChanged.FromString(payload).sealed_code
    )


def complete(task_id: str, code: str) -> ppb.CompletePickupRequest:
    return ppb.CompletePickupRequest(id=task_id, code=code, associate_id="anna")


async def test_five_wrong_codes_lock_a_pickup_until_a_manager_of_its_store_unlocks_it(
    pickup: Served[PickupApp],
) -> None:
    task_id, code = await ready_task(pickup)
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    for _ in range(5):
        assert (await pickup.call("CompletePickup", complete(task_id, wrong))).code is DENIED
    locked = await pickup.call("CompletePickup", complete(task_id, code))
    assert locked.code is DENIED and "locked" in locked.details
    unlock = ppb.UnlockPickupRequest(id=task_id, manager_id="mia")
    assert (await pickup.call("UnlockPickup", unlock, role="associate")).code is DENIED
    assert (await pickup.call("UnlockPickup", unlock, role="manager")).code is OK
    done = await pickup.ok("CompletePickup", complete(task_id, code), role="associate")
    assert done.task.status == ppb.PICKUP_STATUS_COLLECTED


async def test_a_pickup_not_collected_in_time_expires_and_cannot_be_collected(
    pickup: Served[PickupApp],
) -> None:
    task_id, code = await ready_task(pickup)
    assert await pickup_handlers.expire_due(pickup.app.uow, utcnow()) == 0  # not due yet
    assert await pickup_handlers.expire_due(pickup.app.uow, utcnow() + timedelta(hours=2)) == 1
    got = (await pickup.ok("GetPickup", ppb.GetPickupRequest(id=task_id))).task
    assert got.status == ppb.PICKUP_STATUS_EXPIRED
    assert (await pickup.call("CompletePickup", complete(task_id, code))).code is REFUSED


# Returns ----------------------------------------------------------------------------------


@pytest.fixture
async def returns(tmp_path: Path) -> AsyncIterator[Served[ReturnsApp]]:
    app = ReturnsApp(ReturnsSettings(**_settings(tmp_path, "returns"), window_seconds=7 * 86400))

    async def as_known(order_id: str) -> KnownOrder | None:  # the orders service's answer
        async with app.uow.reader() as repo:
            return await repo.order(order_id)

    app.api.fetch_order = as_known  # type: ignore[method-assign]
    async with served(app, rpb.DESCRIPTOR.services_by_name["ReturnsService"]) as s:
        await returns_handlers.learn_location(app.uow, KnownLocation("STORE-1", True))
        yield s


async def sold(returns: Served[ReturnsApp], order_id: str, units: int, days_ago: float) -> None:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    line = SoldLine("A", 1999, units, when)
    order = KnownOrder(order_id, "cust-1", "EUR", (line,), version=1)
    await returns_handlers.learn_order(returns.app.uow, order)


def open_return(key: str, order_id: str, qty: int, **extra: object) -> rpb.CreateReturnRequest:
    return rpb.CreateReturnRequest(
        idempotency_key=key,
        order_id=order_id,
        channel=cpb.CHANNEL_POS,
        location_id="STORE-1",
        lines=[rpb.CreateReturnLine(sku="A", quantity=qty, reason="too small")],
        **extra,  # type: ignore[arg-type]
    )


async def test_no_more_comes_back_than_was_fulfilled_counting_earlier_returns(
    returns: Served[ReturnsApp],
) -> None:
    await sold(returns, "ord-1", units=2, days_ago=1)
    assert (await returns.call("CreateReturn", open_return("r1", "ord-1", 3))).code is REFUSED
    first = await returns.ok("CreateReturn", open_return("r2", "ord-1", 1), role="associate")
    assert first.rma.lines[0].quantity == 1
    again = await returns.ok("CreateReturn", open_return("r2", "ord-1", 1), role="associate")
    assert again.rma.id == first.rma.id  # resent: the same return
    assert (await returns.call("CreateReturn", open_return("r3", "ord-1", 2))).code is REFUSED
    assert (await returns.call("CreateReturn", open_return("r4", "ord-1", 1))).code is OK


async def test_past_the_window_only_a_manager_may_override(
    returns: Served[ReturnsApp],
) -> None:
    await sold(returns, "ord-1", units=1, days_ago=8)  # the window is seven days
    late = await returns.call("CreateReturn", open_return("r1", "ord-1", 1), role="associate")
    assert late.code is REFUSED
    override = rpb.Override(manager_id="mia", reason="receipt lost in the post")
    request = open_return("r2", "ord-1", 1, override=override)
    assert (await returns.call("CreateReturn", request, role="associate")).code is DENIED
    rma = (await returns.ok("CreateReturn", request, role="manager")).rma
    assert rma.override.reason == "receipt lost in the post"
