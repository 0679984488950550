"""The endless aisle: where a SKU can be had (this store, nearby stores by distance, the
network for shipping), live, and a sale placed for the customer from wherever it is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping

import grpc
from starlette.requests import Request
from starlette.responses import Response

from omni.common.v1 import common_pb2 as cpb
from omni.console import words
from omni.console.backends import Refused
from omni.console.live import KEEPALIVE, sse
from omni.console.sessions import Session
from omni.console.views.scanning import sku_for
from omni.console.web import (
    Console,
    console,
    fields,
    fragment,
    new_key,
    render,
    session,
    signed_in,
)
from omni.orders.v1 import orders_pb2 as opb
from omni.stock.v1 import stock_pb2 as spb


async def where(app: Console, who: Session, store: str, sku: str) -> dict[str, object]:
    """The availability panel's figures, as the POS channel sees them."""
    locations, levels = await asyncio.gather(
        app.backends.call(
            "stock", app.backends.stock.ListLocations, spb.ListLocationsRequest(), who.token
        ),
        app.backends.call(
            "stock",
            app.backends.stock.GetAvailability,
            spb.GetAvailabilityRequest(skus=[sku], channel=cpb.CHANNEL_POS),
            who.token,
        ),
    )
    network = next((n.available for n in levels.network if n.sku == sku), 0)
    shown = panel(store, sku, list(locations.locations), list(levels.levels), network)
    here = shown["here"]
    regions = sorted({loc.region for loc in locations.locations if loc.region})
    return shown | {
        "known": bool(levels.levels),  # stock of it recorded somewhere, ever
        "regions": regions,
        "region": here.region if isinstance(here, spb.Location) else "",
        "pickup_choices": pickup_choices(store, shown),
    }


def pickup_choices(store: str, shown: dict[str, object]) -> list[tuple[spb.Location, int]]:
    """Stores a customer may collect at, those that have it first (this store before others)."""
    here, others = shown["here"], shown["stores"]
    choices = [(here, int(str(shown["here_available"])))] if isinstance(here, spb.Location) else []
    choices += [(s["location"], s["available"]) for s in others]  # type: ignore[attr-defined]
    choices = [(loc, n) for loc, n in choices if loc.pickup]
    return sorted(choices, key=lambda c: (c[1] == 0, c[0].id != store))


def panel(
    store: str, sku: str, locations: list[spb.Location], levels: list[spb.StockLevel], network: int
) -> dict[str, object]:
    """This store's figure, the other stores nearest first, and the network's."""
    by_id = {loc.id: loc for loc in locations}
    here = by_id.get(store)
    available = {lvl.location_id: lvl.available for lvl in levels}
    stores = []
    for loc in locations:
        if loc.kind != spb.LOCATION_KIND_STORE or loc.id == store:
            continue
        km = words.km_between(here, loc) if here else None
        stores.append({"location": loc, "km": km, "available": available.get(loc.id, 0)})
    stores.sort(key=lambda s: (s["km"] is None, s["km"] or 0, s["location"].id))  # type: ignore[union-attr]
    return {
        "sku": sku,
        "here": here,
        "here_available": available.get(store, 0),
        "stores": stores,
        "network": network,
    }


@signed_in
async def aisle_page(request: Request) -> Response:
    store, typed = request.path_params["store"], request.query_params.get("q", "").strip()[:200]
    app, who = console(request), session(request)
    context: dict[str, object] = {"section": "aisle", "store": store, "q": typed}
    if typed:
        try:
            sku = await sku_for(app.backends, typed, who.token)
            found = await where(app, who, store, sku)
            if not found["known"] and sku.upper() != sku:  # typed in lower case, perhaps
                upper = await where(app, who, store, sku.upper())
                found = upper if upper["known"] else found
            context |= found | {"key": new_key("sale"), "currency": app.settings.currency}
            if not found["known"]:
                context["refusal"] = (
                    f"No stock of {found['sku']} is recorded anywhere. Check the SKU, or scan "
                    "the barcode."
                )
        except Refused as exc:
            context["refusal"] = exc.words
    return render(request, "aisle.html", **context)


@signed_in
async def aisle_live(request: Request) -> Response:
    """Server-sent events: the availability panel again whenever a level of the SKU moves."""
    store, sku = request.path_params["store"], request.query_params.get("sku", "")[:200]
    app, who = console(request), session(request)

    async def events() -> AsyncGenerator[str]:
        while True:
            try:
                async for html in _panels(app, who, store, sku):
                    yield sse("availability", html)
            except Refused as exc:
                yield sse("availability", fragment("_refused.html", refusal=exc.words))
            await asyncio.sleep(2)  # the stream broke (a replica went away): watch again
            yield KEEPALIVE

    return app.live.response(events(), who.ends)


