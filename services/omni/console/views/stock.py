"""Stock at this store: every level, live; one SKU's ledger; a manager's count and
adjustment; the ship orders the store takes (its daily capacity, and a pause)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import grpc
from starlette.requests import Request
from starlette.responses import Response

from omni.console.backends import Refused, attempt
from omni.console.sessions import Session
from omni.console.web import (
    Console,
    console,
    fields,
    new_key,
    refuse,
    render,
    session,
    signed_in,
)
from omni.platform.auth import Role
from omni.stock.v1 import stock_pb2 as spb

PAGE = 100


@dataclass(frozen=True)
class Shelf:
    """One page of a store's levels: SKUs starting with `prefix`, after the SKU `after`."""

    store: str
    prefix: str
    after: str

    @classmethod
    def of(cls, request: Request) -> Shelf:
        query = request.query_params
        return cls(
            request.path_params["store"],
            query.get("prefix", "")[:100],
            query.get("after", "")[:100],
        )

    @property
    def query(self) -> str:
        return urlencode({"prefix": self.prefix, "after": self.after})


def drawn(skus: list[str]) -> str:
    """A short fingerprint of the SKUs a page drew, so its live stream knows them."""
    return hashlib.sha256("\n".join(skus).encode()).hexdigest()[:16]


async def levels_at(app: Console, who: Session, shelf: Shelf) -> spb.ListLevelsResponse:
    return await app.backends.call(
        "stock",
        app.backends.stock.ListLevels,
        spb.ListLevelsRequest(
            location_id=shelf.store,
            sku_prefix=shelf.prefix,
            page_token=shelf.after,
            page_size=PAGE,
        ),
        who.token,
    )


@signed_in
async def stock_page(request: Request) -> Response:
    shelf = Shelf.of(request)
    context: dict[str, object] = {"section": "stock", "store": shelf.store, "shelf": shelf}
    app, who = console(request), session(request)
    try:
        page = await levels_at(app, who, shelf)
        skus = [level.sku for level in page.levels]
        context |= {"levels": page.levels, "after": page.next_page_token, "drawn": drawn(skus)}
    except Refused as exc:
        context |= {"levels": [], "refusal": exc.words}
    context |= await _shipping_context(app, who, shelf.store)
    return render(request, "stock.html", **context)


async def _shipping_context(app: Console, who: Session, store: str) -> dict[str, object]:
    found = await attempt(
        app.backends.call(
            "stock", app.backends.stock.GetLocation, spb.GetLocationRequest(id=store), who.token
        )
    )
    return {
        "place": found.location if isinstance(found, spb.GetLocationResponse) else None,
        "sets_shipping": who.role in (Role.MANAGER, Role.SERVICE),  # stock decides
    }


@signed_in
async def shipping(request: Request) -> Response:
    """A manager pauses or resumes the store's ship orders, or sets how many it takes a day."""
    store = request.path_params["store"]
    app, who, form = console(request), session(request), await fields(request)
    done, refusal = "", ""
    try:
        change = _shipping_change(store, form)
        reply = await app.backends.call(
            "stock", app.backends.stock.SetLocationCapacity, change, who.token
        )
        done = _shipping_done(change, reply.location)
    except Refused as exc:
        refusal = exc.words
    context = await _shipping_context(app, who, store)
    return render(
        request,
        "_shipping.html",
        store=store,
        shipping_done=done,
        shipping_refusal=refusal,
        **context,
    )


def _shipping_change(store: str, form: Mapping[str, str]) -> spb.SetLocationCapacityRequest:
    change = spb.SetLocationCapacityRequest(location_id=store)
    if "paused" in form:
        change.paused = form["paused"] == "yes"
        return change
    typed = form.get("capacity", "").strip()
    if not typed:
        change.no_limit = True
    elif typed.isdecimal() and len(typed) <= 7:
        change.daily_capacity = int(typed)
    else:
        raise _form_says("Enter how many ship orders a day, e.g. 40, or leave it empty.")
    return change


def _shipping_done(change: spb.SetLocationCapacityRequest, now: spb.Location) -> str:
    if change.HasField("paused"):
        if now.paused:
            return "Paused: no new ship orders come to this store until you resume."
        return "Taking ship orders again."
    if now.HasField("daily_capacity"):
        return f"Up to {now.daily_capacity} ship orders a day."
    return "No daily limit on ship orders."


