"""The ReturnsService gRPC API: proto -> command -> handler -> proto, nothing more."""

from __future__ import annotations

from datetime import timedelta

import grpc

from omni.platform import validation as check
from omni.platform.auth import Access, Role, at_store
from omni.platform.errors import InvalidArgument
from omni.returns import convert
from omni.returns.domain import commands
from omni.returns.entrypoints import requests
from omni.returns.service_layer import handlers, queries
from omni.returns.service_layer.handlers import CaughtUp, FetchOrder
from omni.returns.service_layer.unit_of_work import UnitOfWork
from omni.returns.v1 import returns_pb2 as pb
from omni.returns.v1 import returns_pb2_grpc

Ctx = grpc.aio.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ReturnsService"].full_name

_ANYONE = (Role.STOREFRONT, Role.ASSOCIATE, Role.MANAGER)
# Who may call what, and where (omni.platform.auth.Scope): a caller bound to a store acts at
# that store only, by the return's receiving location (the request's, or the stored return's).
ACCESS: Access = {
    "CreateReturn": at_store(*_ANYONE),
    "ReceiveReturn": at_store(Role.ASSOCIATE, Role.MANAGER),
    "ReturnAtCounter": at_store(Role.ASSOCIATE, Role.MANAGER),
    "GetReturn": at_store(*_ANYONE),
    "ListReturns": at_store(*_ANYONE),  # location_id must name the caller's store
    "CancelReturn": at_store(*_ANYONE),
}


class ReturnsServicer(returns_pb2_grpc.ReturnsServiceServicer):
    def __init__(
        self, uow: UnitOfWork, window: timedelta, orders: FetchOrder, locations: CaughtUp
    ) -> None:
        self._uow = uow
        self._window = window
        self._fetch_order = orders
        self._locations_caught_up = locations

    async def CreateReturn(
        self, request: pb.CreateReturnRequest, context: Ctx
    ) -> pb.CreateReturnResponse:
        rma = await self._create(requests.create_return(request))
        return pb.CreateReturnResponse(rma=convert.return_to_proto(rma))

    async def ReceiveReturn(
        self, request: pb.ReceiveReturnRequest, context: Ctx
    ) -> pb.ReceiveReturnResponse:
        rma = await handlers.receive_return(self._uow, requests.receive_return(request))
        return pb.ReceiveReturnResponse(rma=convert.return_to_proto(rma))

    async def ReturnAtCounter(
        self, request: pb.ReturnAtCounterRequest, context: Ctx
    ) -> pb.ReturnAtCounterResponse:
        """Both steps checked before either runs; a retry (same key, same scans) is safe."""
        create = requests.create_return(request.create)
        received = requests.received(request.received)
        asked = {sku: qty for sku, qty, _ in create.lines}
        arrived: dict[str, int] = {}
        for r in received:
            if r.sku not in asked:
                raise InvalidArgument(f"received {r.sku}, which the return does not list")
            arrived[r.sku] = arrived.get(r.sku, 0) + r.quantity
        for sku, qty in arrived.items():
            if qty > asked[sku]:
                raise InvalidArgument(f"received {qty} of {sku}; the return lists {asked[sku]}")
        rma = await self._create(create)
        cmd = commands.ReceiveReturn(rma.id, received)
        rma = await handlers.receive_return(self._uow, cmd)
        return pb.ReturnAtCounterResponse(rma=convert.return_to_proto(rma))

    async def _create(self, cmd: commands.CreateReturn) -> handlers.Return:
        return await handlers.create_return(
            self._uow,
            cmd,
            window=self._window,
            fetch_order=self._fetch_order,
            locations_caught_up=self._locations_caught_up,
        )

    async def CancelReturn(
        self, request: pb.CancelReturnRequest, context: Ctx
    ) -> pb.CancelReturnResponse:
        rma = await handlers.cancel_return(self._uow, requests.cancel_return(request))
        return pb.CancelReturnResponse(rma=convert.return_to_proto(rma))

    async def GetReturn(self, request: pb.GetReturnRequest, context: Ctx) -> pb.GetReturnResponse:
        rma = await queries.get_return(self._uow, check.identifier("id", request.id))
        return pb.GetReturnResponse(rma=convert.return_to_proto(rma))

    async def ListReturns(
        self, request: pb.ListReturnsRequest, context: Ctx
    ) -> pb.ListReturnsResponse:
        found, token = await queries.list_returns(self._uow, requests.list_returns(request))
        return pb.ListReturnsResponse(
            returns=[convert.return_to_proto(r) for r in found], next_page_token=token
        )
