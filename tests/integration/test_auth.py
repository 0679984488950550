"""Every RPC of every service: refused without a token, refused for a role it does not allow,
let through for one it does, and, for a caller bound to a store, only where its rule's scope
says — tables driven by the services' own ACCESS, which fail when an RPC is added without a
rule or a store-scoped rule without a case here."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.entrypoints.grpc_api import ACCESS as ORDERS_ACCESS
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.pickup.domain.model import MAX_WRONG_CODES
from omni.pickup.entrypoints.grpc_api import ACCESS as PICKUP_ACCESS
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.pickup.v1 import pickup_pb2_grpc
from omni.platform import client
from omni.platform.auth import Access, Role, Rule, Scope, Tokens, at_store
from omni.platform.clock import utcnow
from omni.platform.natsserver import EmbeddedNats
from omni.platform.wire import timestamp
from omni.returns.entrypoints.grpc_api import ACCESS as RETURNS_ACCESS
from omni.returns.v1 import returns_pb2 as rpb
from omni.returns.v1 import returns_pb2_grpc
from omni.stock.entrypoints.grpc_api import ACCESS as STOCK_ACCESS
from omni.stock.v1 import stock_pb2 as spb
from omni.stock.v1 import stock_pb2_grpc
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import (
    TEST_CODE_KEY,
    Orders,
    Pickup,
    Returns,
    Stock,
    authorized,
    running_orders,
    running_pickup,
    running_returns,
    running_stock,
)
from tests.helpers.stock import add_location, location, receive
from tests.integration.test_orders import order_request

SERVICES: dict[str, tuple[ServiceDescriptor, Access, Any]] = {
    "stock": (
        spb.DESCRIPTOR.services_by_name["StockService"],
        STOCK_ACCESS,
        stock_pb2_grpc.StockServiceStub,
    ),
    "orders": (
        opb.DESCRIPTOR.services_by_name["OrdersService"],
        ORDERS_ACCESS,
        orders_pb2_grpc.OrdersServiceStub,
    ),
    "pickup": (
        ppb.DESCRIPTOR.services_by_name["PickupService"],
        PICKUP_ACCESS,
        pickup_pb2_grpc.PickupServiceStub,
    ),
    "returns": (
        rpb.DESCRIPTOR.services_by_name["ReturnsService"],
        RETURNS_ACCESS,
        returns_pb2_grpc.ReturnsServiceStub,
    ),
}
OK, DENIED = grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED
REFUSED = {grpc.StatusCode.UNAUTHENTICATED, DENIED}
# A token per role that may act anywhere.
ROLE_TOKENS = {
    Role.STOREFRONT: "storefront",
    Role.SCANNER: "scanner",
    Role.ASSOCIATE: "associate-anywhere",
    Role.MANAGER: "manager-anywhere",
    Role.SERVICE: "service",
}
# The test tokens bound to a store (tests/helpers/running.py): each works at OWN, never at OTHER.
OWN, OTHER, WAREHOUSE = "STORE-1", "STORE-2", "WH-1"
BOUND = {Role.ASSOCIATE: "associate", Role.MANAGER: "manager", Role.SCANNER: "scanner-store"}


def rules(scope: Scope) -> dict[str, Rule]:
    """Every `service/Method` whose rule has this scope and a role a store may bind."""
    return {
        f"{name}/{method}": rule
        for name, (_, access, _) in SERVICES.items()
        for method, rule in access.items()
        if rule.scope is scope and rule.roles & BOUND.keys()
    }


@dataclass
class Shop:
    """Every service, a warehouse and two stores; what was made, to look at it all later."""

    stock: Stock
    orders: Orders
    pickup: Pickup
    returns: Returns
    skus: set[str] = field(default_factory=set)

    def target(self, service: str) -> str:
        return f"127.0.0.1:{getattr(self, service).app.port}"


@pytest.fixture
async def shop(new_database: NewDatabase, nats_server: EmbeddedNats) -> AsyncIterator[Shop]:
    async with (
        running_stock(await new_database("stock"), nats_server) as stock,
        running_orders(await new_database("orders"), nats_server) as orders,
        running_pickup(await new_database("pickup"), nats_server) as pickup,
        running_returns(await new_database("returns"), nats_server) as returns,
    ):
        for service in (stock.app, orders.app, pickup.app, returns.app):
            await service.nats.ready.wait()
        await add_location(stock.stub, WAREHOUSE, region="north", accepts_returns=True)
        for store in (OWN, OTHER):
            await add_location(
                stock.stub,
                store,
                kind=spb.LOCATION_KIND_STORE,
                ships=True,
                pickup=True,
                accepts_returns=True,
                region="north",
            )
        yield Shop(stock, orders, pickup, returns)


# The entities a case acts on, made with the service token at a given location -------------


def new_sku(shop: Shop) -> str:
    sku = unique("SKU")
    shop.skus.add(sku)
    return sku


async def stocked(shop: Shop, location_id: str) -> str:
    sku = new_sku(shop)
    await receive(shop.stock.stub, sku, location_id, 5)
    return sku


async def reservation(shop: Shop, store: str) -> str:
    line = spb.ReserveLine(sku=await stocked(shop, store), location_id=store, quantity=1)
    request = spb.ReserveRequest(idempotency_key=unique("k"), reference="cart", lines=[line])
    return (await shop.stock.stub.Reserve(request)).reservation.id


def new_purchase_order(shop: Shop, store: str) -> spb.CreatePurchaseOrderRequest:
    line = spb.NewPurchaseOrderLine(sku=new_sku(shop), quantity=2, expected_at=timestamp(utcnow()))
    return spb.CreatePurchaseOrderRequest(
        idempotency_key=unique("po"), location_id=store, supplier="Acme", lines=[line]
    )


async def purchase_order(shop: Shop, store: str) -> spb.PurchaseOrder:
    """An open purchase order of two units of a new SKU, due at `store`."""
    request = new_purchase_order(shop, store)
    return (await shop.stock.stub.CreatePurchaseOrder(request)).purchase_order


async def new_transfer(shop: Shop, origin: str, destination: str) -> spb.CreateTransferRequest:
    line = spb.NewTransferLine(sku=await stocked(shop, origin), quantity=1)
    return spb.CreateTransferRequest(
        idempotency_key=unique("trf"), origin_id=origin, destination_id=destination, lines=[line]
    )


async def transfer(shop: Shop, origin: str, destination: str, *, step: int = 0) -> spb.Transfer:
    """A transfer of one unit from `origin` to `destination`: a draft (step 0), ready (1) or
    shipped (2)."""
    stub = shop.stock.stub
    made = (await stub.CreateTransfer(await new_transfer(shop, origin, destination))).transfer
    if step >= 1:
        made = (await stub.ReadyTransfer(spb.ReadyTransferRequest(id=made.id))).transfer
    if step >= 2:
        made = (await stub.ShipTransfer(spb.ShipTransferRequest(id=made.id))).transfer
    return made


async def pickup_order(shop: Shop, store: str) -> tuple[opb.Order, ppb.PickupTask]:
    """A confirmed order of two units to pick up at `store`, and its task there."""
    pickup = cpb.PickupAt(location_id=store)
    request = order_request(unique("k"), {await stocked(shop, store): 2}, pickup=pickup)
    order = (await shop.orders.stub.PlaceOrder(request, timeout=10)).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED

    async def opened() -> ppb.PickupTask | None:
        queue = ppb.ListPickupsRequest(store_id=store, page_size=500)
        tasks = (await shop.pickup.stub.ListPickups(queue)).tasks
        return next((t for t in tasks if t.order_id == order.id), None)

    return order, await eventually(opened, within=10)


async def picking(shop: Shop, store: str) -> ppb.PickupTask:
    _, task = await pickup_order(shop, store)
    await shop.pickup.stub.StartPicking(ppb.StartPickingRequest(id=task.id, associate_id="a-1"))
    return task


async def picked(shop: Shop, store: str) -> ppb.PickupTask:
    task = await picking(shop, store)
    [line] = task.lines
    for n in range(line.quantity):
        pick = ppb.RecordPickRequest(id=task.id, scan_id=f"pick-{n}", sku=line.sku)
        await shop.pickup.stub.RecordPick(pick)
    return task


async def ready(shop: Shop, store: str) -> tuple[ppb.PickupTask, str]:
    """A READY task and its code (opened from the ready event, as the notifier does)."""
    task = await picked(shop, store)
    events = await shop.pickup.bus.jetstream().subscribe(
        "pickup.events.ready", deliver_policy=DeliverPolicy.NEW
    )
    try:
        await shop.pickup.stub.MarkReady(ppb.MarkReadyRequest(id=task.id))
        while True:
            event = pickup_msg.PickupChanged.FromString((await events.next_msg(10)).data)
            if event.task.id == task.id:
                return task, Sealer(TEST_CODE_KEY).open(event.sealed_code)
    finally:
        await events.unsubscribe()


async def locked(shop: Shop, store: str) -> ppb.PickupTask:
    task, _ = await ready(shop, store)
    wrong = ppb.CompletePickupRequest(id=task.id, code="WRNG-CODE", associate_id="a-1")
    for _ in range(MAX_WRONG_CODES):
        with pytest.raises(grpc.aio.AioRpcError):
            await shop.pickup.stub.CompletePickup(wrong)
    return task


async def shipped(shop: Shop) -> tuple[str, str]:
    """A web order of two units shipped from the warehouse (committed in stock too)."""
    sku = await stocked(shop, WAREHOUSE)
    order = (await shop.orders.stub.PlaceOrder(order_request(unique("k"), {sku: 2}))).order
    assert order.status == opb.ORDER_STATUS_CONFIRMED
    line = opb.ShipmentLine(sku=sku, quantity=2)
    await shop.orders.stub.RecordShipment(
        opb.RecordShipmentRequest(
            order_id=order.id, shipment_id="box-1", location_id=WAREHOUSE, lines=[line]
        )
    )
    held = spb.GetReservationRequest(id=order.lines[0].allocations[0].reservation_id)

    async def committed() -> bool:
        found = (await shop.stock.stub.GetReservation(held)).reservation
        return found.status == spb.RESERVATION_STATUS_COMMITTED

    await eventually(committed, within=10)
    return order.id, sku


def return_request(order_id: str, sku: str, store: str) -> rpb.CreateReturnRequest:
    return rpb.CreateReturnRequest(
        idempotency_key=unique("ret"),
        order_id=order_id,
        channel=cpb.CHANNEL_POS,
        lines=[rpb.CreateReturnLine(sku=sku, quantity=1, reason="too small")],
        location_id=store,
    )


async def opened_return(shop: Shop, store: str) -> tuple[rpb.Return, str, str]:
    """A return of one of the order's two units opened at `store` (so returns knows the
    order and the store), the order and its SKU: one unit may still be returned."""
    order_id, sku = await shipped(shop)
    request = return_request(order_id, sku, store)

    async def opened() -> rpb.Return | None:
        try:
            return (await shop.returns.stub.CreateReturn(request)).rma
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:  # still reading events: retry
                raise
            return None

    return await eventually(opened, within=10), order_id, sku


def arrived(sku: str) -> rpb.ReceivedLine:
    return rpb.ReceivedLine(
        sku=sku, quantity=1, condition=rpb.CONDITION_SELLABLE, scan_id=unique("scan")
    )


# Each case: the request for the RPC, acting on something at `store` -------------------------

Build = Callable[[Shop, str], Awaitable[Message]]


async def _scan(shop: Shop, store: str) -> Message:
    return spb.ScanRequest(
        scan_id=unique("scan"),
        device_id="gun-1",
        kind=spb.SCAN_KIND_RECEIVE,
        sku=new_sku(shop),
        location_id=store,
        quantity=1,
    )


async def _ship(shop: Shop, store: str) -> Message:
    order, _ = await pickup_order(shop, store)
    line = opb.ShipmentLine(sku=order.lines[0].sku, quantity=2)
    return opb.RecordShipmentRequest(
        order_id=order.id, shipment_id="bag-1", location_id=store, lines=[line]
    )


async def ship_task(shop: Shop, store: str, step: int = 0) -> ppb.ShipTask:
    """A ship order's task at the store (its only stock): placed, or started (step 1)."""
    request = order_request(unique("k"), {await stocked(shop, store): 2})
    order = (await shop.orders.stub.PlaceOrder(request)).order

    async def opened() -> ppb.ShipTask | None:
        queue = ppb.ListShipTasksRequest(location_id=store, page_size=500)
        tasks = (await shop.pickup.stub.ListShipTasks(queue)).tasks
        return next((t for t in tasks if t.order_id == order.id), None)

    task = await eventually(opened, within=10)
    stub = shop.pickup.stub
    if step:
        await stub.StartShipTask(ppb.StartShipTaskRequest(id=task.id, associate_id="a-1"))
    return task


