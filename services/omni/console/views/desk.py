"""The orders desk: every order of the network, searched and filtered; one order with its
timeline, live, and the actions the person's role may take on it (the service decides)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from omni.common.v1 import common_pb2 as cpb
from omni.console import words
from omni.console.backends import Refused, attempt
from omni.console.figures import reading
from omni.console.live import KEEPALIVE, sse
from omni.console.web import (
    Console,
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
from omni.platform.db import is_connection_error
from omni.stock.v1 import stock_pb2 as spb

log = logging.getLogger(__name__)
PAGE = 50
CHANNELS = [c for c in cpb.Channel.values() if c]
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
        channel=cpb.Channel.Name(channel),
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
    if day:
        start = _day(day)
        if start is None:
            context |= {"orders": [], "refusal": "Placed on must be a date (YYYY-MM-DD)."}
            return render(request, "desk.html", **context)
        listing.placed_from.FromDatetime(start)  # the orders service filters: every page
        listing.placed_before.FromDatetime(start + timedelta(days=1))
    try:
        reply = await app.backends.call(
            "orders", app.backends.orders.ListOrders, listing, who.token
        )
        context |= {"orders": list(reply.orders), "older": reply.next_page_token}
    except Refused as exc:
        context |= {"orders": [], "refusal": exc.words}
    return render(request, "desk.html", **context)


def _enum(text: str | None, allowed: list[int]) -> int:
    return int(text) if text and text.isdecimal() and int(text) in allowed else 0


def _day(text: str) -> datetime | None:
    """The start (UTC) of the day `text` names (YYYY-MM-DD), or None if it names none."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


async def timeline(app: Console, order: opb.Order) -> dict[str, object]:
    """What happened to the order, in words, from the events of every service (the console's
    read model): placed, confirmed where, ready, shipped or collected, returned, refunded. When
    the read model has none of them (an order older than it keeps, or it cannot be read now),
    what the order itself says: when it was placed, and where it is now."""
    try:
        steps = await reading.timeline_of(app.figures.engine, order.id)
    except Exception as exc:
        if not is_connection_error(exc):
            log.exception("the timeline of %s cannot be read", order.id)
        steps = []
    return {"steps": steps or _from_order(order)}


def _from_order(order: opb.Order) -> list[tuple[datetime, str]]:
    placed, now = words.when(order.created_at), words.when(order.updated_at)
    steps = [(placed, f"Placed through {words.channel(order.channel)}")]
    if now is not None and order.status != opb.ORDER_STATUS_PENDING:
        steps.append((now, f"{words.order_status(order.status)} (earlier steps not on record)"))
    return [(at, said) for at, said in steps if at is not None]


@signed_in
async def order_page(request: Request) -> Response:
    order_id, app, who = request.path_params["order"], console(request), session(request)
    try:
        reply = await app.backends.call(
            "orders", app.backends.orders.GetOrder, opb.GetOrderRequest(id=order_id), who.token
        )
    except Refused as exc:
        return cannot_show(request, "This order cannot be shown", exc, section="desk")
    steps = await timeline(app, reply.order)
    return render(request, "desk_order.html", section="desk", **_shown(reply.order), **steps)


def _shown(order: opb.Order, done: str = "", refusal: str = "") -> dict[str, object]:
    return {
        "order": order,
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
    """Server-sent events: the order and its timeline again on every change: the order as
    WatchOrder gives it, the timeline as the read model gets each service's events (a pickup
    made ready, a refund) looked at every second."""
    order_id, app, who = request.path_params["order"], console(request), session(request)

    async def events() -> AsyncGenerator[str]:
        watch = opb.WatchOrderRequest(id=order_id)
        drawn = ""
        while True:
            try:
                async with contextlib.aclosing(_order_or_tick(app, watch, who.token)) as orders:
                    async for order in orders:
                        shown = _shown(order) | {"live": True} | await timeline(app, order)
                        html = fragment("_timeline.html", **shown)
                        if html != drawn:
                            drawn = html
                            yield sse("timeline", html)
            except Refused as exc:
                drawn = ""
                yield sse("timeline", fragment("_refused.html", refusal=exc.words))
            await asyncio.sleep(2)
            yield KEEPALIVE

    return app.live.response(events(), who.ends)


async def _order_or_tick(
    app: Console, watch: opb.WatchOrderRequest, token: str
) -> AsyncGenerator[opb.Order]:
    """The order on each change, and again every second between changes."""
    updates = aiter(app.backends.stream("orders", app.backends.orders.WatchOrder, watch, token))
    order: opb.Order | None = None
    following = asyncio.ensure_future(anext(updates))
    try:
        while True:
            done, _ = await asyncio.wait({following}, timeout=1.0)
            if done:
                try:
                    order = following.result().order
                except StopAsyncIteration:
                    return
                following = asyncio.ensure_future(anext(updates))
            if order is not None:
                yield order
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)


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
        order, done, refusal = got.order, "", exc.words
    else:
        refusal = ""
    return render(request, "_desk_order.html", **_shown(order, done, refusal))


def _shipment(order_id: str, form: Mapping[str, str]) -> opb.RecordShipmentRequest:
    lines = []
    for name, value in form.items():
        units = value.strip()
        if name.startswith("ship:") and units.isdecimal() and len(units) <= 6 and int(units) > 0:
            lines.append(opb.ShipmentLine(sku=name.removeprefix("ship:"), quantity=int(value)))
    return opb.RecordShipmentRequest(
        order_id=order_id,
        shipment_id=form.get("key", ""),
        location_id=form.get("location", ""),
        lines=lines,
        carrier=form.get("carrier", "").strip(),
        tracking_number=form.get("tracking", "").strip(),
    )
