"""Malformed input on every pickup RPC: a clear error with the fitting code, nothing stored."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from omni.pickup.adapters import tables
from omni.pickup.v1 import pickup_pb2 as pb
from omni.platform.natsserver import EmbeddedNats
from tests.conftest import NewDatabase
from tests.helpers.checks import assert_text_refused, eventually
from tests.helpers.running import Pickup, running_pickup

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
LONG = "x" * 65

AFTER_NUL = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|pck_\x00").decode()
CASES: list[tuple[str, Any, grpc.StatusCode]] = [
    ("ListPickups", pb.ListPickupsRequest(), INVALID),
    ("ListPickups", pb.ListPickupsRequest(store_id="S", page_size=-1), INVALID),
    ("ListPickups", pb.ListPickupsRequest(store_id="S", page_size=501), INVALID),
    ("ListPickups", pb.ListPickupsRequest(store_id="S", status=42), INVALID),
    ("ListPickups", pb.ListPickupsRequest(store_id="S", page_token="%%%"), INVALID),
    # A token as the service makes them, but after an id with a NUL (none of its ids has one).
    ("ListPickups", pb.ListPickupsRequest(store_id="S", page_token=AFTER_NUL), INVALID),
    ("GetPickup", pb.GetPickupRequest(), INVALID),
    ("GetPickup", pb.GetPickupRequest(id=LONG), INVALID),
    ("GetPickup", pb.GetPickupRequest(id="pck_missing"), NOT_FOUND),
    ("StartPicking", pb.StartPickingRequest(id="pck_1"), INVALID),
    ("StartPicking", pb.StartPickingRequest(associate_id="a"), INVALID),
    ("StartPicking", pb.StartPickingRequest(id="pck_missing", associate_id="a"), NOT_FOUND),
    ("RecordPick", pb.RecordPickRequest(id="pck_1", sku="A"), INVALID),
    ("RecordPick", pb.RecordPickRequest(id="pck_1", scan_id="s", sku=""), INVALID),
    ("RecordPick", pb.RecordPickRequest(id="pck_1", scan_id="s", sku="A", quantity=-1), INVALID),
    ("RecordPick", pb.RecordPickRequest(id="pck_missing", scan_id="s", sku="A"), NOT_FOUND),
    ("ReportShortage", pb.ReportShortageRequest(id="pck_1", sku="A", associate_id="a"), INVALID),
    (
        "ReportShortage",
        pb.ReportShortageRequest(id="pck_1", sku="A", missing=1, associate_id=""),
        INVALID,
    ),
    (
        "ReportShortage",
        pb.ReportShortageRequest(id="pck_missing", sku="A", missing=1, associate_id="a"),
        NOT_FOUND,
    ),
    ("MarkReady", pb.MarkReadyRequest(), INVALID),
    ("MarkReady", pb.MarkReadyRequest(id="pck_missing"), NOT_FOUND),
    ("CompletePickup", pb.CompletePickupRequest(id="pck_1", associate_id="a"), INVALID),
    (
        "CompletePickup",
        pb.CompletePickupRequest(id="pck_1", code="x" * 33, associate_id="a"),
        INVALID,
    ),
    ("CompletePickup", pb.CompletePickupRequest(id="pck_1", code="ABCD-EFGH"), INVALID),
    (
        "CompletePickup",
        pb.CompletePickupRequest(id="pck_missing", code="ABCD-EFGH", associate_id="a"),
        NOT_FOUND,
    ),
    ("UnlockPickup", pb.UnlockPickupRequest(id="pck_1"), INVALID),
    ("UnlockPickup", pb.UnlockPickupRequest(id="pck_missing", manager_id="m"), NOT_FOUND),
    ("SetStorePolicy", pb.SetStorePolicyRequest(store_id="S"), INVALID),
    ("SetStorePolicy", pb.SetStorePolicyRequest(store_id="S", shortage=9), INVALID),
    ("SetStorePolicy", pb.SetStorePolicyRequest(shortage=1), INVALID),
    ("GetStorePolicy", pb.GetStorePolicyRequest(), INVALID),
    ("ListShipTasks", pb.ListShipTasksRequest(), INVALID),
    ("ListShipTasks", pb.ListShipTasksRequest(location_id="S", status=42), INVALID),
    ("ListShipTasks", pb.ListShipTasksRequest(location_id="S", page_size=501), INVALID),
    ("ListShipTasks", pb.ListShipTasksRequest(location_id="S", page_token=AFTER_NUL), INVALID),
    ("GetShipTask", pb.GetShipTaskRequest(), INVALID),
    ("GetShipTask", pb.GetShipTaskRequest(id="shp_missing"), NOT_FOUND),
    ("StartShipTask", pb.StartShipTaskRequest(id="shp_1"), INVALID),
    ("StartShipTask", pb.StartShipTaskRequest(id="shp_missing", associate_id="a"), NOT_FOUND),
    ("RecordShipPick", pb.RecordShipPickRequest(id="shp_1", sku="A"), INVALID),
    ("RecordShipPick", pb.RecordShipPickRequest(id="shp_1", scan_id="s", sku=LONG), INVALID),
    (
        "RecordShipPick",
        pb.RecordShipPickRequest(id="shp_1", scan_id="s", sku="A", quantity=-1),
        INVALID,
    ),
    ("RecordShipPick", pb.RecordShipPickRequest(id="shp_missing", scan_id="s", sku="A"), NOT_FOUND),
    ("PackShipTask", pb.PackShipTaskRequest(), INVALID),
    ("PackShipTask", pb.PackShipTaskRequest(id="shp_1", packages=101), INVALID),
    ("PackShipTask", pb.PackShipTaskRequest(id="shp_1", packages=-1), INVALID),
    ("PackShipTask", pb.PackShipTaskRequest(id="shp_missing"), NOT_FOUND),
    ("ShipShipTask", pb.ShipShipTaskRequest(id="shp_1", tracking_number="T"), INVALID),
    ("ShipShipTask", pb.ShipShipTaskRequest(id="shp_1", carrier="DHL"), INVALID),
    (
        "ShipShipTask",
        pb.ShipShipTaskRequest(id="shp_1", carrier="DHL", tracking_number="T" * 65),
        INVALID,
    ),
    (
        "ShipShipTask",
        pb.ShipShipTaskRequest(id="shp_missing", carrier="DHL", tracking_number="T"),
        NOT_FOUND,
    ),
    ("RejectShipUnits", pb.RejectShipUnitsRequest(id="shp_1", sku="A", quantity=1), INVALID),
    (
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(id="shp_1", sku="A", quantity=1, reason=9, associate_id="a"),
        INVALID,
    ),
    (
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(id="shp_1", sku="A", reason=1, associate_id="a"),
        INVALID,
    ),
    (
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(id="shp_1", sku="A", quantity=1, reason=1),
        INVALID,
    ),
    (
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(
            id="shp_missing", sku="A", quantity=1, reason=1, associate_id="a", rejection_id="r"
        ),
        NOT_FOUND,
    ),
    (  # no rejection id: a resend could not be told apart
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(id="shp_1", sku="A", quantity=1, reason=1, associate_id="a"),
        INVALID,
    ),
    (  # too long once kept beside the scan ids
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(
            id="shp_1", sku="A", quantity=1, reason=1, associate_id="a", rejection_id="r" * 58
        ),
        INVALID,
    ),
    (  # more picked than rejected
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(
            id="shp_1", sku="A", quantity=1, reason=1, associate_id="a", rejection_id="r", picked=2
        ),
        INVALID,
    ),
]


NUL = "a\x00b"

# Requests valid but for one string: a NUL anywhere, or a control character in a line of text.
NUL_IN_TEXT: list[tuple[str, Any, str]] = [
    ("CompletePickup", pb.CompletePickupRequest(id="pck_1", code=NUL, associate_id="a"), "code"),
    ("RecordPick", pb.RecordPickRequest(id="pck_1", scan_id=NUL, sku="A"), "scan_id"),
    ("StartPicking", pb.StartPickingRequest(id="pck_1", associate_id=NUL), "associate_id"),
    ("SetStorePolicy", pb.SetStorePolicyRequest(store_id=NUL, shortage=1), "store_id"),
    (
        "ShipShipTask",
        pb.ShipShipTaskRequest(id="shp_1", carrier=NUL, tracking_number="T"),
        "carrier",
    ),
    (
        "RejectShipUnits",
        pb.RejectShipUnitsRequest(id="shp_1", sku=NUL, quantity=1, reason=1, associate_id="a"),
        "sku",
    ),
]
CONTROL_IN_TEXT: list[tuple[str, Any, str]] = [
    (
        "ShipShipTask",
        pb.ShipShipTaskRequest(id="shp_1", carrier="DHL", tracking_number="1Z\n9"),
        "tracking_number",
    ),
    (
        "CompletePickup",
        pb.CompletePickupRequest(id="pck_1", code="AB\tCD", associate_id="a"),
        "code",
    ),
    (
        "CompletePickup",
        pb.CompletePickupRequest(id="pck_1", code="ABCD\r\n", associate_id="a"),
        "code",
    ),
]


@pytest.fixture
async def pickup(new_database: NewDatabase, nats_server: EmbeddedNats) -> AsyncIterator[Pickup]:
    async with running_pickup(await new_database("pickup"), nats_server) as running:
        await running.app.nats.ready.wait()
        yield running


async def fingerprint(pickup: Pickup) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with pickup.app.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = (await conn.execute(query)).scalar_one()

    async def relayed() -> bool:
        return await pickup.app.relay.pending() == 0

    await eventually(relayed)
    counts["events"] = (await pickup.bus.jetstream().stream_info("PICKUP_EVENTS")).state.messages
    return counts


def test_every_rpc_has_bad_input_cases() -> None:
    rpcs = {m.name for m in pb.DESCRIPTOR.services_by_name["PickupService"].methods}
    assert rpcs == {name for name, _, _ in CASES}


async def test_malformed_requests_get_a_clear_error_and_store_nothing(pickup: Pickup) -> None:
    before = await fingerprint(pickup)
    for rpc, request, code in CASES:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await getattr(pickup.stub, rpc)(request)
        assert (rpc, failure.value.code()) == (rpc, code), failure.value.details()
        assert failure.value.details()
    assert await fingerprint(pickup) == before


async def test_bytes_that_are_not_a_message_are_invalid_argument_not_internal(
    pickup: Pickup,
) -> None:
    for rpc in ("CompletePickup", "RecordPick", "ListPickups"):
        call = pickup.channel.unary_unary(f"/omni.pickup.v1.PickupService/{rpc}")
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(b"\xff\xff\xff\xff garbage")
        assert failure.value.code() == INVALID


async def test_a_nul_or_control_character_in_text_is_refused_naming_the_field(
    pickup: Pickup,
) -> None:
    before = await fingerprint(pickup)
    await assert_text_refused(pickup.stub, NUL_IN_TEXT, CONTROL_IN_TEXT)
    assert await fingerprint(pickup) == before