async def _picked_ship_task(shop: Shop, store: str) -> ppb.ShipTask:
    task = await ship_task(shop, store, step=1)
    sku = task.lines[0].sku
    for n in range(2):
        pick = ppb.RecordShipPickRequest(id=task.id, scan_id=f"s{n}", sku=sku)
        await shop.pickup.stub.RecordShipPick(pick)
    return task


async def _packed_ship_task(shop: Shop, store: str) -> ppb.ShipTask:
    task = await _picked_ship_task(shop, store)
    await shop.pickup.stub.PackShipTask(ppb.PackShipTaskRequest(id=task.id))
    return task


async def _pick(shop: Shop, store: str) -> Message:
    task = await picking(shop, store)
    return ppb.RecordPickRequest(id=task.id, scan_id="pick-0", sku=task.lines[0].sku)


async def _short(shop: Shop, store: str) -> Message:
    task = await picking(shop, store)
    sku = task.lines[0].sku
    return ppb.ReportShortageRequest(id=task.id, sku=sku, missing=1, associate_id="a-1")


async def _complete(shop: Shop, store: str) -> Message:
    task, code = await ready(shop, store)  # the right code: only the store may stop it
    return ppb.CompletePickupRequest(id=task.id, code=code, associate_id="a-1")


async def _create_return(shop: Shop, store: str) -> Message:
    _, order_id, sku = await opened_return(shop, store)
    return return_request(order_id, sku, store)


