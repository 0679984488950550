"""Checks each request and turns it into a command; every failure is an InvalidArgument."""

from __future__ import annotations

from omni.pickup import convert
from omni.pickup.domain import commands
from omni.pickup.domain.model import ShortagePolicy
from omni.pickup.v1 import pickup_pb2 as pb
from omni.platform import validation as check
from omni.platform.errors import InvalidArgument


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
