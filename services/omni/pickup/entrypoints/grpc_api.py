"""The PickupService gRPC API: proto -> command -> handler -> proto, nothing more."""

from __future__ import annotations

from datetime import timedelta

import grpc

from omni.pickup import convert
from omni.pickup.domain import commands
from omni.pickup.entrypoints import requests
from omni.pickup.service_layer import handlers, queries, shipping
from omni.pickup.service_layer.codes import Sealer
from omni.pickup.service_layer.unit_of_work import UnitOfWork
from omni.pickup.v1 import pickup_pb2 as pb
from omni.pickup.v1 import pickup_pb2_grpc
from omni.platform import validation as check
from omni.platform.auth import Access, Role, at_store

Ctx = grpc.aio.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PickupService"].full_name

_STAFF = at_store(Role.ASSOCIATE, Role.MANAGER)
# Who may call what, and where (omni.platform.auth.Scope): every pickup RPC is a store's own
# work, so a caller bound to a store acts at that store only — the request's store_id, or the
# store of the task (checked once it is loaded, before anything changes).
ACCESS: Access = {
    "ListPickups": _STAFF,
    "GetPickup": _STAFF,
    "StartPicking": _STAFF,
    "RecordPick": _STAFF,
    "ReportShortage": _STAFF,
    "MarkReady": _STAFF,
    "CompletePickup": _STAFF,
    "UnlockPickup": at_store(Role.MANAGER),
    "SetStorePolicy": at_store(Role.MANAGER),
    "GetStorePolicy": _STAFF,
    # Ship-from-store: the location's own work, likewise.
    "ListShipTasks": _STAFF,
    "GetShipTask": _STAFF,
    "StartShipTask": _STAFF,
    "RecordShipPick": _STAFF,
    "PackShipTask": _STAFF,
    "ShipShipTask": _STAFF,
    "RejectShipUnits": _STAFF,
}