async def _panels(app: Console, who: Session, store: str, sku: str) -> AsyncIterator[str]:
    locations = await app.backends.call(
        "stock", app.backends.stock.ListLocations, spb.ListLocationsRequest(), who.token
    )
    levels: dict[str, spb.StockLevel] = {}
    network = 0
    watch = spb.WatchAvailabilityRequest(skus=[sku], channel=cpb.CHANNEL_POS)
    async for update in app.backends.stream(
        "stock", app.backends.stock.WatchAvailability, watch, who.token
    ):
        if update.HasField("level"):
            levels[update.level.location_id] = update.level
        else:
            network = update.network.available
        shown = panel(store, sku, list(locations.locations), list(levels.values()), network)
        yield fragment("_availability.html", store=store, **shown)


@signed_in
async def sell(request: Request) -> Response:
    """PlaceOrder for the customer at the counter (channel POS)."""
    store = request.path_params["store"]
    app, who, form = console(request), session(request), await fields(request)
    sku = form.get("sku", "")
    context: dict[str, object] = {"store": store}
    placed = _order_request(form, sku, app.settings.currency)
    if isinstance(placed, str):
        return render(request, "_sale.html", refusal=placed, fresh_key=new_key("sale"), **context)
    try:
        reply = await app.backends.call("orders", app.backends.orders.PlaceOrder, placed, who.token)
    except Refused as exc:
        # Refused: the next press is a new sale. Otherwise the order may have been placed:
        # pressing again must send the same key, so the customer is not sold it twice.
        words = _SENT_BEFORE if exc.code == grpc.StatusCode.ALREADY_EXISTS else exc.words
        fresh = new_key("sale") if exc.final else ""
        return render(request, "_sale.html", refusal=words, fresh_key=fresh, **context)
    return render(request, "_sale.html", O=opb, **_decided(reply.order), **context)


def _decided(order: opb.Order) -> dict[str, object]:
    """An order to show; once stock has decided it, the form's next press is a new sale."""
    decided = order.status != opb.ORDER_STATUS_PENDING
    return {"order": order, "fresh_key": new_key("sale") if decided else ""}


_SENT_BEFORE = (
    "This sale was sent before with other details. Check them, then press Place order again "
    "to place it as a new sale."
)


def _order_request(form: Mapping[str, str], sku: str, currency: str) -> opb.PlaceOrderRequest | str:
    """The order the form describes, or what is wrong with the form, in words."""
    quantity = form.get("quantity", "").strip()
    price = words.to_minor(form.get("price", ""), currency)
    if not quantity.isdecimal() or not 0 < int(quantity) < 10_000:
        return "Enter how many units the customer wants."
    if price is None:
        return f"Enter the price of one unit in {currency}, e.g. 49.99."
    request = opb.PlaceOrderRequest(
        idempotency_key=form.get("key", ""),
        channel=cpb.CHANNEL_POS,
        customer_id=form.get("customer", "").strip(),
        currency=currency,
        lines=[opb.PlaceOrderLine(sku=sku, quantity=int(quantity), unit_price=price)],
    )
    if form.get("fulfilment") == "pickup":
        request.pickup.location_id = form.get("pickup_store", "")
    else:
        request.ship.region = form.get("region", "").strip()
    return request


@signed_in
async def order_live(request: Request) -> Response:
    """Server-sent events: a placed order until stock has decided it."""
    store, order_id = request.path_params["store"], request.path_params["order"]
    app, who = console(request), session(request)

    async def events() -> AsyncGenerator[str]:
        watch = opb.WatchOrderRequest(id=order_id)
        while True:
            try:
                async for update in app.backends.stream(
                    "orders", app.backends.orders.WatchOrder, watch, who.token
                ):
                    html = fragment(
                        "_sale.html", store=store, O=opb, live=True, **_decided(update.order)
                    )
                    yield sse("order", html)
                    if update.order.status != opb.ORDER_STATUS_PENDING:
                        yield sse("decided", "")  # the page closes the stream on this
                        return
            except Refused as exc:
                yield sse("order", fragment("_refused.html", refusal=exc.words))
            await asyncio.sleep(2)

    return app.live.response(events(), who.ends)
