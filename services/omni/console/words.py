"""How figures read on screen: money, ages, states and distances, in plain words."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from markupsafe import Markup

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2
from omni.pickup.v1 import pickup_pb2
from omni.platform.currency import digits
from omni.platform.currency import money as money  # words.money, as the screens say it
from omni.stock.v1 import stock_pb2

# 49.99, 1,299.00, 1299: a comma only between groups of three digits (so "19,99", which
# elsewhere means 19.99, is refused rather than read as 1999).
_AMOUNT = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")


def to_minor(text: str, currency: str) -> int | None:
    """An amount as typed ("49.99") in minor units (4999); None if it is not one."""
    found = _AMOUNT.match(text.strip())
    if found is None:
        return None
    whole, frac = found[1].replace(",", ""), found[2] or ""
    places = digits(currency)
    if len(whole) > 12 or len(frac) > places:
        return None
    return int(whole) * 10**places + int(frac.ljust(places, "0") or 0)


def when(ts: Timestamp) -> datetime | None:
    """The moment, or None if there is none (or one no calendar holds)."""
    if not (ts.seconds or ts.nanos):
        return None
    try:
        return ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def ago(ts: Timestamp, now: datetime | None = None) -> str:
    """How long ago, as a person says it: "just now", "12 min ago", "3 h ago", "2 days ago"."""
    then = when(ts)
    if then is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def stamp(ts: Timestamp) -> Markup:
    """A moment, in UTC, as a <time> the page shows in the device's time zone."""
    then = when(ts)
    if then is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(
        then.isoformat(), then.strftime("%Y-%m-%d %H:%M UTC")
    )


def _named(enum: Any, value: int, prefix: str) -> str:
    """An enum value in words; one this console does not know yet (a newer service's) by
    its number."""
    try:
        name = str(enum.Name(value))
    except ValueError:
        return f"Unknown ({value})"
    return name.removeprefix(prefix).replace("_", " ").capitalize()


def order_status(value: int) -> str:
    return _named(orders_pb2.OrderStatus, value, "ORDER_STATUS_")


def pickup_status(value: int) -> str:
    return _named(pickup_pb2.PickupStatus, value, "PICKUP_STATUS_")


def ship_status(value: int) -> str:
    return _named(pickup_pb2.ShipTaskStatus, value, "SHIP_TASK_STATUS_")


def rejection_reason(value: int) -> str:
    said: dict[int, str] = {
        cpb.REJECTION_REASON_NOT_IN_STOCK: "none on the shelf",
        cpb.REJECTION_REASON_MISMATCH: "fewer than the system says",
        cpb.REJECTION_REASON_DAMAGED: "damaged",
        cpb.REJECTION_REASON_NO_VARIANCE: "could not ship it now",
    }
    return said.get(value) or _named(cpb.RejectionReason, value, "REJECTION_REASON_")


def channel(value: int) -> str:
    names: dict[int, str] = {
        cpb.CHANNEL_CALL_CENTER: "Call centre",
        cpb.CHANNEL_POS: "Store (POS)",
    }
    return names.get(value) or _named(cpb.Channel, value, "CHANNEL_")


def channel_named(name: str) -> str:
    """A channel by its name without prefix ("WEB", as the read model keeps it)."""
    try:
        return channel(cpb.Channel.Value(f"CHANNEL_{name}"))
    except ValueError:
        return name.replace("_", " ").capitalize() or "Unknown"


def duration(seconds: float | None) -> str:
    """412.0 → "6 min 52 s"; None → "—"."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


# Ledger entries whose enum name says less than a person needs.
_MOVEMENTS = {
    stock_pb2.MOVEMENT_KIND_INBOUND: "Incoming",
    stock_pb2.MOVEMENT_KIND_BACKORDER: "Sold ahead",
    stock_pb2.MOVEMENT_KIND_FILL: "Arrived for an order that waited",
    stock_pb2.MOVEMENT_KIND_CUT: "Sold ahead, cancelled: supply not coming",
}


def movement(m: stock_pb2.Movement) -> str:
    """What a ledger entry did, in words: units held for a transfer (its reservation is
    `hold_…`) are not a customer's reservation."""
    if m.kind == stock_pb2.MOVEMENT_KIND_RESERVE and m.reference.startswith("hold_"):
        return "Held for a transfer"
    if m.kind == stock_pb2.MOVEMENT_KIND_INBOUND and m.incoming_delta <= 0:
        return "No longer expected" if m.incoming_delta else "Due date moved"
    return _MOVEMENTS.get(m.kind) or _named(stock_pb2.MovementKind, m.kind, "MOVEMENT_KIND_")


def km_between(a: stock_pb2.Location, b: stock_pb2.Location) -> float | None:
    """Great-circle distance, when both locations have coordinates."""
    if not all(loc.HasField(f) for loc in (a, b) for f in ("latitude", "longitude")):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))
