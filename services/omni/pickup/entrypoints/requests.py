"""Checks each request and turns it into a command; every failure is an InvalidArgument."""

from __future__ import annotations

from omni.pickup import convert
from omni.pickup.domain import commands
from omni.pickup.domain.model import ShortagePolicy
from omni.pickup.domain.ship import MAX_PACKAGES
from omni.pickup.service_layer.shipping import MAX_REJECTION_ID
from omni.pickup.v1 import pickup_pb2 as pb
from omni.platform import validation as check
from omni.platform.errors import InvalidArgument
from omni.platform.wire import rejection_reason


def record_pick(msg: pb.RecordPickRequest) -> commands.RecordPick:
    return commands.RecordPick(
        task_id=check.identifier("id", msg.id),
        scan_id=check.identifier("scan_id", msg.scan_id),
        sku=check.identifier("sku", msg.sku),
        quantity=check.quantity("quantity", msg.quantity or 1),
    )


def report_shortage(msg: pb.ReportShortageRequest) -> commands.ReportShortage:
    return commands.ReportShortage(
        task_id=check.identifier("id", msg.id),
        sku=check.identifier("sku", msg.sku),
        missing=check.quantity("missing", msg.missing),
        associate_id=check.identifier("associate_id", msg.associate_id),
    )


def complete_pickup(msg: pb.CompletePickupRequest) -> commands.CompletePickup:
    return commands.CompletePickup(
        task_id=check.identifier("id", msg.id),
        code=check.text("code", msg.code, required=True, max_length=32),
        associate_id=check.identifier("associate_id", msg.associate_id),
    )


def policy(value: int) -> ShortagePolicy:
    if value not in convert.POLICIES_FROM_PROTO:
        names = ", ".join(pb.ShortagePolicy.keys()[1:])
        raise InvalidArgument(f"shortage must be one of {names}, got {value}")
    return convert.POLICIES_FROM_PROTO[value]


def list_pickups(msg: pb.ListPickupsRequest) -> commands.ListPickups:
    size = check.page_size(msg.page_size)
    status = ""
    if msg.status != pb.PICKUP_STATUS_UNSPECIFIED:
        if msg.status not in convert.STATUSES_FROM_PROTO:
            raise InvalidArgument(f"status {msg.status} is not a PickupStatus")
        status = convert.STATUSES_FROM_PROTO[msg.status].value
    return commands.ListPickups(
        store_id=check.identifier("store_id", msg.store_id),
        status=status,
        page_size=size,
        page_token=check.text("page_token", msg.page_token),
    )


def list_ship_tasks(msg: pb.ListShipTasksRequest) -> commands.ListShipTasks:
    size = check.page_size(msg.page_size)
    status = ""
    if msg.status != pb.SHIP_TASK_STATUS_UNSPECIFIED:
        if msg.status not in convert.SHIP_STATUSES_FROM_PROTO:
            raise InvalidArgument(f"status {msg.status} is not a ShipTaskStatus")
        status = convert.SHIP_STATUSES_FROM_PROTO[msg.status].value
    return commands.ListShipTasks(
        location_id=check.identifier("location_id", msg.location_id),
        status=status,
        page_size=size,
        page_token=check.text("page_token", msg.page_token),
    )


def record_ship_pick(msg: pb.RecordShipPickRequest) -> commands.RecordShipPick:
    return commands.RecordShipPick(
        task_id=check.identifier("id", msg.id),
        scan_id=check.identifier("scan_id", msg.scan_id),
        sku=check.identifier("sku", msg.sku),
        quantity=check.quantity("quantity", msg.quantity or 1),
    )


def _rejection_id(value: str) -> str:
    checked = check.identifier("rejection_id", value)
    if len(checked) > MAX_REJECTION_ID:
        raise InvalidArgument(f"rejection_id is longer than {MAX_REJECTION_ID} characters")
    return checked


def packages(msg: pb.PackShipTaskRequest) -> int:
    packages = msg.packages or 1
    if not 1 <= packages <= MAX_PACKAGES:
        raise InvalidArgument(f"packages must be between 1 and {MAX_PACKAGES}, got {packages}")
    return packages


def ship_task_out(msg: pb.ShipShipTaskRequest) -> commands.ShipTaskOut:
    return commands.ShipTaskOut(
        task_id=check.identifier("id", msg.id),
        carrier=check.text("carrier", msg.carrier, required=True, max_length=64),
        tracking_number=check.text(
            "tracking_number", msg.tracking_number, required=True, max_length=64
        ),
    )


def reject_ship_units(msg: pb.RejectShipUnitsRequest) -> commands.RejectShipUnits:
    return commands.RejectShipUnits(
        task_id=check.identifier("id", msg.id),
        sku=check.identifier("sku", msg.sku),
        quantity=check.quantity("quantity", msg.quantity),
        reason=rejection_reason("reason", msg.reason),
        associate_id=check.identifier("associate_id", msg.associate_id),
        rejection_id=_rejection_id(msg.rejection_id),
        picked=check.non_negative("picked", msg.picked, maximum=msg.quantity),
    )
