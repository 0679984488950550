"""Validates stock requests from the wire and turns them into commands (shared by gRPC and NATS)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2 as cpb
from omni.platform import validation as check
from omni.platform.channels import RejectionReason
from omni.platform.clock import utcnow
from omni.platform.errors import InvalidArgument
from omni.platform.wire import channel, rejection_reason, required_channel, time_from
from omni.stock import convert
from omni.stock.domain import commands
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.model import Location, LocationKind, ScanKind
from omni.stock.domain.presale import PresalePolicy
from omni.stock.domain.sourcing import Destination, SourcingRule
from omni.stock.service_layer.queries import (
    LevelsPage,
    PresalePage,
    PurchaseOrdersPage,
    TransfersPage,
)
from omni.stock.v1 import stock_pb2 as pb

MAX_TTL_SECONDS = 30 * 24 * 3600
MAX_QUERY_KEYS = 1000
# References, reasons and actors are kept with each ledger movement (128 characters there).
MAX_NOTE = 128


def location(msg: pb.Location) -> Location:
    if msg.kind not in convert.LOCATION_KINDS_FROM_PROTO:
        raise InvalidArgument("location.kind must be LOCATION_KIND_WAREHOUSE or _STORE")
    if msg.HasField("latitude") != msg.HasField("longitude"):
        raise InvalidArgument("give both location.latitude and location.longitude, or neither")
    return Location(
        id=check.identifier("location.id", msg.id),
        name=check.text("location.name", msg.name, required=True),
        kind=convert.LOCATION_KINDS_FROM_PROTO[msg.kind],
        ships=msg.ships,
        pickup=msg.pickup,
        accepts_returns=msg.accepts_returns,
        region=check.optional_identifier("location.region", msg.region),
        latitude=check.coordinate("location.latitude", _opt(msg, "latitude"), 90),
        longitude=check.coordinate("location.longitude", _opt(msg, "longitude"), 180),
        priority=check.non_negative("location.priority", msg.priority, maximum=1_000_000),
        daily_capacity=(
            check.non_negative("location.daily_capacity", msg.daily_capacity, maximum=10_000_000)
            if msg.HasField("daily_capacity")
            else None
        ),
        paused=msg.paused,
    )


def set_location_capacity(msg: pb.SetLocationCapacityRequest) -> commands.SetLocationCapacity:
    capacity: int | None = commands.UNCHANGED
    if msg.no_limit:
        if msg.HasField("daily_capacity"):
            raise InvalidArgument("give daily_capacity or no_limit, not both")
        capacity = None
    elif msg.HasField("daily_capacity"):
        capacity = check.non_negative("daily_capacity", msg.daily_capacity, maximum=10_000_000)
    paused = msg.paused if msg.HasField("paused") else None
    if capacity == commands.UNCHANGED and paused is None:
        raise InvalidArgument("give daily_capacity, no_limit or paused: nothing would change")
    return commands.SetLocationCapacity(
        location_id=check.identifier("location_id", msg.location_id),
        daily_capacity=capacity,
        paused=paused,
    )


def channel_view(msg: pb.ChannelView) -> ChannelView:
    buffers: dict[LocationKind, int] = {}
    for i, buffer in enumerate(msg.buffers):
        kind = convert.LOCATION_KINDS_FROM_PROTO.get(buffer.location_kind)
        if kind is None:
            raise InvalidArgument(f"buffers[{i}].location_kind must be WAREHOUSE or STORE")
        if kind in buffers:
            raise InvalidArgument(f"buffers[{i}]: {kind.value} is given twice")
        buffers[kind] = check.non_negative(f"buffers[{i}].units", buffer.units)
    return ChannelView(required_channel(msg.channel), buffers)


def receive(msg: pb.ReceiveStockRequest) -> commands.ReceiveStock:
    return commands.ReceiveStock(
        sku=check.identifier("sku", msg.sku),
        location_id=check.identifier("location_id", msg.location_id),
        quantity=check.quantity("quantity", msg.quantity),
        reference=check.text("reference", msg.reference, max_length=MAX_NOTE),
        actor=check.text("actor", msg.actor, max_length=MAX_NOTE),
        idempotency_key=check.optional_identifier("idempotency_key", msg.idempotency_key),
    )


def adjust(msg: pb.AdjustStockRequest) -> commands.AdjustStock:
    if msg.delta == 0:
        raise InvalidArgument("delta must not be zero")
    check.quantity("abs(delta)", abs(msg.delta))
    return commands.AdjustStock(
        sku=check.identifier("sku", msg.sku),
        location_id=check.identifier("location_id", msg.location_id),
        delta=msg.delta,
        reason=check.text("reason", msg.reason, max_length=MAX_NOTE),
        actor=check.text("actor", msg.actor, max_length=MAX_NOTE),
        idempotency_key=check.optional_identifier("idempotency_key", msg.idempotency_key),
    )


def safety_stock(msg: pb.SetSafetyStockRequest) -> commands.SetSafetyStock:
    return commands.SetSafetyStock(
        sku=check.identifier("sku", msg.sku),
        location_id=check.identifier("location_id", msg.location_id),
        safety_stock=check.non_negative("safety_stock", msg.safety_stock),
        actor=check.text("actor", msg.actor, max_length=MAX_NOTE),
    )


def reserve(msg: pb.ReserveRequest) -> commands.Reserve:
    check.lines("lines", msg.lines)
    return commands.Reserve(
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        reference=check.optional_identifier("reference", msg.reference),
        lines=_located_lines(msg.lines),
        ttl_seconds=check.non_negative("ttl_seconds", msg.ttl_seconds, maximum=MAX_TTL_SECONDS),
    )


def allocate(msg: pb.AllocateRequest) -> commands.Allocate:
    check.lines("lines", msg.lines)
    ship_to, pickup, near, by_transfer = None, "", "", False
    match msg.WhichOneof("fulfilment"):
        case "ship":
            ship = msg.ship
            if ship.HasField("latitude") != ship.HasField("longitude"):
                raise InvalidArgument("give both ship.latitude and ship.longitude, or neither")
            ship_to = Destination(
                region=check.identifier("ship.region", ship.region),
                latitude=check.coordinate("ship.latitude", _opt(ship, "latitude"), 90),
                longitude=check.coordinate("ship.longitude", _opt(ship, "longitude"), 180),
            )
        case "pickup":
            pickup = check.identifier("pickup.location_id", msg.pickup.location_id)
        case "near":
            near = check.identifier("near.location_id", msg.near.location_id)
            by_transfer = msg.near.by_transfer
            if by_transfer and msg.ttl_seconds:
                raise InvalidArgument(
                    "units brought by transfer are held until they arrive: leave ttl_seconds 0"
                )
        case _:
            raise InvalidArgument("a fulfilment is required: ship, pickup or near")
    excluded = _excluded(msg.exclude_location_ids)
    if pickup in excluded:
        raise InvalidArgument("exclude_location_ids names the pickup store the order is for")
    return commands.Allocate(
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        reference=check.optional_identifier("reference", msg.reference),
        lines=tuple(
            (
                check.identifier(f"lines[{i}].sku", ln.sku),
                check.quantity(f"lines[{i}].quantity", ln.quantity),
            )
            for i, ln in enumerate(msg.lines)
        ),
        ship_to=ship_to,
        pickup_location_id=pickup,
        near_location_id=near,
        by_transfer=by_transfer,
        ttl_seconds=check.non_negative("ttl_seconds", msg.ttl_seconds, maximum=MAX_TTL_SECONDS),
        channel=channel(msg.channel),
        excluded=excluded,
    )


MAX_EXCLUDED = 100


def _excluded(ids: Iterable[str]) -> tuple[str, ...]:
    """Locations an allocation must not use, sorted (the request's fingerprint)."""
    names = list(ids)
    if len(names) > MAX_EXCLUDED:
        raise InvalidArgument(f"exclude_location_ids: at most {MAX_EXCLUDED}, not {len(names)}")
    checked = (check.identifier(f"exclude_location_ids[{i}]", n) for i, n in enumerate(names))
    return tuple(sorted(set(checked)))


def restock(msg: pb.RestockRequest) -> commands.Restock:
    check.lines("lines", msg.lines)
    return commands.Restock(
        location_id=check.identifier("location_id", msg.location_id),
        lines=tuple(
            (
                check.identifier(f"lines[{i}].sku", ln.sku),
                check.quantity(f"lines[{i}].quantity", ln.quantity),
                ln.damaged,
            )
            for i, ln in enumerate(msg.lines)
        ),
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        reference=check.optional_identifier("reference", msg.reference),
        actor=check.text("actor", msg.actor),
    )


def write_off(msg: pb.WriteOffRequest) -> commands.WriteOff:
    check.lines("lines", msg.lines)
    return commands.WriteOff(
        reservation_id=check.identifier("reservation_id", msg.reservation_id),
        lines=_located_lines(msg.lines),
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        actor=check.text("actor", msg.actor),
        reason=(
            rejection_reason("reason", msg.reason)
            if msg.reason
            else RejectionReason.MISMATCH  # a write-off that gives no reason
        ),
    )


def correct(msg: pb.CorrectStockRequest) -> commands.CorrectStock:
    return commands.CorrectStock(
        sku=check.identifier("sku", msg.sku),
        location_id=check.identifier("location_id", msg.location_id),
        quantity=check.quantity("quantity", msg.quantity),
        reason=rejection_reason("reason", msg.reason) if msg.reason else None,
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        actor=check.text("actor", msg.actor, max_length=MAX_NOTE),
        note=check.text("note", msg.note, max_length=MAX_NOTE),
    )


def release(msg: pb.ReleaseRequest) -> commands.Release:
    key = check.optional_identifier("idempotency_key", msg.idempotency_key)
    if msg.lines:
        check.lines("lines", msg.lines)
        if not key:
            raise InvalidArgument(
                "idempotency_key is required when releasing some lines, so that a resent "
                "release is not applied twice"
            )
    return commands.Release(
        reservation_id=check.identifier("reservation_id", msg.reservation_id),
        lines=_located_lines(msg.lines) or None,
        idempotency_key=key,
    )


def commit(msg: pb.CommitRequest) -> commands.Commit:
    if msg.lines:
        check.lines("lines", msg.lines)
    return commands.Commit(
        reservation_id=check.identifier("reservation_id", msg.reservation_id),
        lines=_located_lines(msg.lines) or None,
        idempotency_key=check.optional_identifier("idempotency_key", msg.idempotency_key),
    )


def _located_lines(
    lines: Iterable[pb.ReserveLine | pb.CommitLine],
) -> tuple[tuple[str, str, int], ...]:
    """(sku, location_id, quantity) of each line, each field checked."""
    return tuple(
        (
            check.identifier(f"lines[{i}].sku", ln.sku),
            check.identifier(f"lines[{i}].location_id", ln.location_id),
            check.quantity(f"lines[{i}].quantity", ln.quantity),
        )
        for i, ln in enumerate(lines)
    )


MAX_WATCHED_KEYS = 10_000


def watch(msg: pb.WatchAvailabilityRequest) -> tuple[list[str], list[str], Channel | None]:
    """SKUs and locations to watch; at most 10,000 (sku, location) keys."""
    skus = query_keys("skus", list(msg.skus), required=True)
    locations = query_keys("location_ids", list(msg.location_ids), required=False)
    if len(skus) * max(1, len(locations)) > MAX_WATCHED_KEYS:
        raise InvalidArgument(
            f"a watch may cover at most {MAX_WATCHED_KEYS} (sku, location) pairs; split it"
        )
    return skus, locations, channel(msg.channel)


def scan(msg: pb.ScanRequest) -> commands.ApplyScan:
    kind = convert.SCAN_KINDS_FROM_PROTO.get(msg.kind)
    if kind is None:
        raise InvalidArgument("kind must be one of " + ", ".join(pb.ScanKind.keys()[1:]))
    if kind is ScanKind.COUNT:
        quantity = check.non_negative("quantity", msg.quantity)
    elif kind is ScanKind.ADJUST:
        if msg.quantity == 0:
            raise InvalidArgument("quantity (the correction) must not be zero")
        check.quantity("abs(quantity)", abs(msg.quantity))
        quantity = msg.quantity
    else:
        quantity = check.quantity("quantity", msg.quantity)
    target = ""
    if kind is ScanKind.MOVE:
        target = check.identifier("target_location_id", msg.target_location_id)
        if target == msg.location_id:
            raise InvalidArgument("a move needs a target_location_id other than location_id")
    elif msg.target_location_id:
        raise InvalidArgument("target_location_id is for MOVE scans only")
    if bool(msg.sku) == bool(msg.barcode):
        raise InvalidArgument("give either sku or barcode")
    if msg.purchase_order_id and kind is not ScanKind.RECEIVE:
        raise InvalidArgument("purchase_order_id is for RECEIVE scans only")
    return commands.ApplyScan(
        scan_id=check.identifier("scan_id", msg.scan_id),
        device_id=check.identifier("device_id", msg.device_id),
        kind=kind,
        sku=check.optional_identifier("sku", msg.sku),
        barcode=check.optional_identifier("barcode", msg.barcode),
        location_id=check.identifier("location_id", msg.location_id),
        quantity=quantity,
        target_location_id=target,
        reference=check.text("reference", msg.reference, max_length=MAX_NOTE),
        purchase_order_id=check.optional_identifier("purchase_order_id", msg.purchase_order_id),
    )


def barcodes(msg: pb.RegisterBarcodesRequest) -> commands.RegisterBarcodes:
    check.lines("barcodes", msg.barcodes)
    pairs: dict[str, str] = {}
    for i, barcode in enumerate(msg.barcodes):
        code = check.identifier(f"barcodes[{i}].code", barcode.code)
        if code in pairs:
            raise InvalidArgument(f"barcodes[{i}]: {code} is given twice")
        pairs[code] = check.identifier(f"barcodes[{i}].sku", barcode.sku)
    return commands.RegisterBarcodes(pairs)


MAX_LOOKUP_CODES = 100


def barcode_codes(msg: pb.LookupBarcodesRequest) -> list[str]:
    """1 to 100 codes, each well-formed and given once (as RegisterBarcodes takes them)."""
    if not msg.codes:
        raise InvalidArgument("codes must name at least one code")
    if len(msg.codes) > MAX_LOOKUP_CODES:
        raise InvalidArgument(
            f"codes may name at most {MAX_LOOKUP_CODES} codes, got {len(msg.codes)}"
        )
    seen: set[str] = set()
    for i, code in enumerate(msg.codes):
        check.identifier(f"codes[{i}]", code)
        if code in seen:
            raise InvalidArgument(f"codes[{i}]: {code} is given twice")
        seen.add(code)
    return list(msg.codes)


MAX_LEVELS_PAGE = 500


def levels_page(msg: pb.ListLevelsRequest) -> LevelsPage:
    """One page of a location's levels: which, from after which SKU, how many."""
    return LevelsPage(
        location_id=check.identifier("location_id", msg.location_id),
        sku_prefix=check.optional_identifier("sku_prefix", msg.sku_prefix),
        after_sku=_sku_after(msg.page_token),
        size=check.non_negative("page_size", msg.page_size, maximum=MAX_LEVELS_PAGE) or 100,
    )


def presale_page(msg: pb.ListPresalePoliciesRequest) -> PresalePage:
    """One page of presale policies, by channel then SKU, from after the token's."""
    after: tuple[str, str] | None = None
    if msg.page_token:
        channel_name, _, sku = msg.page_token.partition("|")
        if channel_name not in Channel.__members__ or not check.is_identifier(sku):
            raise InvalidArgument("page_token is not one this service gave out")
        after = (channel_name, sku)
    chosen = channel(msg.channel)
    return PresalePage(
        channel=chosen.value if chosen else "",
        sku=check.optional_identifier("sku", msg.sku),
        after=after,
        size=check.non_negative("page_size", msg.page_size, maximum=MAX_LEVELS_PAGE) or 100,
    )


def _sku_after(page_token: str) -> str:
    """The SKU a ListLevels page token continues after ("": from the first)."""
    if page_token and not check.is_identifier(page_token):
        raise InvalidArgument("page_token is not one this service gave out")
    return page_token


def query_keys(field: str, values: list[str], *, required: bool) -> list[str]:
    """A list of ids for a read: at most 1000, each well-formed."""
    if required and not values:
        raise InvalidArgument(f"{field} must name at least one id")
    if len(values) > MAX_QUERY_KEYS:
        raise InvalidArgument(f"{field} may name at most {MAX_QUERY_KEYS} ids")
    return [check.identifier(f"{field}[{i}]", v) for i, v in enumerate(values)]


# Movement ids as ListMovements gives them out: plain digits, within a signed 64-bit integer.
_MOVEMENT_TOKEN = re.compile(r"[0-9]{1,18}")


def movements_after(page_token: str) -> int:
    """The movement id a ListMovements page token continues after (0: from the first)."""
    if not page_token:
        return 0
    # Not str.isdigit: it takes "²" (which int() refuses) and other scripts' digits.
    if not _MOVEMENT_TOKEN.fullmatch(page_token):
        raise InvalidArgument("page_token is not one this service gave out")
    return int(page_token)


def _opt(msg: pb.Location | cpb.ShipTo, name: str) -> float | None:
    return getattr(msg, name) if msg.HasField(name) else None


# The furthest ahead a purchase order's units may be expected: past that, a mistyped year.
MAX_EXPECTED_AHEAD = timedelta(days=3 * 366)


def _expected_at(name: str, value: Timestamp) -> datetime:
    expected_at = time_from(name, value)
    if expected_at > utcnow() + MAX_EXPECTED_AHEAD:
        raise InvalidArgument(f"{name} is more than three years ahead")
    return expected_at


def create_purchase_order(msg: pb.CreatePurchaseOrderRequest) -> commands.CreatePurchaseOrder:
    check.lines("lines", msg.lines)
    check.each_once("sku", (line.sku for line in msg.lines))
    lines = []
    for i, line in enumerate(msg.lines):
        if not line.HasField("expected_at"):
            raise InvalidArgument(f"lines[{i}].expected_at is required")
        lines.append(
            (
                check.identifier(f"lines[{i}].sku", line.sku),
                check.quantity(f"lines[{i}].quantity", line.quantity),
                _expected_at(f"lines[{i}].expected_at", line.expected_at),
            )
        )
    return commands.CreatePurchaseOrder(
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        location_id=check.identifier("location_id", msg.location_id),
        supplier=check.text("supplier", msg.supplier, required=True, max_length=MAX_NOTE),
        reference=check.text("reference", msg.reference, max_length=MAX_NOTE),
        lines=tuple(lines),
    )


def receive_purchase_order(
    msg: pb.ReceivePurchaseOrderRequest,
) -> commands.ReceivePurchaseOrder:
    check.lines("lines", msg.lines)
    return commands.ReceivePurchaseOrder(
        purchase_order_id=check.identifier("id", msg.id),
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        lines=tuple(
            (
                check.identifier(f"lines[{i}].sku", line.sku),
                check.quantity(f"lines[{i}].quantity", line.quantity),
            )
            for i, line in enumerate(msg.lines)
        ),
        actor=check.text("actor", msg.actor, max_length=MAX_NOTE),
    )


def end_purchase_order(
    msg: pb.CancelPurchaseOrderRequest | pb.ClosePurchaseOrderRequest, *, cancel: bool
) -> commands.EndPurchaseOrder:
    return commands.EndPurchaseOrder(
        purchase_order_id=check.identifier("id", msg.id),
        cancel=cancel,
        reason=check.text("reason", msg.reason, max_length=check.MAX_TEXT_LENGTH),
    )


def amend_purchase_order(msg: pb.AmendPurchaseOrderRequest) -> commands.AmendPurchaseOrder:
    check.lines("lines", msg.lines)
    check.each_once("sku", (line.sku for line in msg.lines))
    lines = []
    for i, line in enumerate(msg.lines):
        if not (line.HasField("quantity") or line.HasField("expected_at")):
            raise InvalidArgument(f"lines[{i}]: give a new quantity, a new expected_at, or both")
        quantity = None
        if line.HasField("quantity"):
            quantity = check.non_negative(f"lines[{i}].quantity", line.quantity)
        expected_at = None
        if line.HasField("expected_at"):
            expected_at = _expected_at(f"lines[{i}].expected_at", line.expected_at)
        lines.append((check.identifier(f"lines[{i}].sku", line.sku), quantity, expected_at))
    return commands.AmendPurchaseOrder(
        purchase_order_id=check.identifier("id", msg.id),
        lines=tuple(lines),
        reason=check.text("reason", msg.reason, max_length=check.MAX_TEXT_LENGTH),
    )


def presale_policy(msg: pb.PresalePolicy) -> PresalePolicy:
    kind = convert.PRESALE_KINDS_FROM_PROTO.get(msg.kind)
    if kind is None:
        raise InvalidArgument("policy.kind must be PRESALE_KIND_BACKORDER or _PREORDER")
    cap = None
    if msg.HasField("cap"):
        cap = check.non_negative("policy.cap", msg.cap)
    return PresalePolicy(
        channel=required_channel(msg.channel).value,
        sku=check.identifier("policy.sku", msg.sku),
        kind=kind,
        cap=cap,
        enabled=not msg.paused,
    )


MAX_SOURCING_RULES = 10
MAX_RULE_NAMES = 50  # location ids, or regions, per rule


def sourcing_rules(msg: pb.SourcingRules) -> tuple[Channel, list[SourcingRule]]:
    if len(msg.rules) > MAX_SOURCING_RULES:
        raise InvalidArgument(f"rules.rules: at most {MAX_SOURCING_RULES}, not {len(msg.rules)}")
    rules = []
    for i, rule in enumerate(msg.rules):
        for name, values in (("location_ids", rule.location_ids), ("regions", rule.regions)):
            if len(values) > MAX_RULE_NAMES:
                raise InvalidArgument(f"rules.rules[{i}].{name}: at most {MAX_RULE_NAMES}")
        rules.append(
            SourcingRule(
                location_ids=frozenset(
                    check.identifier(f"rules.rules[{i}].location_ids[{j}]", loc)
                    for j, loc in enumerate(rule.location_ids)
                ),
                regions=frozenset(
                    check.identifier(f"rules.rules[{i}].regions[{j}]", region)
                    for j, region in enumerate(rule.regions)
                ),
                stores_may_ship=rule.stores_may_ship,
                max_locations=check.non_negative(
                    f"rules.rules[{i}].max_locations", rule.max_locations, maximum=100
                ),
                same_region_only=rule.same_region_only,
            )
        )
    return required_channel(msg.channel), rules


def list_purchase_orders(msg: pb.ListPurchaseOrdersRequest) -> PurchaseOrdersPage:
    status = None
    if msg.status != pb.PURCHASE_ORDER_STATUS_UNSPECIFIED:
        status = convert.PURCHASE_ORDER_STATUSES_FROM_PROTO.get(msg.status)
        if status is None:
            raise InvalidArgument(
                "status must be one of " + ", ".join(pb.PurchaseOrderStatus.keys()[1:])
            )
    return PurchaseOrdersPage(
        location_id=check.identifier("location_id", msg.location_id),
        status=status,
        token=msg.page_token,  # checked where it is read (omni.platform.pages)
        size=check.page_size(msg.page_size),
    )


def create_transfer(msg: pb.CreateTransferRequest) -> commands.CreateTransfer:
    check.lines("lines", msg.lines)
    check.each_once("sku", (line.sku for line in msg.lines))
    return commands.CreateTransfer(
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        origin_id=check.identifier("origin_id", msg.origin_id),
        destination_id=check.identifier("destination_id", msg.destination_id),
        reference=check.text("reference", msg.reference, max_length=MAX_NOTE),
        lines=tuple(
            (
                check.identifier(f"lines[{i}].sku", line.sku),
                check.quantity(f"lines[{i}].quantity", line.quantity),
            )
            for i, line in enumerate(msg.lines)
        ),
        ready=msg.ready,
    )


def receive_transfer(msg: pb.ReceiveTransferRequest) -> commands.ReceiveTransfer:
    check.lines("lines", msg.lines)
    lines = []
    for i, line in enumerate(msg.lines):
        accepted = check.non_negative(f"lines[{i}].accepted", line.accepted)
        rejected = check.non_negative(f"lines[{i}].rejected", line.rejected)
        if accepted + rejected == 0:
            raise InvalidArgument(f"lines[{i}] receives nothing: give accepted or rejected units")
        lines.append((check.identifier(f"lines[{i}].sku", line.sku), accepted, rejected))
    return commands.ReceiveTransfer(
        transfer_id=check.identifier("id", msg.id),
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        lines=tuple(lines),
        actor=check.text("actor", msg.actor, max_length=MAX_NOTE),
    )


def cancel_transfer(
    msg: pb.CancelTransferRequest | pb.CloseTransferRequest,
) -> commands.CancelTransfer:
    return commands.CancelTransfer(
        transfer_id=check.identifier("id", msg.id),
        reason=check.text("reason", msg.reason, max_length=check.MAX_TEXT_LENGTH),
    )


def list_transfers(msg: pb.ListTransfersRequest) -> TransfersPage:
    status = None
    if msg.status != pb.TRANSFER_STATUS_UNSPECIFIED:
        status = convert.TRANSFER_STATUSES_FROM_PROTO.get(msg.status)
        if status is None:
            raise InvalidArgument(
                "status must be one of " + ", ".join(pb.TransferStatus.keys()[1:])
            )
    return TransfersPage(
        location_id=check.identifier("location_id", msg.location_id),
        status=status,
        token=msg.page_token,  # checked where it is read (omni.platform.pages)
        size=check.page_size(msg.page_size),
    )