async def _receive_return(shop: Shop, store: str) -> Message:
    rma, _, sku = await opened_return(shop, store)
    return rpb.ReceiveReturnRequest(id=rma.id, lines=[arrived(sku)])


async def _counter(shop: Shop, store: str) -> Message:
    _, order_id, sku = await opened_return(shop, store)
    return rpb.ReturnAtCounterRequest(
        create=return_request(order_id, sku, store), received=[arrived(sku)]
    )


STORE_CASES: dict[str, Build] = {
    "stock/ReceiveStock": lambda shop, store: _ready(
        spb.ReceiveStockRequest(sku=new_sku(shop), location_id=store, quantity=1)
    ),
    "stock/AdjustStock": lambda shop, store: _with_sku(
        shop, store, lambda sku: spb.AdjustStockRequest(sku=sku, location_id=store, delta=-1)
    ),
    "stock/SetSafetyStock": lambda shop, store: _with_sku(
        shop,
        store,
        lambda sku: spb.SetSafetyStockRequest(sku=sku, location_id=store, safety_stock=1),
    ),
    "stock/ListMovements": lambda shop, store: _with_sku(
        shop, store, lambda sku: spb.ListMovementsRequest(sku=sku, location_id=store)
    ),
    "stock/Scan": _scan,
    "stock/SetLocationCapacity": lambda shop, store: _ready(
        spb.SetLocationCapacityRequest(location_id=store, paused=True)
    ),
    "stock/CreatePurchaseOrder": lambda shop, store: _ready(new_purchase_order(shop, store)),
    "stock/CreateTransfer": lambda shop, store: new_transfer(shop, store, WAREHOUSE),
    "stock/ReadyTransfer": lambda shop, store: _then(
        transfer(
            shop,
            store,
            WAREHOUSE,
        ),
        lambda t: spb.ReadyTransferRequest(id=t.id),
    ),
    "stock/ShipTransfer": lambda shop, store: _then(
        transfer(shop, store, WAREHOUSE, step=1),
        lambda t: spb.ShipTransferRequest(id=t.id),
    ),
    "stock/CancelTransfer": lambda shop, store: _then(
        transfer(
            shop,
            store,
            WAREHOUSE,
        ),
        lambda t: spb.CancelTransferRequest(id=t.id),
    ),
    "stock/CloseTransfer": lambda shop, store: _then(
        transfer(shop, WAREHOUSE, store, step=2), lambda t: spb.CloseTransferRequest(id=t.id)
    ),
    "stock/ReceiveTransfer": lambda shop, store: _then(
        transfer(shop, WAREHOUSE, store, step=2),
        lambda t: spb.ReceiveTransferRequest(
            id=t.id,
            idempotency_key=unique("k"),
            lines=[spb.ArrivedLine(sku=t.lines[0].sku, accepted=1)],
        ),
    ),
    "stock/ReceivePurchaseOrder": lambda shop, store: _then(
        purchase_order(shop, store),
        lambda po: spb.ReceivePurchaseOrderRequest(
            id=po.id,
            idempotency_key=unique("k"),
            lines=[spb.ReceivedLine(sku=po.lines[0].sku, quantity=1)],
        ),
    ),
    "stock/CancelPurchaseOrder": lambda shop, store: _then(
        purchase_order(shop, store), lambda po: spb.CancelPurchaseOrderRequest(id=po.id)
    ),
    "stock/ClosePurchaseOrder": lambda shop, store: _then(
        purchase_order(shop, store), lambda po: spb.ClosePurchaseOrderRequest(id=po.id)
    ),
    "stock/AmendPurchaseOrder": lambda shop, store: _then(
        purchase_order(shop, store),
        lambda po: spb.AmendPurchaseOrderRequest(
            id=po.id, lines=[spb.PurchaseOrderAmendment(sku=po.lines[0].sku, quantity=1)]
        ),
    ),
    "stock/Commit": lambda shop, store: _then(
        reservation(shop, store), lambda rid: spb.CommitRequest(reservation_id=rid)
    ),
    "stock/GetReservation": lambda shop, store: _then(
        reservation(shop, store), lambda rid: spb.GetReservationRequest(id=rid)
    ),
    "orders/CancelOrder": lambda shop, store: _then(
        pickup_order(shop, store), lambda made: opb.CancelOrderRequest(id=made[0].id)
    ),
    "orders/RecordShipment": _ship,
    "pickup/ListPickups": lambda shop, store: _ready(ppb.ListPickupsRequest(store_id=store)),
    "pickup/GetPickup": lambda shop, store: _then(
        pickup_order(shop, store), lambda made: ppb.GetPickupRequest(id=made[1].id)
    ),
    "pickup/StartPicking": lambda shop, store: _then(
        pickup_order(shop, store),
        lambda made: ppb.StartPickingRequest(id=made[1].id, associate_id="a-1"),
    ),
    "pickup/RecordPick": _pick,
    "pickup/ReportShortage": _short,
    "pickup/MarkReady": lambda shop, store: _then(
        picked(shop, store), lambda task: ppb.MarkReadyRequest(id=task.id)
    ),
    "pickup/CompletePickup": _complete,
    "pickup/UnlockPickup": lambda shop, store: _then(
        locked(shop, store), lambda task: ppb.UnlockPickupRequest(id=task.id, manager_id="m-1")
    ),
    "pickup/SetStorePolicy": lambda shop, store: _ready(
        ppb.SetStorePolicyRequest(store_id=store, shortage=ppb.SHORTAGE_POLICY_CANCEL)
    ),
    "pickup/GetStorePolicy": lambda shop, store: _ready(ppb.GetStorePolicyRequest(store_id=store)),
    "pickup/ListShipTasks": lambda shop, store: _ready(ppb.ListShipTasksRequest(location_id=store)),
    "pickup/GetShipTask": lambda shop, store: _then(
        ship_task(shop, store), lambda t: ppb.GetShipTaskRequest(id=t.id)
    ),
    "pickup/StartShipTask": lambda shop, store: _then(
        ship_task(shop, store), lambda t: ppb.StartShipTaskRequest(id=t.id, associate_id="a-1")
    ),
    "pickup/RecordShipPick": lambda shop, store: _then(
        ship_task(shop, store, step=1),
        lambda t: ppb.RecordShipPickRequest(id=t.id, scan_id="s0", sku=t.lines[0].sku),
    ),
    "pickup/PackShipTask": lambda shop, store: _then(
        _picked_ship_task(shop, store), lambda t: ppb.PackShipTaskRequest(id=t.id)
    ),
    "pickup/ShipShipTask": lambda shop, store: _then(
        _packed_ship_task(shop, store),
        lambda t: ppb.ShipShipTaskRequest(id=t.id, carrier="DHL", tracking_number="T1"),
    ),
    "pickup/RejectShipUnits": lambda shop, store: _then(
        ship_task(shop, store),
        lambda t: ppb.RejectShipUnitsRequest(
            id=t.id,
            sku=t.lines[0].sku,
            quantity=1,
            reason=cpb.REJECTION_REASON_NO_VARIANCE,
            associate_id="a-1",
            rejection_id="r-1",
        ),
    ),
    "returns/CreateReturn": _create_return,
    "returns/ReceiveReturn": _receive_return,
    "returns/ReturnAtCounter": _counter,
    "returns/CancelReturn": lambda shop, store: _then(
        opened_return(shop, store), lambda made: rpb.CancelReturnRequest(id=made[0].id)
    ),
    "returns/GetReturn": lambda shop, store: _then(
        opened_return(shop, store), lambda made: rpb.GetReturnRequest(id=made[0].id)
    ),
    "returns/ListReturns": lambda shop, store: _ready(rpb.ListReturnsRequest(location_id=store)),
}
# Reads every store needs: a store-bound caller makes them about another store.
NETWORK_CASES: dict[str, Build] = {
    "stock/GetLocation": lambda shop, store: _ready(spb.GetLocationRequest(id=store)),
    "stock/ListLocations": lambda shop, store: _ready(spb.ListLocationsRequest()),
    "stock/ListChannelViews": lambda shop, store: _ready(spb.ListChannelViewsRequest()),
    "stock/ListPresalePolicies": lambda shop, store: _ready(spb.ListPresalePoliciesRequest()),
    "stock/GetSourcingRules": lambda shop, store: _ready(
        spb.GetSourcingRulesRequest(channel=cpb.CHANNEL_WEB)
    ),
    "stock/GetAvailability": lambda shop, store: _with_sku(
        shop, store, lambda sku: spb.GetAvailabilityRequest(skus=[sku], location_ids=[store])
    ),
    "stock/WatchAvailability": lambda shop, store: _with_sku(
        shop, store, lambda sku: spb.WatchAvailabilityRequest(skus=[sku], location_ids=[store])
    ),
    "stock/ListLevels": lambda shop, store: _with_sku(
        shop, store, lambda sku: spb.ListLevelsRequest(location_id=store, sku_prefix=sku)
    ),
    "stock/LookupBarcodes": lambda shop, store: _ready(spb.LookupBarcodesRequest(codes=["0001"])),
    "stock/GetTransfer": lambda shop, store: _then(
        transfer(
            shop,
            store,
            WAREHOUSE,
        ),
        lambda t: spb.GetTransferRequest(id=t.id),
    ),
    "stock/ListTransfers": lambda shop, store: _ready(spb.ListTransfersRequest(location_id=store)),
    "stock/GetPurchaseOrder": lambda shop, store: _then(
        purchase_order(shop, store), lambda po: spb.GetPurchaseOrderRequest(id=po.id)
    ),
    "stock/ListPurchaseOrders": lambda shop, store: _ready(
        spb.ListPurchaseOrdersRequest(location_id=store)
    ),
    "orders/PlaceOrder": lambda shop, store: _with_sku(
        shop,
        store,
        lambda sku: order_request("aisle-1", {sku: 1}, pickup=cpb.PickupAt(location_id=store)),
    ),
    "orders/GetOrder": lambda shop, store: _then(
        pickup_order(shop, store), lambda made: opb.GetOrderRequest(id=made[0].id)
    ),
    "orders/ListOrders": lambda shop, store: _ready(opb.ListOrdersRequest(customer_id="cust-1")),
    "orders/WatchOrder": lambda shop, store: _then(
        pickup_order(shop, store), lambda made: opb.WatchOrderRequest(id=made[0].id)
    ),
}
# What changes every store at once: refused to a store-bound caller however it is asked.
UNBOUND_CASES: dict[str, Build] = {
    "stock/SetChannelView": lambda shop, store: _ready(
        spb.SetChannelViewRequest(
            view=spb.ChannelView(
                channel=cpb.CHANNEL_MARKETPLACE,
                buffers=[spb.ChannelBuffer(location_kind=spb.LOCATION_KIND_STORE, units=2)],
            )
        )
    ),
    "stock/SetPresalePolicy": lambda shop, store: _ready(
        spb.SetPresalePolicyRequest(
            policy=spb.PresalePolicy(
                channel=cpb.CHANNEL_WEB,
                sku=new_sku(shop),
                kind=spb.PRESALE_KIND_PREORDER,
                cap=5,
            )
        )
    ),
    "stock/SetSourcingRules": lambda shop, store: _ready(
        spb.SetSourcingRulesRequest(
            rules=spb.SourcingRules(channel=cpb.CHANNEL_APP, rules=[spb.SourcingRule()])
        )
    ),
    "stock/RegisterBarcodes": lambda shop, store: _ready(
        spb.RegisterBarcodesRequest(barcodes=[spb.Barcode(code="0001", sku=new_sku(shop))])
    ),
}


