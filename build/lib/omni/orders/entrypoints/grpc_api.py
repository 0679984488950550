"""The OrdersService gRPC API: proto -> command -> handler -> proto, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from omni.orders import convert
from omni.orders.entrypoints import requests
from omni.orders.entrypoints.watch import OrderHub
from omni.orders.service_layer import handlers, queries
from omni.orders.service_layer.services import OrdersServices
from omni.orders.v1 import orders_pb2 as pb
from omni.orders.v1 import orders_pb2_grpc
from omni.platform import validation as check
from omni.platform.auth import Access, Role, roles
from omni.platform.clock import new_id

Ctx = grpc.aio.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OrdersService"].full_name
_ORDERING = roles(Role.STOREFRONT, Role.ASSOCIATE, Role.MANAGER)
ACCESS: Access = {
    "PlaceOrder": _ORDERING,
    "GetOrder": _ORDERING,
    "ListOrders": _ORDERING,
    "WatchOrder": _ORDERING,
    "CancelOrder": _ORDERING,
    "RecordShipment": roles(Role.ASSOCIATE, Role.MANAGER),
}
# Kept back from the caller's deadline, so the PENDING answer still reaches it in time.
DEADLINE_MARGIN_SECONDS = 0.2


def _decided(order: pb.Order) -> bool:
    return order.status != pb.ORDER_STATUS_PENDING


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(self, services: OrdersServices, hub: OrderHub, decision_wait: float) -> None:
        self._services = services
        self._uow = services.uow
        self._hub = hub
        self._decision_wait = decision_wait

    async def PlaceOrder(
        self, request: pb.PlaceOrderRequest, context: Ctx
    ) -> pb.PlaceOrderResponse:
        cmd = requests.place_order(request)
        budget = self._wait_budget(context)
        proposed = new_id("ord")
        # Watched before it exists: stock's decision cannot slip past unseen.
        with self._hub.watch(proposed) as watch:
            order = convert.order_to_proto(await self._services.place(cmd, proposed))
            if order.status == pb.ORDER_STATUS_PENDING and order.id == proposed:
                order = await watch.until(_decided, budget) or order
        if order.status == pb.ORDER_STATUS_PENDING and order.id != proposed:
            order = await self._decision(order.id, budget) or order  # a retry of a pending order
        return pb.PlaceOrderResponse(order=order)

    async def _decision(self, order_id: str, within: float) -> pb.Order | None:
        """The order once stock has decided, or as it is when `within` seconds are up."""
        if within <= 0:
            return None
        with self._hub.watch(order_id) as watch:
            # Read after watching: a decision made before the watch began is not missed.
            watch.offer(convert.order_to_proto(await queries.get_order(self._uow, order_id)))
            return await watch.until(_decided, within)

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
