"""The StockService gRPC API: proto -> command -> handler -> proto, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from omni.platform import validation as check
from omni.platform.auth import Access, Role, at_store, current_caller, network, unbound
from omni.platform.errors import OmniError
from omni.platform.grpc_server import Refused, refused_per_message, status_for
from omni.platform.tasks import reraise_if_cancelled
from omni.platform.wire import time_from
from omni.stock import convert
from omni.stock.domain import commands
from omni.stock.domain.model import InsufficientStock
from omni.stock.entrypoints import requests
from omni.stock.entrypoints.availability import AvailabilityHub
from omni.stock.service_layer import handlers, presale, purchasing, queries, scans, transfers
from omni.stock.service_layer.services import StockServices
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

Ctx = grpc.aio.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["StockService"].full_name
MAX_PAGE_SIZE = 1000

_READERS = (Role.STOREFRONT, Role.ASSOCIATE, Role.MANAGER)
PURCHASE_ORDER_READERS = (Role.ASSOCIATE, Role.MANAGER, Role.SERVICE)
# Who may call what, and where (omni.platform.auth.Scope): a caller bound to a store acts
# there only on STORE rules (the location checked in the service layer), anywhere on NETWORK
# ones, and never on UNBOUND ones, which change every store at once.
ACCESS: Access = {
    "CreateLocation": unbound(),  # the network's shape: trusted systems only
    "UpdateLocation": unbound(),
    "SetLocationCapacity": at_store(Role.MANAGER),
    # Staff helping a customer look at every store; scanners only scan.
    "GetLocation": network(*_READERS),
    "ListLocations": network(*_READERS),
    # The request's location.
    "ReceiveStock": at_store(Role.MANAGER),
    "AdjustStock": at_store(Role.MANAGER),
    "SetSafetyStock": at_store(Role.MANAGER),
    "ListMovements": at_store(Role.MANAGER),  # a store's ledger is its own
    "SetChannelView": unbound(Role.MANAGER),  # every location of a kind, network-wide
    "ListChannelViews": network(*_READERS),
    # Selling ahead is a channel's terms network-wide; the storefront reads them to say so.
    "SetPresalePolicy": unbound(Role.MANAGER),
    "ListPresalePolicies": network(*_READERS),
    "SetSourcingRules": unbound(Role.MANAGER),
    "GetSourcingRules": network(*_READERS),
    # Every location a scan touches (a MOVE's target too); a manager counts (COUNT) through it.
    "Scan": at_store(Role.SCANNER, Role.MANAGER),
    "RegisterBarcodes": unbound(Role.MANAGER),  # one catalogue: a code remapped moves every store
    "LookupBarcodes": network(*_READERS),
    # Availability: an associate helping a customer sees other stores.
    "GetAvailability": network(*_READERS),
    "WatchAvailability": network(*_READERS),
    "ListLevels": network(*_READERS),
    # The storefront (never bound) holds and sells from every location.
    "Reserve": network(Role.STOREFRONT),
    "Release": network(Role.STOREFRONT),
    "Allocate": network(Role.STOREFRONT),
    # The locations it takes units from: the lines named, else every line of the reservation.
    "Commit": at_store(Role.ASSOCIATE, Role.MANAGER),
    "GetReservation": at_store(*_READERS),  # one holding something at the caller's store
    # Purchase orders: the location they deliver to. Staff see what is coming anywhere (a
    # customer asks); a store's associates receive its deliveries, its manager orders.
    "CreatePurchaseOrder": at_store(Role.MANAGER),
    "GetPurchaseOrder": network(*PURCHASE_ORDER_READERS),
    "ListPurchaseOrders": network(Role.ASSOCIATE, Role.MANAGER),
    "ReceivePurchaseOrder": at_store(Role.ASSOCIATE, Role.MANAGER),
    "CancelPurchaseOrder": at_store(Role.MANAGER),
    "ClosePurchaseOrder": at_store(Role.MANAGER),
    "AmendPurchaseOrder": at_store(Role.MANAGER),
    # Transfers: the origin sends (its manager asks, its associates pack and ship), the
    # destination receives; staff see them anywhere.
    "CreateTransfer": at_store(Role.MANAGER),
    "GetTransfer": network(Role.ASSOCIATE, Role.MANAGER),
    "ListTransfers": network(Role.ASSOCIATE, Role.MANAGER),
    "ReadyTransfer": at_store(Role.ASSOCIATE, Role.MANAGER),
    "ShipTransfer": at_store(Role.ASSOCIATE, Role.MANAGER),
    "ReceiveTransfer": at_store(Role.ASSOCIATE, Role.MANAGER),
    "CancelTransfer": at_store(Role.MANAGER),
    "CloseTransfer": at_store(Role.MANAGER),  # at the destination: the rest is lost
}


def error_detail(exc: OmniError) -> pb.InsufficientStock | None:
    """The short lines travel with FAILED_PRECONDITION as a google.rpc.Status detail."""
    if isinstance(exc, InsufficientStock):
        return pb.InsufficientStock(lines=convert.short_lines_to_proto(exc.lines))
    return None


def _scan_error(scan_id: str, exc: Exception, duplicate: bool = False) -> pb.ScanResponse:
    status = status_for(exc, error_detail)
    error = pb.ScanError(code=status.code.value[0], message=status.details)
    return pb.ScanResponse(scan_id=scan_id, duplicate=duplicate, error=error)


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    def __init__(self, services: StockServices, hub: AvailabilityHub) -> None:
        self._s = services
        self._hub = hub

    async def CreateLocation(
        self, request: pb.CreateLocationRequest, context: Ctx
    ) -> pb.CreateLocationResponse:
        cmd = commands.CreateLocation(requests.location(request.location))
        loc = await handlers.create_location(self._s.uow, cmd)
        return pb.CreateLocationResponse(location=convert.location_to_proto(loc))

    async def UpdateLocation(
        self, request: pb.UpdateLocationRequest, context: Ctx
    ) -> pb.UpdateLocationResponse:
        cmd = commands.UpdateLocation(requests.location(request.location))
        loc = await handlers.update_location(self._s.uow, cmd)
        return pb.UpdateLocationResponse(location=convert.location_to_proto(loc))

    async def SetLocationCapacity(
        self, request: pb.SetLocationCapacityRequest, context: Ctx
    ) -> pb.SetLocationCapacityResponse:
        cmd = requests.set_location_capacity(request)
        loc, taken = await handlers.set_location_capacity(self._s.uow, cmd)
        return pb.SetLocationCapacityResponse(location=convert.location_to_proto(loc, taken))

    async def GetLocation(
        self, request: pb.GetLocationRequest, context: Ctx
    ) -> pb.GetLocationResponse:
        loc, taken = await queries.get_location(self._s.uow, check.identifier("id", request.id))
        return pb.GetLocationResponse(location=convert.location_to_proto(loc, taken))

    async def ListLocations(
        self, request: pb.ListLocationsRequest, context: Ctx
    ) -> pb.ListLocationsResponse:
        found = await queries.list_locations(self._s.uow)
        shown = [convert.location_to_proto(loc, taken) for loc, taken in found]
        return pb.ListLocationsResponse(locations=shown)

    async def ReceiveStock(
        self, request: pb.ReceiveStockRequest, context: Ctx
    ) -> pb.ReceiveStockResponse:
        level = await handlers.receive_stock(self._s.uow, requests.receive(request))
        return pb.ReceiveStockResponse(level=convert.level_to_proto(level))

    async def AdjustStock(
        self, request: pb.AdjustStockRequest, context: Ctx
    ) -> pb.AdjustStockResponse:
        level = await handlers.adjust_stock(self._s.uow, requests.adjust(request))
        return pb.AdjustStockResponse(level=convert.level_to_proto(level))

    async def SetSafetyStock(
        self, request: pb.SetSafetyStockRequest, context: Ctx
    ) -> pb.SetSafetyStockResponse:
        level = await handlers.set_safety_stock(self._s.uow, requests.safety_stock(request))
        return pb.SetSafetyStockResponse(level=convert.level_to_proto(level))

    async def SetChannelView(
        self, request: pb.SetChannelViewRequest, context: Ctx
    ) -> pb.SetChannelViewResponse:
        cmd = commands.SetChannelView(requests.channel_view(request.view))
        view = await handlers.set_channel_view(self._s.uow, cmd)
        return pb.SetChannelViewResponse(view=convert.channel_view_to_proto(view))

    async def ListChannelViews(
        self, request: pb.ListChannelViewsRequest, context: Ctx
    ) -> pb.ListChannelViewsResponse:
        views = await queries.channel_views(self._s.uow)
        return pb.ListChannelViewsResponse(views=[convert.channel_view_to_proto(v) for v in views])

    async def GetAvailability(
        self, request: pb.GetAvailabilityRequest, context: Ctx
    ) -> pb.GetAvailabilityResponse:
        skus = requests.query_keys("skus", list(request.skus), required=True)
        locations = requests.query_keys("location_ids", list(request.location_ids), required=False)
        channel = requests.channel(request.channel)
        by = time_from("by", request.by) if request.HasField("by") else None
        view = await queries.availability(self._s.uow, skus, locations, channel, by)
        reply = pb.GetAvailabilityResponse(
            levels=[convert.level_to_proto(lv, seen) for lv, seen in view.levels],
            network=[pb.NetworkAvailability(sku=s, available=n) for s, n in view.network.items()],
        )
        if view.promise is not None:
            promise = view.promise
            # The timeline's dates and units serve every reader; which purchase order brings
            # them is for those who may read purchase orders.
            orders = current_caller().role in PURCHASE_ORDER_READERS
            convert.promise_to_proto(
                promise.levels, promise.network, promise.supply, into=reply, with_orders=orders
            )
        return reply

    async def WatchAvailability(
        self, request: pb.WatchAvailabilityRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchAvailabilityResponse]:
        skus, locations, channel = requests.watch(request)
        by = time_from("by", request.by) if request.HasField("by") else None
        async for update in self._hub.watch(skus, locations, channel, by):
            yield update

    @refused_per_message
    async def Scan(
        self, request_iterator: AsyncIterator[pb.ScanRequest], context: Ctx
    ) -> AsyncIterator[pb.ScanResponse]:
        async for request in request_iterator:
            yield await self._scan(request)

    async def _scan(self, request: pb.ScanRequest | Refused) -> pb.ScanResponse:
        """One scan's acknowledgement; a bad scan gets its error and the stream goes on."""
        if isinstance(request, Refused):  # not a ScanRequest, or a NUL in one of its strings
            return _scan_error(getattr(request.message, "scan_id", ""), request.error)
        try:
            outcome = await scans.apply_scan(self._s.uow, requests.scan(request))
        except Exception as exc:
            reraise_if_cancelled(exc)
            return _scan_error(request.scan_id, exc)
        if outcome.refused is not None:
            return _scan_error(request.scan_id, outcome.refused, outcome.duplicate)
        return pb.ScanResponse(
            scan_id=request.scan_id,
            duplicate=outcome.duplicate,
            levels=pb.ScanLevels(levels=[convert.level_to_proto(lv) for lv in outcome.levels]),
        )

    async def RegisterBarcodes(
        self, request: pb.RegisterBarcodesRequest, context: Ctx
    ) -> pb.RegisterBarcodesResponse:
        count = await scans.register_barcodes(self._s.uow, requests.barcodes(request))
        return pb.RegisterBarcodesResponse(registered=count)

    async def LookupBarcodes(
        self, request: pb.LookupBarcodesRequest, context: Ctx
    ) -> pb.LookupBarcodesResponse:
        found = await queries.skus_of(self._s.uow, requests.barcode_codes(request))
        return pb.LookupBarcodesResponse(barcodes=[pb.Barcode(code=c, sku=s) for c, s in found])

    async def ListLevels(
        self, request: pb.ListLevelsRequest, context: Ctx
    ) -> pb.ListLevelsResponse:
        levels, after = await queries.levels_at(self._s.uow, requests.levels_page(request))
        return pb.ListLevelsResponse(
            levels=[convert.level_to_proto(lv) for lv in levels], next_page_token=after
        )

    async def ListMovements(
        self, request: pb.ListMovementsRequest, context: Ctx
    ) -> pb.ListMovementsResponse:
        sku = check.identifier("sku", request.sku)
        location_id = check.identifier("location_id", request.location_id)
        size = check.non_negative("page_size", request.page_size, maximum=MAX_PAGE_SIZE) or 100
        after = requests.movements_after(request.page_token)
        page = await queries.movements(self._s.uow, sku, location_id, after, size)
        return pb.ListMovementsResponse(
            movements=[convert.movement_to_proto(m, mid, at) for mid, at, m in page],
            next_page_token=str(page[-1][0]) if len(page) == size else "",
        )

    async def Reserve(self, request: pb.ReserveRequest, context: Ctx) -> pb.ReserveResponse:
        res = await self._s.reserve(requests.reserve(request))
        return pb.ReserveResponse(reservation=convert.reservation_to_proto(res))

    async def Allocate(self, request: pb.AllocateRequest, context: Ctx) -> pb.AllocateResponse:
        res = await self._s.reserve(requests.allocate(request))
        return pb.AllocateResponse(reservation=convert.reservation_to_proto(res))

    async def Release(self, request: pb.ReleaseRequest, context: Ctx) -> pb.ReleaseResponse:
        res = await handlers.release(self._s.uow, requests.release(request))
        return pb.ReleaseResponse(reservation=convert.reservation_to_proto(res))

    async def Commit(self, request: pb.CommitRequest, context: Ctx) -> pb.CommitResponse:
        res = await handlers.commit(self._s.uow, requests.commit(request))
        return pb.CommitResponse(reservation=convert.reservation_to_proto(res))

    async def GetReservation(
        self, request: pb.GetReservationRequest, context: Ctx
    ) -> pb.GetReservationResponse:
        res = await queries.get_reservation(self._s.uow, check.identifier("id", request.id))
        return pb.GetReservationResponse(reservation=convert.reservation_to_proto(res))

    async def CreatePurchaseOrder(
        self, request: pb.CreatePurchaseOrderRequest, context: Ctx
    ) -> pb.CreatePurchaseOrderResponse:
        cmd = requests.create_purchase_order(request)
        po = await purchasing.create_purchase_order(self._s.uow, cmd)
        return pb.CreatePurchaseOrderResponse(purchase_order=convert.purchase_order_to_proto(po))

    async def GetPurchaseOrder(
        self, request: pb.GetPurchaseOrderRequest, context: Ctx
    ) -> pb.GetPurchaseOrderResponse:
        po = await queries.get_purchase_order(self._s.uow, check.identifier("id", request.id))
        return pb.GetPurchaseOrderResponse(purchase_order=convert.purchase_order_to_proto(po))

    async def ListPurchaseOrders(
        self, request: pb.ListPurchaseOrdersRequest, context: Ctx
    ) -> pb.ListPurchaseOrdersResponse:
        page = requests.list_purchase_orders(request)
        found, token = await queries.purchase_orders_at(self._s.uow, page)
        return pb.ListPurchaseOrdersResponse(
            purchase_orders=[convert.purchase_order_to_proto(po) for po in found],
            next_page_token=token,
        )

    async def ReceivePurchaseOrder(
        self, request: pb.ReceivePurchaseOrderRequest, context: Ctx
    ) -> pb.ReceivePurchaseOrderResponse:
        cmd = requests.receive_purchase_order(request)
        receipt = await purchasing.receive_purchase_order(self._s.uow, cmd)
        return pb.ReceivePurchaseOrderResponse(
            purchase_order=convert.purchase_order_to_proto(receipt.purchase_order),
            levels=[convert.level_to_proto(level) for level in receipt.levels],
            over_received=convert.units_to_proto(receipt.over_received),
        )

    async def CancelPurchaseOrder(
        self, request: pb.CancelPurchaseOrderRequest, context: Ctx
    ) -> pb.CancelPurchaseOrderResponse:
        cmd = requests.end_purchase_order(request, cancel=True)
        po = await purchasing.end_purchase_order(self._s.uow, cmd)
        return pb.CancelPurchaseOrderResponse(purchase_order=convert.purchase_order_to_proto(po))

    async def ClosePurchaseOrder(
        self, request: pb.ClosePurchaseOrderRequest, context: Ctx
    ) -> pb.ClosePurchaseOrderResponse:
        cmd = requests.end_purchase_order(request, cancel=False)
        po = await purchasing.end_purchase_order(self._s.uow, cmd)
        return pb.ClosePurchaseOrderResponse(purchase_order=convert.purchase_order_to_proto(po))

    async def AmendPurchaseOrder(
        self, request: pb.AmendPurchaseOrderRequest, context: Ctx
    ) -> pb.AmendPurchaseOrderResponse:
        cmd = requests.amend_purchase_order(request)
        po = await purchasing.amend_purchase_order(self._s.uow, cmd)
        return pb.AmendPurchaseOrderResponse(purchase_order=convert.purchase_order_to_proto(po))

    async def SetPresalePolicy(
        self, request: pb.SetPresalePolicyRequest, context: Ctx
    ) -> pb.SetPresalePolicyResponse:
        saved = await presale.set_presale_policy(
            self._s.uow, requests.presale_policy(request.policy)
        )
        return pb.SetPresalePolicyResponse(policy=convert.presale_policy_to_proto(saved))

    async def ListPresalePolicies(
        self, request: pb.ListPresalePoliciesRequest, context: Ctx
    ) -> pb.ListPresalePoliciesResponse:
        page = requests.presale_page(request)
        found, after = await queries.presale_policies(self._s.uow, page)
        return pb.ListPresalePoliciesResponse(
            policies=[convert.presale_policy_to_proto(p) for p in found], next_page_token=after
        )

    async def SetSourcingRules(
        self, request: pb.SetSourcingRulesRequest, context: Ctx
    ) -> pb.SetSourcingRulesResponse:
        channel, rules = requests.sourcing_rules(request.rules)
        saved = await presale.set_sourcing_rules(self._s.uow, channel, rules)
        return pb.SetSourcingRulesResponse(
            rules=convert.sourcing_rules_to_proto(channel.value, saved)
        )

    async def GetSourcingRules(
        self, request: pb.GetSourcingRulesRequest, context: Ctx
    ) -> pb.GetSourcingRulesResponse:
        channel = requests.required_channel(request.channel)
        found = await presale.sourcing_rules(self._s.uow, channel)
        return pb.GetSourcingRulesResponse(
            rules=convert.sourcing_rules_to_proto(channel.value, found)
        )

    async def CreateTransfer(
        self, request: pb.CreateTransferRequest, context: Ctx
    ) -> pb.CreateTransferResponse:
        made = await transfers.create_transfer(self._s.uow, requests.create_transfer(request))
        return pb.CreateTransferResponse(transfer=convert.transfer_to_proto(made))

    async def GetTransfer(
        self, request: pb.GetTransferRequest, context: Ctx
    ) -> pb.GetTransferResponse:
        found = await queries.get_transfer(self._s.uow, check.identifier("id", request.id))
        return pb.GetTransferResponse(transfer=convert.transfer_to_proto(found))

    async def ListTransfers(
        self, request: pb.ListTransfersRequest, context: Ctx
    ) -> pb.ListTransfersResponse:
        found, token = await queries.transfers_at(self._s.uow, requests.list_transfers(request))
        return pb.ListTransfersResponse(
            transfers=[convert.transfer_to_proto(t) for t in found], next_page_token=token
        )

    async def ReadyTransfer(
        self, request: pb.ReadyTransferRequest, context: Ctx
    ) -> pb.ReadyTransferResponse:
        ready = await transfers.ready_transfer(self._s.uow, check.identifier("id", request.id))
        return pb.ReadyTransferResponse(transfer=convert.transfer_to_proto(ready))

    async def ShipTransfer(
        self, request: pb.ShipTransferRequest, context: Ctx
    ) -> pb.ShipTransferResponse:
        shipped = await transfers.ship_transfer(self._s.uow, check.identifier("id", request.id))
        return pb.ShipTransferResponse(transfer=convert.transfer_to_proto(shipped))

    async def ReceiveTransfer(
        self, request: pb.ReceiveTransferRequest, context: Ctx
    ) -> pb.ReceiveTransferResponse:
        cmd = requests.receive_transfer(request)
        received = await transfers.receive_transfer(self._s.uow, cmd)
        return pb.ReceiveTransferResponse(transfer=convert.transfer_to_proto(received))

    async def CancelTransfer(
        self, request: pb.CancelTransferRequest, context: Ctx
    ) -> pb.CancelTransferResponse:
        cmd = requests.cancel_transfer(request)
        cancelled = await transfers.cancel_transfer(self._s.uow, cmd)
        return pb.CancelTransferResponse(transfer=convert.transfer_to_proto(cancelled))

    async def CloseTransfer(
        self, request: pb.CloseTransferRequest, context: Ctx
    ) -> pb.CloseTransferResponse:
        cmd = requests.cancel_transfer(request)
        closed = await transfers.close_transfer(self._s.uow, cmd)
        return pb.CloseTransferResponse(transfer=convert.transfer_to_proto(closed))