async def _ready(request: Message) -> Message:
    return request


async def _then(made: Awaitable[Any], request: Callable[[Any], Message]) -> Message:
    return request(await made)


async def _with_sku(shop: Shop, store: str, request: Callable[[str], Message]) -> Message:
    return request(await stocked(shop, store))


# Calling ------------------------------------------------------------------------------------


async def call(channel: grpc.aio.Channel, method: MethodDescriptor) -> grpc.StatusCode:
    """Calls `method` with an empty request (or stream) and returns the status code."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    try:
        if method.client_streaming:
            stream = channel.stream_stream(path)(iter(()))
            async for _ in stream:
                pass
        elif method.server_streaming:
            stream = channel.unary_stream(path)(b"")
            await stream.read()
            stream.cancel()
        else:
            await channel.unary_unary(path)(b"", timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return OK


async def invoke(channel: grpc.aio.Channel, rpc: str, request: Message) -> grpc.StatusCode:
    """Calls `service/Method` with `request` and returns the status code: of the scan's
    acknowledgement for Scan, of the first message for other streams."""
    service, name = rpc.split("/")
    descriptor, _, stub_class = SERVICES[service]
    method = descriptor.methods_by_name[name]
    stub = getattr(stub_class(channel), name)
    try:
        if method.client_streaming:  # Scan: a bad scan is answered in the stream
            ack = await stub(iter([request]), timeout=30).read()
            if ack is grpc.aio.EOF:
                return grpc.StatusCode.UNKNOWN
            return _status(ack.error.code) if ack.HasField("error") else OK
        if method.server_streaming:
            stream = stub(request, timeout=30)
            first = await stream.read()
            stream.cancel()
            return OK if first is not grpc.aio.EOF else grpc.StatusCode.UNKNOWN
        await stub(request, timeout=30)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return OK


def _status(code: int) -> grpc.StatusCode:
    return next(c for c in grpc.StatusCode if c.value[0] == code)


class Callers:
    """One channel per (service, token), closed together."""

    def __init__(self, shop: Shop, stack: contextlib.AsyncExitStack) -> None:
        self._shop, self._stack = shop, stack
        self._channels: dict[tuple[str, str], grpc.aio.Channel] = {}

    async def invoke(self, token: str, rpc: str, request: Message) -> grpc.StatusCode:
        service = rpc.split("/")[0]
        if (service, token) not in self._channels:
            channel = authorized(self._shop.target(service), token)
            self._channels[service, token] = await self._stack.enter_async_context(channel)
        return await invoke(self._channels[service, token], rpc, request)


async def everything(shop: Shop) -> list[Message]:
    """All there is to see, through the service token: levels and views, orders, pickup
    queues and policies, returns."""
    stock, pickup = shop.stock.stub, shop.pickup.stub
    seen: list[Message] = [
        await stock.GetAvailability(spb.GetAvailabilityRequest(skus=sorted(shop.skus))),
        await stock.ListChannelViews(spb.ListChannelViewsRequest()),
        await stock.ListLocations(spb.ListLocationsRequest()),
        await stock.ListPresalePolicies(spb.ListPresalePoliciesRequest()),
        await stock.GetSourcingRules(spb.GetSourcingRulesRequest(channel=cpb.CHANNEL_APP)),
        await shop.orders.stub.ListOrders(opb.ListOrdersRequest(page_size=500)),
        await shop.returns.stub.ListReturns(rpb.ListReturnsRequest(page_size=500)),
    ]
    for store in (OWN, OTHER):
        seen.append(await pickup.ListPickups(ppb.ListPickupsRequest(store_id=store, page_size=500)))
        seen.append(await pickup.GetStorePolicy(ppb.GetStorePolicyRequest(store_id=store)))
        ships = ppb.ListShipTasksRequest(location_id=store, page_size=500)
        seen.append(await pickup.ListShipTasks(ships))
    return seen


# The tests ----------------------------------------------------------------------------------


def test_every_rpc_of_every_service_has_an_access_rule() -> None:
    for name, (service, access, _) in SERVICES.items():
        assert {m.name for m in service.methods} == set(access), name


def test_every_rpc_a_store_bound_caller_may_call_has_a_case_at_another_store() -> None:
    assert set(STORE_CASES) == set(rules(Scope.STORE))
    assert set(NETWORK_CASES) == set(rules(Scope.NETWORK))
    assert set(UNBOUND_CASES) == set(rules(Scope.UNBOUND))


def test_only_scanners_associates_and_managers_are_bound_to_a_store() -> None:
    for role in ("storefront", "service"):
        with pytest.raises(ValueError, match="store"):
            Tokens([{"token": "t", "role": role, "store": OWN}])
    for role in BOUND:
        Tokens([{"token": "t", "role": role.value, "store": OWN}])


async def test_each_rpc_admits_exactly_its_roles(shop: Shop) -> None:
    for name, (service, access, _) in SERVICES.items():
        target = shop.target(name)
        async with grpc.aio.insecure_channel(target) as anonymous:
            for method in service.methods:
                assert await call(anonymous, method) == grpc.StatusCode.UNAUTHENTICATED, method.name
        for role, token_name in ROLE_TOKENS.items():
            async with authorized(target, token_name) as channel:
                for method in service.methods:
                    code = await call(channel, method)
                    allowed = role in access[method.name].roles
                    expected = "let through" if allowed else "PERMISSION_DENIED"
                    got_through = code not in REFUSED
                    assert got_through == allowed, (name, method.name, role, expected, code)


async def test_a_wrong_token_is_unauthenticated(shop: Shop) -> None:
    async with client.channel(shop.target("stock"), "not-a-token") as channel:
        method = SERVICES["stock"][0].methods_by_name["ListLocations"]
        assert await call(channel, method) == grpc.StatusCode.UNAUTHENTICATED


async def test_store_staff_and_scanners_act_at_their_own_store_only(shop: Shop) -> None:
    """Every STORE-scoped RPC, by every bound caller its rule allows, on something at
    another store: refused, and nothing anywhere changed; reads of the network go through;
    the same at their own store is done."""
    elsewhere = {rpc: await build(shop, OTHER) for rpc, build in STORE_CASES.items()}
    at_home = {rpc: await build(shop, OWN) for rpc, build in STORE_CASES.items()}
    everywhere = {rpc: await build(shop, OWN) for rpc, build in UNBOUND_CASES.items()}
    before = await everything(shop)
    async with contextlib.AsyncExitStack() as stack:
        callers = Callers(shop, stack)
        for rpc, rule in rules(Scope.STORE).items():
            for role in rule.roles & BOUND.keys():
                code = await callers.invoke(BOUND[role], rpc, elsewhere[rpc])
                assert code == DENIED, (rpc, role, code)
        for rpc, rule in rules(Scope.UNBOUND).items():
            for role in rule.roles & BOUND.keys():
                code = await callers.invoke(BOUND[role], rpc, everywhere[rpc])
                assert code == DENIED, (rpc, role, code)
        assert await everything(shop) == before
        for rpc, rule in rules(Scope.NETWORK).items():
            request = await NETWORK_CASES[rpc](shop, OTHER)
            for role in rule.roles & BOUND.keys():
                assert await callers.invoke(BOUND[role], rpc, request) == OK, (rpc, role)
        for rpc, rule in rules(Scope.STORE).items():
            role = min(rule.roles & BOUND.keys(), key=list(BOUND).index)  # once: it changes
            code = await callers.invoke(BOUND[role], rpc, at_home[rpc])
            assert code == OK, (rpc, role, code)


async def test_a_store_bound_scanner_only_scans_and_only_into_its_store(shop: Shop) -> None:
    for name, (service, _, _) in SERVICES.items():
        async with authorized(shop.target(name), "scanner-store") as channel:
            for method in service.methods:
                if method.name != "Scan":
                    assert await call(channel, method) == DENIED, (name, method.name)
    sku = await stocked(shop, OWN)
    move = spb.ScanRequest(
        scan_id="move-1",
        device_id="gun-1",
        kind=spb.SCAN_KIND_MOVE,
        sku=sku,
        location_id=OWN,
        target_location_id=OTHER,
        quantity=1,
    )
    before = await everything(shop)
    async with contextlib.AsyncExitStack() as stack:
        assert await Callers(shop, stack).invoke("scanner-store", "stock/Scan", move) == DENIED
    assert await everything(shop) == before


async def test_a_commit_resent_by_another_store_is_refused_too(shop: Shop) -> None:
    """The answer a key replays is the reservation: only for whom it is at their store."""
    commit = spb.CommitRequest(reservation_id=await reservation(shop, OTHER), idempotency_key="k")
    await shop.stock.stub.Commit(commit)
    async with contextlib.AsyncExitStack() as stack:
        assert await Callers(shop, stack).invoke("associate", "stock/Commit", commit) == DENIED


async def test_a_ship_order_is_no_stores_to_cancel(shop: Shop) -> None:
    """Not allocated at a store (shipping from the warehouse): the call centre or a manager
    bound to no store cancels it."""
    request = order_request("web-1", {await stocked(shop, WAREHOUSE): 1})
    order = (await shop.orders.stub.PlaceOrder(request)).order
    assert order.lines[0].allocations[0].location_id == WAREHOUSE
    cancel = opb.CancelOrderRequest(id=order.id)
    async with contextlib.AsyncExitStack() as stack:
        callers = Callers(shop, stack)
        assert await callers.invoke("manager", "orders/CancelOrder", cancel) == DENIED
        assert await callers.invoke("manager-anywhere", "orders/CancelOrder", cancel) == OK


async def test_a_store_rule_whose_rpc_checks_no_store_fails_loudly(shop: Shop) -> None:
    """A STORE rule on an RPC that never checks the caller's store is a bug: INTERNAL."""
    shop.stock.app.access = {**STOCK_ACCESS, "ListLocations": at_store(Role.MANAGER)}
    request = spb.ListLocationsRequest()
    async with contextlib.AsyncExitStack() as stack:
        callers = Callers(shop, stack)
        assert await callers.invoke("manager", "stock/ListLocations", request) == (
            grpc.StatusCode.INTERNAL
        )
        assert await callers.invoke("manager-anywhere", "stock/ListLocations", request) == OK


