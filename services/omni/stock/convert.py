"""Conversions between the stock domain and its protobuf messages (the wire)."""

from __future__ import annotations

from datetime import datetime

from omni.common.v1 import common_pb2 as cpb
from omni.platform.wire import CHANNELS, set_time
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.events import Units
from omni.stock.domain.model import (
    Location,
    LocationKind,
    Movement,
    MovementKind,
    Reservation,
    ReservationStatus,
    ScanKind,
    ShortLine,
    StockLevel,
)
from omni.stock.domain.presale import PresaleKind, PresalePolicy
from omni.stock.domain.purchasing import PurchaseOrder, PurchaseOrderStatus, Supply
from omni.stock.domain.sourcing import SourcingRule
from omni.stock.domain.transfers import Transfer, TransferStatus
from omni.stock.v1 import stock_pb2 as pb

LOCATION_KINDS = {
    LocationKind.WAREHOUSE: pb.LOCATION_KIND_WAREHOUSE,
    LocationKind.STORE: pb.LOCATION_KIND_STORE,
}
LOCATION_KINDS_FROM_PROTO = {v: k for k, v in LOCATION_KINDS.items()}
# The wire enums are named after the domain's: RESERVATION_STATUS_<X>, MOVEMENT_KIND_<X>.
RESERVATION_STATUSES = {s: getattr(pb, f"RESERVATION_STATUS_{s.value}") for s in ReservationStatus}
MOVEMENT_KINDS = {k: getattr(pb, f"MOVEMENT_KIND_{k.value}") for k in MovementKind}
PURCHASE_ORDER_STATUSES = {
    s: getattr(pb, f"PURCHASE_ORDER_STATUS_{s.value}") for s in PurchaseOrderStatus
}
PURCHASE_ORDER_STATUSES_FROM_PROTO = {v: k for k, v in PURCHASE_ORDER_STATUSES.items()}
TRANSFER_STATUSES = {s: getattr(pb, f"TRANSFER_STATUS_{s.value}") for s in TransferStatus}
TRANSFER_STATUSES_FROM_PROTO = {v: k for k, v in TRANSFER_STATUSES.items()}


SCAN_KINDS_FROM_PROTO = {getattr(pb, f"SCAN_KIND_{k.value}"): k for k in ScanKind}


def channel_view_to_proto(view: ChannelView) -> pb.ChannelView:
    return pb.ChannelView(
        channel=CHANNELS[view.channel],
        buffers=[
            pb.ChannelBuffer(location_kind=LOCATION_KINDS[kind], units=units)
            for kind, units in sorted(view.buffers.items())
        ],
    )


def location_to_proto(loc: Location, taken_today: int = 0) -> pb.Location:
    return pb.Location(
        id=loc.id,
        name=loc.name,
        kind=LOCATION_KINDS[loc.kind],
        ships=loc.ships,
        pickup=loc.pickup,
        accepts_returns=loc.accepts_returns,
        region=loc.region,
        latitude=loc.latitude,
        longitude=loc.longitude,
        priority=loc.priority,
        daily_capacity=loc.daily_capacity,
        paused=loc.paused,
        taken_today=taken_today,
    )


# The *_to_proto functions below fill `into` when given (a field of an enclosing message, e.g.
# an event's), which spares building a message only to copy it there.


def level_to_proto(
    level: StockLevel, available: int | None = None, into: pb.StockLevel | None = None
) -> pb.StockLevel:
    """`available` overrides the level's own (e.g. as a channel sees it)."""
    msg = pb.StockLevel() if into is None else into
    msg.sku = level.sku
    msg.location_id = level.location_id
    msg.on_hand = level.on_hand
    msg.reserved = level.reserved
    msg.safety_stock = level.safety_stock
    msg.damaged = level.damaged
    msg.available = level.available if available is None else available
    msg.version = level.version
    msg.incoming = level.incoming
    msg.backordered = level.backordered
    return msg


def movement_to_proto(
    m: Movement, movement_id: int = 0, at: datetime | None = None, into: pb.Movement | None = None
) -> pb.Movement:
    msg = pb.Movement() if into is None else into
    msg.id = movement_id
    msg.sku = m.sku
    msg.location_id = m.location_id
    msg.kind = MOVEMENT_KINDS[m.kind]
    msg.on_hand_delta = m.on_hand_delta
    msg.reserved_delta = m.reserved_delta
    msg.damaged_delta = m.damaged_delta
    msg.safety_stock_delta = m.safety_stock_delta
    msg.reference = m.reference
    msg.actor = m.actor
    msg.version = m.version
    msg.incoming_delta = m.incoming_delta
    msg.backordered_delta = m.backordered_delta
    if at is not None:
        set_time(msg.occurred_at, at)
    return msg