@signed_in
async def sku_page(request: Request) -> Response:
    store, sku = request.path_params["store"], request.query_params.get("sku", "")[:200]
    return render(
        request,
        "sku.html",
        section="stock",
        store=store,
        sku=sku,
        **await _sku_context(console(request), session(request), store, sku),
    )


async def _sku_context(app: Console, who: Session, store: str, sku: str) -> dict[str, object]:
    level_call = app.backends.call(
        "stock",
        app.backends.stock.GetAvailability,
        spb.GetAvailabilityRequest(skus=[sku], location_ids=[store]),
        who.token,
    )
    ledger_call = app.backends.call(
        "stock",
        app.backends.stock.ListMovements,
        spb.ListMovementsRequest(sku=sku, location_id=store, page_size=200),
        who.token,
    )
    level, ledger = await asyncio.gather(attempt(level_call), attempt(ledger_call))
    context: dict[str, object] = {"key": new_key("stock"), "level": None, "movements": []}
    if isinstance(level, spb.GetAvailabilityResponse):
        context["level"] = next(iter(level.levels), None)
    elif isinstance(level, Refused):
        context["refusal"] = level.words
    # The ledger, and the count and adjustment beside it, for whom stock shows it (managers).
    context["manages"] = isinstance(ledger, spb.ListMovementsResponse)
    if isinstance(ledger, spb.ListMovementsResponse):
        context["movements"] = list(reversed(ledger.movements))  # newest first
    elif isinstance(ledger, Refused) and ledger.code != grpc.StatusCode.PERMISSION_DENIED:
        context["ledger_refusal"] = ledger.words
    return context


async def _count(app: Console, who: Session, store: str, sku: str, form: Mapping[str, str]) -> str:
    counted = form.get("counted", "").strip()
    if not counted.isdecimal() or len(counted) > 9:
        raise _form_says("Enter the number of units you counted.")
    scan = spb.ScanRequest(
        scan_id=form.get("key", ""),
        device_id=f"console:{who.caller.subject}",
        kind=spb.SCAN_KIND_COUNT,
        sku=sku,
        location_id=store,
        quantity=int(counted),
    )
    reply = await app.backends.scan_once(scan, who.token)
    if reply.HasField("error"):
        raise Refused("stock", grpc.StatusCode.FAILED_PRECONDITION, reply.error.message)
    level = next(iter(reply.levels.levels), None)
    if level is not None and level.on_hand < level.reserved:
        short = level.reserved - level.on_hand
        return (
            f"Counted {counted}: on hand is now {counted}, below the {level.reserved} units "
            f"held for orders; {short} of them are not on the shelf."
        )
    return f"Counted {counted}: on hand is now {counted}."


async def _adjust(app: Console, who: Session, store: str, sku: str, form: Mapping[str, str]) -> str:
    text = form.get("delta", "").strip()
    number = text.removeprefix("-").removeprefix("+")
    if not number.isdecimal() or len(number) > 9 or int(number) == 0:
        raise _form_says("Enter the change in units, e.g. -2 or 3.")
    delta = -int(number) if text.startswith("-") else int(number)
    await app.backends.call(
        "stock",
        app.backends.stock.AdjustStock,
        spb.AdjustStockRequest(
            sku=sku,
            location_id=store,
            delta=delta,
            reason=form.get("reason", "").strip() or "counted at the store",
            actor=who.caller.subject,
            idempotency_key=form.get("key", ""),
        ),
        who.token,
    )
    return f"Adjusted on hand by {delta:+d}."


def _form_says(words: str) -> Refused:
    return Refused("console", grpc.StatusCode.INVALID_ARGUMENT, words)


Change = Callable[[Console, Session, str, str, Mapping[str, str]], Awaitable[str]]
CHANGES: dict[str, Change] = {"count": _count, "adjust": _adjust}


@signed_in
async def change(request: Request) -> Response:
    """A manager's count or adjustment; the page redrawn with what it did."""
    store = request.path_params["store"]
    app, who, form = console(request), session(request), await fields(request)
    sku = form.get("sku", "")
    done, refusal = "", ""
    step = CHANGES.get(request.path_params["action"])
    if step is None:
        return refuse(request, "There is no such change.", 404)
    try:
        done = await step(app, who, store, sku, form)
    except Refused as exc:
        refusal = exc.words
    context = await _sku_context(app, who, store, sku)
    context |= {"done": done, "refusal": refusal or context.get("refusal", "")}
    return render(request, "_sku.html", store=store, sku=sku, **context)