class PickupServicer(pickup_pb2_grpc.PickupServiceServicer):
    def __init__(self, uow: UnitOfWork, sealer: Sealer, hold: timedelta) -> None:
        self._uow = uow
        self._sealer = sealer
        self._hold = hold

    async def ListPickups(
        self, request: pb.ListPickupsRequest, context: Ctx
    ) -> pb.ListPickupsResponse:
        found, token = await queries.list_pickups(self._uow, requests.list_pickups(request))
        return pb.ListPickupsResponse(
            tasks=[convert.task_to_proto(t) for t in found], next_page_token=token
        )

    async def GetPickup(self, request: pb.GetPickupRequest, context: Ctx) -> pb.GetPickupResponse:
        task = await queries.get_pickup(self._uow, check.identifier("id", request.id))
        return pb.GetPickupResponse(task=convert.task_to_proto(task))

    async def StartPicking(
        self, request: pb.StartPickingRequest, context: Ctx
    ) -> pb.StartPickingResponse:
        task = await handlers.start_picking(
            self._uow,
            check.identifier("id", request.id),
            check.identifier("associate_id", request.associate_id),
        )
        return pb.StartPickingResponse(task=convert.task_to_proto(task))

    async def RecordPick(
        self, request: pb.RecordPickRequest, context: Ctx
    ) -> pb.RecordPickResponse:
        task, duplicate = await handlers.record_pick(self._uow, requests.record_pick(request))
        return pb.RecordPickResponse(task=convert.task_to_proto(task), duplicate=duplicate)

    async def ReportShortage(
        self, request: pb.ReportShortageRequest, context: Ctx
    ) -> pb.ReportShortageResponse:
        cmd = requests.report_shortage(request)
        task, policy = await handlers.report_shortage(self._uow, cmd)
        return pb.ReportShortageResponse(
            task=convert.task_to_proto(task), policy=convert.POLICIES[policy]
        )

    async def MarkReady(self, request: pb.MarkReadyRequest, context: Ctx) -> pb.MarkReadyResponse:
        task_id = check.identifier("id", request.id)
        task = await handlers.mark_ready(self._uow, task_id, self._sealer, self._hold)
        return pb.MarkReadyResponse(task=convert.task_to_proto(task))

    async def CompletePickup(
        self, request: pb.CompletePickupRequest, context: Ctx
    ) -> pb.CompletePickupResponse:
        task = await handlers.complete_pickup(self._uow, requests.complete_pickup(request))
        return pb.CompletePickupResponse(task=convert.task_to_proto(task))

    async def UnlockPickup(
        self, request: pb.UnlockPickupRequest, context: Ctx
    ) -> pb.UnlockPickupResponse:
        check.identifier("manager_id", request.manager_id)
        task = await handlers.unlock(self._uow, check.identifier("id", request.id))
        return pb.UnlockPickupResponse(task=convert.task_to_proto(task))

    async def SetStorePolicy(
        self, request: pb.SetStorePolicyRequest, context: Ctx
    ) -> pb.SetStorePolicyResponse:
        cmd = commands.SetStorePolicy(
            check.identifier("store_id", request.store_id), requests.policy(request.shortage)
        )
        policy = await handlers.set_store_policy(self._uow, cmd)
        return pb.SetStorePolicyResponse(shortage=convert.POLICIES[policy])

    async def GetStorePolicy(
        self, request: pb.GetStorePolicyRequest, context: Ctx
    ) -> pb.GetStorePolicyResponse:
        store_id = check.identifier("store_id", request.store_id)
        policy = await queries.store_policy(self._uow, store_id)
        return pb.GetStorePolicyResponse(shortage=convert.POLICIES[policy])

    async def ListShipTasks(
        self, request: pb.ListShipTasksRequest, context: Ctx
    ) -> pb.ListShipTasksResponse:
        found, token = await shipping.queue(self._uow, requests.list_ship_tasks(request))
        return pb.ListShipTasksResponse(
            tasks=[convert.ship_task_to_proto(t) for t in found], next_page_token=token
        )

    async def GetShipTask(
        self, request: pb.GetShipTaskRequest, context: Ctx
    ) -> pb.GetShipTaskResponse:
        task = await shipping.get(self._uow, check.identifier("id", request.id))
        return pb.GetShipTaskResponse(task=convert.ship_task_to_proto(task))

    async def StartShipTask(
        self, request: pb.StartShipTaskRequest, context: Ctx
    ) -> pb.StartShipTaskResponse:
        task = await shipping.start(
            self._uow,
            check.identifier("id", request.id),
            check.identifier("associate_id", request.associate_id),
        )
        return pb.StartShipTaskResponse(task=convert.ship_task_to_proto(task))

    async def RecordShipPick(
        self, request: pb.RecordShipPickRequest, context: Ctx
    ) -> pb.RecordShipPickResponse:
        cmd = requests.record_ship_pick(request)
        task, duplicate = await shipping.record_pick(self._uow, cmd)
        return pb.RecordShipPickResponse(task=convert.ship_task_to_proto(task), duplicate=duplicate)

    async def PackShipTask(
        self, request: pb.PackShipTaskRequest, context: Ctx
    ) -> pb.PackShipTaskResponse:
        task_id = check.identifier("id", request.id)
        task = await shipping.pack(self._uow, task_id, requests.packages(request))
        return pb.PackShipTaskResponse(task=convert.ship_task_to_proto(task))

    async def ShipShipTask(
        self, request: pb.ShipShipTaskRequest, context: Ctx
    ) -> pb.ShipShipTaskResponse:
        task = await shipping.ship(self._uow, requests.ship_task_out(request))
        return pb.ShipShipTaskResponse(task=convert.ship_task_to_proto(task))

    async def RejectShipUnits(
        self, request: pb.RejectShipUnitsRequest, context: Ctx
    ) -> pb.RejectShipUnitsResponse:
        task, duplicate = await shipping.reject(self._uow, requests.reject_ship_units(request))
        return pb.RejectShipUnitsResponse(
            task=convert.ship_task_to_proto(task), duplicate=duplicate
        )
