"""The OrdersService gRPC API: proto -> command -> handler -> proto, nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from omni.orders import convert
from omni.orders.entrypoints import requests
from omni.orders.entrypoints.watch import OrderHub, OrderWatch
from omni.orders.service_layer import handlers, queries
from omni.orders.service_layer.backlog import Backlog
from omni.orders.service_layer.services import OrdersServices
from omni.orders.v1 import orders_pb2 as pb
from omni.orders.v1 import orders_pb2_grpc
from omni.platform import validation as check
from omni.platform.auth import Access, Role, at_store, network
from omni.platform.clock import new_id
from omni.platform.db import is_connection_error
from omni.platform.errors import Unavailable

Ctx = grpc.aio.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OrdersService"].full_name
_ORDERING = (Role.STOREFRONT, Role.ASSOCIATE, Role.MANAGER)
# Who may call what, and where (omni.platform.auth.Scope): a caller bound to a store acts
# there only on STORE rules (the location checked in the service layer), anywhere on NETWORK.
ACCESS: Access = {
    # Endless aisle: staff sell from any location, shipped or picked up anywhere.
    "PlaceOrder": network(*_ORDERING),
    # A return at the counter may be for a web order; a customer may ask at any store.
    "GetOrder": network(*_ORDERING),
    "ListOrders": network(*_ORDERING),
    "WatchOrder": network(*_ORDERING),
    # Its pickup store and every location still holding units of it, all the caller's: an
    # order shipping from elsewhere, or not allocated yet, is for the call centre or a manager
    # not bound to a store.
    "CancelOrder": at_store(*_ORDERING),
    "RecordShipment": at_store(Role.ASSOCIATE, Role.MANAGER),  # the location units leave from
}
# Kept back from the caller's deadline, so the PENDING answer still reaches it in time.
DEADLINE_MARGIN_SECONDS = 0.2


def _decided(order: pb.Order) -> bool:
    return order.status != pb.ORDER_STATUS_PENDING


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(
        self, services: OrdersServices, hub: OrderHub, decision_wait: float, backlog: Backlog
    ) -> None:
        self._services = services
        self._backlog = backlog
        self._uow = services.uow
        self._hub = hub
        self._decision_wait = decision_wait

    async def PlaceOrder(
        self, request: pb.PlaceOrderRequest, context: Ctx
    ) -> pb.PlaceOrderResponse:
        cmd = requests.place_order(request)
        await self._backlog.admit(cmd.idempotency_key)  # past the limit: refused, with when
        budget = self._wait_budget(context)
        proposed = new_id("ord")
        # Watched before it exists: stock's decision cannot slip past unseen.
        with self._hub.watch(proposed) as watch:
            order = convert.order_to_proto(await self._services.place(cmd, proposed))
            if order.id == proposed:
                return pb.PlaceOrderResponse(order=await self._settled(watch, order, budget))
        with self._hub.watch(order.id) as watch:  # a retry of an order placed before
            # Read after watching: a decision made before the watch began is not missed.
            order = await self._stored(order)
            return pb.PlaceOrderResponse(order=await self._settled(watch, order, budget))

    async def _settled(self, watch: OrderWatch, order: pb.Order, within: float) -> pb.Order:
        """The order once stock has decided, or as stored when `within` seconds are up.

        The decision comes as a notification, or from the store (the hub reads watched orders
        once a second: a notification can be missed); and before answering PENDING, one more
        look at the store."""
        watch.offer(order)
        latest = await watch.until(_decided, max(within, 0)) or order
        return latest if _decided(latest) else await self._stored(latest)

    async def _stored(self, order: pb.Order) -> pb.Order:
        """The order as stored now; `order` itself if the database cannot say at once."""
        try:
            async with asyncio.timeout(DEADLINE_MARGIN_SECONDS / 2):
                return convert.order_to_proto(await queries.get_order(self._uow, order.id))
        except Exception as exc:
            if not (isinstance(exc, Unavailable) or is_connection_error(exc)):  # timeout too
                raise
            return order

    def _wait_budget(self, context: Ctx) -> float:
        remaining = context.time_remaining()
        if remaining is None:
            return self._decision_wait
        return min(self._decision_wait, remaining - DEADLINE_MARGIN_SECONDS)

    async def GetOrder(self, request: pb.GetOrderRequest, context: Ctx) -> pb.GetOrderResponse:
        order = await queries.get_order(self._uow, check.identifier("id", request.id))
        return pb.GetOrderResponse(order=convert.order_to_proto(order))

    async def ListOrders(
        self, request: pb.ListOrdersRequest, context: Ctx
    ) -> pb.ListOrdersResponse:
        found, token = await queries.list_orders(self._uow, requests.list_orders(request))
        return pb.ListOrdersResponse(
            orders=[convert.order_to_proto(o) for o in found], next_page_token=token
        )

    async def WatchOrder(
        self, request: pb.WatchOrderRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchOrderResponse]:
        order_id = check.identifier("id", request.id)
        with self._hub.watch(order_id) as watch:
            watch.offer(convert.order_to_proto(await queries.get_order(self._uow, order_id)))
            while True:
                yield pb.WatchOrderResponse(order=await watch.next())

    async def CancelOrder(
        self, request: pb.CancelOrderRequest, context: Ctx
    ) -> pb.CancelOrderResponse:
        order = await handlers.cancel_order(self._uow, requests.cancel_order(request))
        return pb.CancelOrderResponse(order=convert.order_to_proto(order))

    async def RecordShipment(
        self, request: pb.RecordShipmentRequest, context: Ctx
    ) -> pb.RecordShipmentResponse:
        order = await handlers.record_shipment(self._uow, requests.record_shipment(request))
        return pb.RecordShipmentResponse(order=convert.order_to_proto(order))