async def test_a_store_rule_whose_rpc_checks_no_store_changes_nothing(shop: Shop) -> None:
    """The unit of work refuses to commit such a call's change (INTERNAL, rolled back)."""
    shop.stock.app.access = {**STOCK_ACCESS, "UpdateLocation": at_store(Role.MANAGER)}
    renamed = location(OTHER, name="renamed by a bug", kind=spb.LOCATION_KIND_STORE)
    request = spb.UpdateLocationRequest(location=renamed)
    async with contextlib.AsyncExitStack() as stack:
        callers = Callers(shop, stack)
        assert await callers.invoke("manager", "stock/UpdateLocation", request) == (
            grpc.StatusCode.INTERNAL
        )
    found = await shop.stock.stub.GetLocation(spb.GetLocationRequest(id=OTHER))
    assert found.location.name != "renamed by a bug"


async def test_only_a_manager_overrides_the_return_window(shop: Shop) -> None:
    request = return_request("ord_1", "A", OWN)
    request.override.CopyFrom(rpb.Override(manager_id="m", reason="gift"))
    async with authorized(shop.target("returns"), "associate") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as not_a_manager:
            await returns_pb2_grpc.ReturnsServiceStub(channel).CreateReturn(request)
        assert not_a_manager.value.code() == DENIED
        assert "manager" in (not_a_manager.value.details() or "")


