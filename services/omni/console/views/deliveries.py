"""Deliveries at this store: purchase orders due here and transfers on their way, each received
by scanning what arrived, one unit (or a few) at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from starlette.requests import Request
from starlette.responses import Response

from omni.console.backends import Refused, attempt
from omni.console.sessions import Session
from omni.console.views.scanning import sku_for
from omni.console.web import (
    Console,
    cannot_show,
    console,
    fields,
    new_key,
    refuse,
    render,
    session,
    signed_in,
)
from omni.platform.auth import Role
from omni.platform.validation import is_identifier
from omni.stock.v1 import stock_pb2 as spb

EXPECTING_PO = (spb.PURCHASE_ORDER_STATUS_OPEN, spb.PURCHASE_ORDER_STATUS_PARTIALLY_RECEIVED)
ARRIVING = (spb.TRANSFER_STATUS_IN_TRANSIT, spb.TRANSFER_STATUS_PARTIALLY_RECEIVED)
LEAVING = (spb.TRANSFER_STATUS_DRAFT, spb.TRANSFER_STATUS_READY_TO_SHIP)
MAX_UNITS = 10_000  # more in one go is a typing slip
PAGE = 500  # of each kind: a store's deliveries in flight


@signed_in
async def deliveries_page(request: Request) -> Response:
    return await _deliveries(request, request.path_params["store"])


async def _deliveries(request: Request, store: str, done: str = "") -> Response:
    app, who = console(request), session(request)
    asked_orders = [
        spb.ListPurchaseOrdersRequest(location_id=store, status=s, page_size=PAGE)
        for s in EXPECTING_PO
    ]
    asked_transfers = [
        spb.ListTransfersRequest(location_id=store, status=s, page_size=PAGE)
        for s in (*ARRIVING, *LEAVING)
    ]
    calls = [_call(app, who, "ListPurchaseOrders", r) for r in asked_orders]
    calls += [_call(app, who, "ListTransfers", r) for r in asked_transfers]
    found = await asyncio.gather(*(attempt(c) for c in calls))
    refusal = next((f.words for f in found if isinstance(f, Refused)), "")
    orders = [
        po
        for f in found[:2]
        if isinstance(f, spb.ListPurchaseOrdersResponse)
        for po in f.purchase_orders
    ]
    moving = [t for f in found[2:] if isinstance(f, spb.ListTransfersResponse) for t in f.transfers]
    coming = [t for t in moving if t.destination_id == store and t.status in ARRIVING]
    leaving = [t for t in moving if t.origin_id == store and t.status in LEAVING]
    return render(
        request,
        "deliveries.html",
        section="deliveries",
        store=store,
        orders=orders,
        to_come={po.id: sum(max(0, ln.quantity - ln.received) for ln in po.lines) for po in orders},
        transfers=coming,
        leaving=leaving,
        DRAFT=spb.TRANSFER_STATUS_DRAFT,
        refusal=refusal,
        done=done,
    )


@signed_in
async def send(request: Request) -> Response:
    """A transfer leaving the store: its units held (ready), or shipped."""
    store, ident, step = (request.path_params[k] for k in ("store", "id", "step"))
    app, who = console(request), session(request)
    if step not in SENDING:
        return refuse(request, "There is no such step.", 404)
    method, request_type, said = SENDING[step]
    try:
        await _call(app, who, method, request_type(id=ident))
    except Refused as exc:
        return refuse(request, exc.words, exc.http_status, title=f"Transfer {ident}")
    return await _deliveries(request, store, done=said.format(ident))  # again: harmless


SENDING: dict[str, tuple[str, Any, str]] = {
    "ready": ("ReadyTransfer", spb.ReadyTransferRequest, "Transfer {}: its units are set aside."),
    "ship": ("ShipTransfer", spb.ShipTransferRequest, "Transfer {} has left the store."),
}


@signed_in
async def delivery_page(request: Request) -> Response:
    store, kind, ident = (request.path_params[k] for k in ("store", "kind", "id"))
    app, who = console(request), session(request)
    title = "Purchase order" if kind == "po" else "Transfer"
    if kind not in KINDS:
        return refuse(request, "There is no such page.", 404)
    try:
        delivery = await _load(app, who, kind, ident)
    except Refused as exc:
        return cannot_show(request, f"{title} {ident}", exc, store=store)
    if delivery.store != store:
        return refuse(request, f"{title} {ident} is not delivered to {store}.", 404)
    return render(
        request,
        "delivery.html",
        section="deliveries",
        store=store,
        kind=kind,
        ident=ident,
        d=delivery,
        key=new_key("receive"),
        again={},
        first=True,
        closes=_closes(who, kind),
    )


def _closes(who: Session, kind: str) -> bool:
    """Whether to offer closing a purchase order: its store's manager may (stock decides)."""
    return kind == "po" and who.role in (Role.MANAGER, Role.SERVICE)


@signed_in
async def close(request: Request) -> Response:
    """The rest of a purchase order will not come: what it still expected is no longer
    incoming (orders waiting on it are told)."""
    store, ident = request.path_params["store"], request.path_params["id"]
    app, who, form = console(request), session(request), await fields(request)
    reason = form.get("reason", "").strip()[:200] or "closed at the store"
    done, refusal = "", ""
    try:
        await _call(
            app, who, "ClosePurchaseOrder", spb.ClosePurchaseOrderRequest(id=ident, reason=reason)
        )
        done = "Closed: nothing more is expected on this order."
    except Refused as exc:
        refusal = exc.words
    delivery: Delivery | None = None
    try:
        delivery = await _load(app, who, "po", ident)
    except Refused as exc:
        refusal = refusal or exc.words
    return render(
        request,
        "_delivery.html",
        store=store,
        kind="po",
        ident=ident,
        d=delivery,
        key=new_key("receive"),
        again={},
        done=done,
        refusal=refusal,
        closes=_closes(who, "po"),
    )