def reservation_to_proto(r: Reservation, into: pb.Reservation | None = None) -> pb.Reservation:
    msg = pb.Reservation() if into is None else into
    msg.id = r.id
    msg.reference = r.reference
    msg.status = RESERVATION_STATUSES[r.status]
    for ln in r.lines:
        line = msg.lines.add(
            sku=ln.sku,
            location_id=ln.location_id,
            quantity=ln.quantity,
            committed=ln.committed,
            released=ln.released,
            backordered=ln.waiting + ln.coming,
        )
        if ln.expected_at is not None:
            set_time(line.expected_at, ln.expected_at)
    set_time(msg.created_at, r.created_at)
    if r.expires_at is not None:
        set_time(msg.expires_at, r.expires_at)
    if r.channel:
        msg.channel = CHANNELS[Channel(r.channel)]
    return msg


PRESALE_KINDS = {k: getattr(pb, f"PRESALE_KIND_{k.value}") for k in PresaleKind}
PRESALE_KINDS_FROM_PROTO = {v: k for k, v in PRESALE_KINDS.items()}


def presale_policy_to_proto(
    policy: PresalePolicy, into: pb.PresalePolicy | None = None
) -> pb.PresalePolicy:
    msg = pb.PresalePolicy() if into is None else into
    msg.channel = CHANNELS[Channel(policy.channel)]
    msg.sku = policy.sku
    msg.kind = PRESALE_KINDS[policy.kind]
    if policy.cap is not None:
        msg.cap = policy.cap
    msg.paused = not policy.enabled
    msg.waiting = policy.waiting
    return msg


def sourcing_rules_to_proto(channel: str, rules: list[SourcingRule]) -> pb.SourcingRules:
    return pb.SourcingRules(
        channel=CHANNELS[Channel(channel)],
        rules=[
            pb.SourcingRule(
                location_ids=sorted(rule.location_ids),
                regions=sorted(rule.regions),
                stores_may_ship=rule.stores_may_ship,
                max_locations=rule.max_locations,
                same_region_only=rule.same_region_only,
            )
            for rule in rules
        ],
    )


def short_lines_to_proto(lines: list[ShortLine]) -> list[cpb.ShortLine]:
    return [
        cpb.ShortLine(
            sku=s.sku, location_id=s.location_id, requested=s.requested, available=s.available
        )
        for s in lines
    ]


def purchase_order_to_proto(
    po: PurchaseOrder, into: pb.PurchaseOrder | None = None
) -> pb.PurchaseOrder:
    msg = pb.PurchaseOrder() if into is None else into
    msg.id = po.id
    msg.location_id = po.location_id
    msg.supplier = po.supplier
    msg.reference = po.reference
    msg.status = PURCHASE_ORDER_STATUSES[po.status]
    for line in po.lines:
        added = msg.lines.add(sku=line.sku, quantity=line.quantity, received=line.received)
        set_time(added.expected_at, line.expected_at)
    set_time(msg.created_at, po.created_at)
    set_time(msg.updated_at, po.updated_at)
    msg.version = po.version
    return msg


def units_to_proto(units: Units) -> list[pb.ReceivedLine]:
    return [pb.ReceivedLine(sku=sku, quantity=qty) for sku, qty in units]


def promise_to_proto(
    levels: dict[tuple[str, str], int],
    network: dict[str, int],
    supply: list[Supply],
    into: pb.GetAvailabilityResponse,
    *,
    with_orders: bool,
) -> None:
    """What may be promised by a time, into GetAvailability's answer (`with_orders`: naming
    the purchase order behind each supply entry)."""
    for (sku, location_id), units in sorted(levels.items()):
        into.promised.add(sku=sku, location_id=location_id, available=units)
    for sku, units in network.items():
        into.network_promised.add(sku=sku, available=units)
    for entry in supply:
        added = into.supply.add(
            sku=entry.sku,
            location_id=entry.location_id,
            quantity=entry.quantity,
            purchase_order_id=entry.purchase_order_id if with_orders else "",
        )
        set_time(added.expected_at, entry.expected_at)


def transfer_to_proto(t: Transfer, into: pb.Transfer | None = None) -> pb.Transfer:
    msg = pb.Transfer() if into is None else into
    msg.id = t.id
    msg.origin_id = t.origin_id
    msg.destination_id = t.destination_id
    msg.reference = t.reference
    msg.status = TRANSFER_STATUSES[t.status]
    for line in t.lines:
        msg.lines.add(
            sku=line.sku, quantity=line.quantity, accepted=line.accepted, rejected=line.rejected
        )
    msg.reservation_id = t.reservation_id
    set_time(msg.created_at, t.created_at)
    set_time(msg.updated_at, t.updated_at)
    msg.version = t.version
    msg.for_reservation_id = t.for_reservation_id
    return msg
