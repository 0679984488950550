"""Conversions between the stock domain and its protobuf messages (the wire)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from omni.stock.domain.channels import Channel, ChannelView
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
from omni.stock.v1 import stock_pb2 as pb

LOCATION_KINDS = {
    LocationKind.WAREHOUSE: pb.LOCATION_KIND_WAREHOUSE,
    LocationKind.STORE: pb.LOCATION_KIND_STORE,
}
LOCATION_KINDS_FROM_PROTO = {v: k for k, v in LOCATION_KINDS.items()}
# The wire enums are named after the domain's: RESERVATION_STATUS_<X>, MOVEMENT_KIND_<X>.
RESERVATION_STATUSES = {s: getattr(pb, f"RESERVATION_STATUS_{s.value}") for s in ReservationStatus}
MOVEMENT_KINDS = {k: getattr(pb, f"MOVEMENT_KIND_{k.value}") for k in MovementKind}


SCAN_KINDS_FROM_PROTO = {getattr(pb, f"SCAN_KIND_{k.value}"): k for k in ScanKind}
CHANNELS = {c: getattr(pb, f"CHANNEL_{c.value}") for c in Channel}
CHANNELS_FROM_PROTO = {v: k for k, v in CHANNELS.items()}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def channel_view_to_proto(view: ChannelView) -> pb.ChannelView:
    return pb.ChannelView(
        channel=CHANNELS[view.channel],
        buffers=[
            pb.ChannelBuffer(location_kind=LOCATION_KINDS[kind], units=units)
            for kind, units in sorted(view.buffers.items())
        ],
    )


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    set_time(ts, value)
    return ts


def set_time(field: Timestamp, value: datetime) -> None:
    """Sets a message's timestamp field in place, by arithmetic: a third of the cost of
    Timestamp.FromDatetime (and no copy), several times per reservation."""
    since = (value if value.tzinfo else value.replace(tzinfo=UTC)) - _EPOCH
    field.seconds = since.days * 86_400 + since.seconds
    field.nanos = since.microseconds * 1000


def location_to_proto(loc: Location) -> pb.Location:
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
    )


def level_to_proto(level: StockLevel, available: int | None = None) -> pb.StockLevel:
    """`available` overrides the level's own (e.g. as a channel sees it)."""
    return pb.StockLevel(
        sku=level.sku,
        location_id=level.location_id,
        on_hand=level.on_hand,
        reserved=level.reserved,
        safety_stock=level.safety_stock,
        damaged=level.damaged,
        available=level.available if available is None else available,
        version=level.version,
    )


def movement_to_proto(m: Movement, movement_id: int = 0, at: datetime | None = None) -> pb.Movement:
    msg = pb.Movement(
        id=movement_id,
        sku=m.sku,
        location_id=m.location_id,
        kind=MOVEMENT_KINDS[m.kind],
        on_hand_delta=m.on_hand_delta,
        reserved_delta=m.reserved_delta,
        damaged_delta=m.damaged_delta,
        safety_stock_delta=m.safety_stock_delta,
        reference=m.reference,
        actor=m.actor,
        version=m.version,
    )
    if at is not None:
        set_time(msg.occurred_at, at)
    return msg


def reservation_to_proto(r: Reservation) -> pb.Reservation:
    msg = pb.Reservation(id=r.id, reference=r.reference, status=RESERVATION_STATUSES[r.status])
    for ln in r.lines:
        msg.lines.add(
            sku=ln.sku,
            location_id=ln.location_id,
            quantity=ln.quantity,
            committed=ln.committed,
            released=ln.released,
        )
    set_time(msg.created_at, r.created_at)
    if r.expires_at is not None:
        set_time(msg.expires_at, r.expires_at)
    return msg


def short_lines_to_proto(lines: list[ShortLine]) -> list[pb.ShortLine]:
    return [
        pb.ShortLine(
            sku=s.sku, location_id=s.location_id, requested=s.requested, available=s.available
        )
        for s in lines
    ]