@signed_in
async def receive(request: Request) -> Response:
    """One scan of what arrived: received at once, the delivery redrawn with what it did."""
    store, kind, ident = (request.path_params[k] for k in ("store", "kind", "id"))
    if kind not in KINDS:
        return refuse(request, "There is no such page.", 404)
    app, who, form = console(request), session(request), await fields(request)
    done, refusal, retry = "", "", False
    try:
        done = await _receive(app, who, kind, ident, form)
    except Refused as exc:
        refusal = exc.words
        # Not refused but unanswered: it may have gone through. The same scan, with the same
        # key, is offered again, so that sending it again cannot receive it twice.
        retry = not exc.final
    delivery: Delivery | None = None
    try:
        delivery = await _load(app, who, kind, ident)
    except Refused as exc:  # the form stays, to send again once stock answers
        refusal = refusal or exc.words
    return render(
        request,
        "_delivery.html",
        store=store,
        kind=kind,
        ident=ident,
        d=delivery,
        key=form.get("key", "") if retry else new_key("receive"),
        again=form if retry else {},
        done=done,
        refusal=refusal + (" Press Receive to send the same scan again." if retry else ""),
        closes=_closes(who, kind),
    )


@dataclass(frozen=True)
class Delivery:
    """A purchase order or a transfer as the receiving screen shows it."""

    kind: str  # "po" or "transfer"
    id: str
    store: str  # where it is delivered
    source: str  # the supplier, or the location it comes from
    reference: str
    status: str
    lines: list[tuple[str, int, int, int, int]]  # (sku, sent, received, damaged, to come)
    open: bool  # still expecting units

    @property
    def expected(self) -> int:
        return sum(line[4] for line in self.lines)


KINDS = ("po", "transfer")


async def _load(app: Console, who: Session, kind: str, ident: str) -> Delivery:
    if kind == "po":
        po = (
            await _call(app, who, "GetPurchaseOrder", spb.GetPurchaseOrderRequest(id=ident))
        ).purchase_order
        return Delivery(
            "po",
            po.id,
            po.location_id,
            f"from {po.supplier}",
            po.reference,
            spb.PurchaseOrderStatus.Name(po.status).removeprefix("PURCHASE_ORDER_STATUS_"),
            [
                (ln.sku, ln.quantity, ln.received, 0, max(0, ln.quantity - ln.received))
                for ln in po.lines
            ],
            po.status in EXPECTING_PO,
        )
    t = (await _call(app, who, "GetTransfer", spb.GetTransferRequest(id=ident))).transfer
    return Delivery(
        "transfer",
        t.id,
        t.destination_id,
        f"from {t.origin_id}",
        t.reference,
        spb.TransferStatus.Name(t.status).removeprefix("TRANSFER_STATUS_"),
        [
            (
                ln.sku,
                ln.quantity,
                ln.accepted + ln.rejected,
                ln.rejected,
                ln.quantity - ln.accepted - ln.rejected,
            )
            for ln in t.lines
        ],
        t.status in ARRIVING,
    )


async def _receive(
    app: Console, who: Session, kind: str, ident: str, form: Mapping[str, str]
) -> str:
    typed = form.get("code", "").strip()
    if not typed:
        raise _form_says("Scan the item, or type its SKU.")
    units_text = form.get("units", "1").strip() or "1"
    if not units_text.isdecimal() or not 0 < int(units_text) <= MAX_UNITS:
        raise _form_says(f"Enter how many units arrived: 1 to {MAX_UNITS}.")
    units = int(units_text)
    if not is_identifier(typed):
        raise _form_says("That is not a SKU or a barcode. Scan the item's label again.")
    sku = await sku_for(app.backends, typed, who.token)
    key = form.get("key", "")
    damaged = form.get("condition") == "damaged"
    if kind == "po":
        reply = await _call(
            app,
            who,
            "ReceivePurchaseOrder",
            spb.ReceivePurchaseOrderRequest(
                id=ident,
                idempotency_key=key,
                lines=[spb.ReceivedLine(sku=sku, quantity=units)],
                actor=who.caller.subject,
            ),
        )
        over = sum(o.quantity for o in reply.over_received)
        said = f"Received {units} of {sku}."
        return said + (f" {over} more than the order expected: tell the buyer." if over else "")
    accepted, rejected = (0, units) if damaged else (units, 0)
    await _call(
        app,
        who,
        "ReceiveTransfer",
        spb.ReceiveTransferRequest(
            id=ident,
            idempotency_key=key,
            lines=[spb.ArrivedLine(sku=sku, accepted=accepted, rejected=rejected)],
            actor=who.caller.subject,
        ),
    )
    return f"Received {units} of {sku}" + (" as damaged." if damaged else ".")


async def _call(app: Console, who: Session, method: str, request: object) -> Any:
    return await app.backends.call("stock", getattr(app.backends.stock, method), request, who.token)


def _form_says(words: str) -> Refused:
    return Refused("console", grpc.StatusCode.INVALID_ARGUMENT, words)
