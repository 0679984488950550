"""The orders desk: every order of the network, searched and filtered; one order with its
timeline, live, and the actions the person's role may take on it (the service decides)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from omni.console import words
from omni.console.backends import Refused, attempt
from omni.console.live import KEEPALIVE, sse
from omni.console.web import (
    cannot_show,
    console,
    fields,
    fragment,
    new_key,
    refuse,
    render,
    session,
    signed_in,
)
from omni.orders.v1 import orders_pb2 as opb
from omni.stock.v1 import stock_pb2 as spb

PAGE = 50
CHANNELS = [c for c in spb.Channel.values() if c]
STATUSES = [s for s in opb.OrderStatus.values() if s]


@signed_in
async def desk(request: Request) -> Response:
    """Orders newest first, by customer, channel, status and the day they were placed."""
    query = request.query_params
    customer, day = query.get("customer", "").strip()[:100], query.get("day", "")[:10]
    channel, status = _enum(query.get("channel"), CHANNELS), _enum(query.get("status"), STATUSES)
    app, who = console(request), session(request)
    listing = opb.ListOrdersRequest(
        customer_id=customer,
        channel=spb.Channel.Name(channel),
        status=opb.OrderStatus.Name(status),
        page_size=PAGE,
        page_token=query.get("after", "")[:200],
    )
    context: dict[str, object] = {
        "section": "desk",
        "customer": customer,
        "channel": channel,
        "status": status,
        "day": day,
        "channels": CHANNELS,
        "statuses": STATUSES,
        "O": opb,
        "S": spb,
    }
    try:
        reply = await app.backends.call(
            "orders", app.backends.orders.ListOrders, listing, who.token
        )
        context |= {
            "orders": [o for o in reply.orders if _on(o, day)],
            "older": reply.next_page_token,
        }
    except Refused as exc:
        context |= {"orders": [], "refusal": exc.words}
    return render(request, "desk.html", **context)


def _enum(text: str | None, allowed: list[int]) -> int:
    return int(text) if text and text.isdigit() and int(text) in allowed else 0


def _on(order: opb.Order, day: str) -> bool:
    """Placed on `day` (YYYY-MM-DD, UTC), or any day when none is given."""
    placed = words.when(order.created_at)
    return not day or (placed is not None and placed.astimezone(UTC).date().isoformat() == day)


def timeline(order: opb.Order) -> list[tuple[datetime | None, str]]:
    """What happened to the order, in order, in words."""
    steps: list[tuple[datetime | None, str]] = [(words.when(order.created_at), "Placed")]
    where = sorted({a.location_id for line in order.lines for a in line.allocations})
    if order.status == opb.ORDER_STATUS_REJECTED:
        steps.append((words.when(order.updated_at), f"Rejected: {order.reason or 'short'}"))
    elif where:
        steps.append((None, "Confirmed: from " + ", ".join(where)))
    pickup = order.HasField("pickup")
    for shipment in order.shipments:
        done = (
            "Collected at"
            if pickup and shipment.location_id == order.pickup.location_id
            else "Shipped from"
        )
        units = sum(line.quantity for line in shipment.lines)
        steps.append(
            (words.when(shipment.shipped_at), f"{done} {shipment.location_id}: {units} units")
        )
    if order.status == opb.ORDER_STATUS_CANCELLED:
        steps.append((words.when(order.updated_at), f"Cancelled: {order.reason}"))
    returned = sum(line.returned for line in order.lines)
    if returned:
        steps.append((None, f"Returned: {returned} units"))
    return steps


@signed_in
async def order_page(request: Request) -> Response:
    order_id, app, who = request.path_params["order"], console(request), session(request)
    try:
        reply = await app.backends.call(
            "orders", app.backends.orders.GetOrder, opb.GetOrderRequest(id=order_id), who.token
        )
    except Refused as exc:
        return cannot_show(request, "This order cannot be shown", exc, section="desk")
    return render(request, "desk_order.html", section="desk", **_shown(reply.order))


def _shown(order: opb.Order, done: str = "", refusal: str = "") -> dict[str, object]:
    return {
        "order": order,
        "steps": timeline(order),
        "done": done,
        "refusal": refusal,
        "key": new_key("shipment"),
        "O": opb,
        # Where units are still to leave from.
        "ship_from": sorted(
            {
                a.location_id
                for line in order.lines
                for a in line.allocations
                if a.quantity > a.shipped
            }
        ),
    }


@signed_in
async def order_live(request: Request) -> Response:
    """Server-sent events: the order's timeline again on every change."""
    order_id, app, who = request.path_params["order"], console(request), session(request)

    async def events() -> AsyncGenerator[str]:
        watch = opb.WatchOrderRequest(id=order_id)
        while True:
            try:
                async for update in app.backends.stream(
                    "orders", app.backends.orders.WatchOrder, watch, who.token
                ):
                    shown = _shown(update.order) | {"live": True}
                    yield sse("timeline", fragment("_timeline.html", **shown))
            except Refused as exc:
                yield sse("timeline", fragment("_refused.html", refusal=exc.words))
            await asyncio.sleep(2)
            yield KEEPALIVE

    return app.live.response(events(), who.ends)


@signed_in
async def act(request: Request) -> Response:
    """Cancel the order, or record a shipment of it; the order redrawn with what it did."""
    order_id, action = request.path_params["order"], request.path_params["action"]
    app, who, form = console(request), session(request), await fields(request)
    if action not in ("cancel", "ship"):
        return refuse(request, "That cannot be done to an order.", 404)
    try:
        if action == "cancel":
            cancel = opb.CancelOrderRequest(id=order_id, reason=form.get("reason", "").strip())
            reply = await app.backends.call(
                "orders", app.backends.orders.CancelOrder, cancel, who.token
            )
            order, done = reply.order, "Cancelled. Units not yet shipped are on sale again."
        else:
            shipped = await app.backends.call(
                "orders", app.backends.orders.RecordShipment, _shipment(order_id, form), who.token
            )
            order, done = shipped.order, "Shipment recorded. Stock commits its units."
    except Refused as exc:
        got = await attempt(
            app.backends.call(
                "orders", app.backends.orders.GetOrder, opb.GetOrderRequest(id=order_id), who.token
            )
        )
        if isinstance(got, Refused):
            return refuse(request, exc.words, exc.http_status)
        return render(request, "_desk_order.html", **_shown(got.order, refusal=exc.words))
    return render(request, "_desk_order.html", **_shown(order, done=done))


def _shipment(order_id: str, form: Mapping[str, str]) -> opb.RecordShipmentRequest:
    lines = []
    for name, value in form.items():
        units = value.strip()
        if name.startswith("ship:") and units.isdigit() and len(units) <= 6 and int(units) > 0:
            lines.append(opb.ShipmentLine(sku=name.removeprefix("ship:"), quantity=int(value)))
    return opb.RecordShipmentRequest(
        order_id=order_id,
        shipment_id=form.get("key", ""),
        location_id=form.get("location", ""),
        lines=lines,
        carrier=form.get("carrier", "").strip(),
        tracking_number=form.get("tracking", "").strip(),
    )