async def test_tokens_in_a_file_rotate_without_a_restart(
    tmp_path: Path, nats_server: EmbeddedNats
) -> None:
    """OMNI_AUTH_TOKENS_FILE (a mounted Secret): a new token works and the old one stops once
    the file changes; a file that does not parse keeps the tokens in use."""
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([{"token": "old-token", "role": "service"}]))
    database = f"sqlite+aiosqlite:///{tmp_path}/stock.db"
    settings = {"auth_tokens_file": str(tokens), "auth_tokens_check_seconds": 0.1}
    async with running_stock(database, nats_server, **settings) as stock:
        target = f"127.0.0.1:{stock.app.port}"
        method = SERVICES["stock"][0].methods_by_name["ListLocations"]
        async with (
            client.channel(target, "old-token") as old,
            client.channel(target, "new-token") as new,
        ):
            assert await call(old, method) == OK
            assert await call(new, method) == grpc.StatusCode.UNAUTHENTICATED
            tokens.write_text(json.dumps([{"token": "new-token", "role": "service"}]))

            async def rotated() -> bool:
                return await call(new, method) == OK

            await eventually(rotated, within=5)
            assert await call(old, method) == grpc.StatusCode.UNAUTHENTICATED
            tokens.write_text("[{not json")  # a bad edit: the tokens in use stay
            await asyncio.sleep(0.5)
            assert await call(new, method) == OK
