"""The customer and returns counter: find a customer's orders from every channel, choose
what comes back and in what state (and what it is exchanged for, if anything), see the
refund, then take the return in one step."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace

import grpc
from starlette.requests import Request
from starlette.responses import Response

from omni.common.v1 import common_pb2 as cpb
from omni.console.backends import Refused, attempt
from omni.console.sessions import Session
from omni.console.views.scanning import sku_for
from omni.console.web import (
    Console,
    cannot_show,
    console,
    fields,
    new_key,
    render,
    session,
    signed_in,
)
from omni.orders.v1 import orders_pb2 as opb
from omni.returns.v1 import returns_pb2 as rpb
from omni.stock.v1 import stock_pb2 as spb

_SENT_BEFORE = (
    "This return was sent before with other quantities. Check the order, then confirm again "
    "to take it as a new return."
)
REASONS = ("Changed mind", "Wrong size", "Faulty", "Not as described", "Arrived damaged", "Other")
ORDERS_PAGE = 50  # a customer's orders per page, newest first
_NOT_AN_ORDER = {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT}


@signed_in
async def find(request: Request) -> Response:
    """Orders by customer id or order id (both are tried: people type either)."""
    store, typed = request.path_params["store"], request.query_params.get("q", "").strip()[:200]
    after = request.query_params.get("after", "")[:200]  # the page token of older orders
    app, who = console(request), session(request)
    orders: list[opb.Order] = []
    refusal, older = "", ""
    if typed:
        listed, one = await asyncio.gather(
            attempt(
                app.backends.call(
                    "orders",
                    app.backends.orders.ListOrders,
                    opb.ListOrdersRequest(
                        customer_id=typed, page_size=ORDERS_PAGE, page_token=after
                    ),
                    who.token,
                )
            ),
            attempt(
                app.backends.call(
                    "orders", app.backends.orders.GetOrder, opb.GetOrderRequest(id=typed), who.token
                )
            ),
        )
        if isinstance(one, opb.GetOrderResponse):
            orders.append(one.order)
        if isinstance(listed, opb.ListOrdersResponse):
            orders += [o for o in listed.orders if o.id != typed]
            older = listed.next_page_token
        refusal = _worth_saying(listed, one) if not orders else ""
    return render(
        request,
        "counter.html",
        section="counter",
        store=store,
        q=typed,
        orders=orders,
        refusal=refusal,
        searched=bool(typed),
        older=older,
    )


def _worth_saying(*answers: object) -> str:
    """Why nothing was found, if a service said more than "no such order"."""
    for answer in answers:
        if isinstance(answer, Refused) and answer.code not in _NOT_AN_ORDER:
            return answer.words
    return ""


@dataclass(frozen=True)
class Returnable:
    """One order line as the counter sees it."""

    line: opb.OrderLine
    shipped: int
    pickup: bool

    @property
    def left(self) -> int:
        return max(0, self.shipped - self.line.returned)

    @property
    def state(self) -> str:
        """Where the line's units are, in words: "2 shipped from WH-1, 1 cancelled"."""
        gone = "handed over at" if self.pickup else "shipped from"
        parts = []
        for a in self.line.allocations:
            if a.shipped:
                parts.append(f"{a.shipped} {gone} {a.location_id}")
            if a.quantity > a.shipped:
                parts.append(f"{a.quantity - a.shipped} held at {a.location_id}")
        if self.line.cancelled:
            parts.append(f"{self.line.cancelled} cancelled")
        if self.line.reallocating:
            parts.append(f"{self.line.reallocating} being found elsewhere")
        return ", ".join(parts) or "not allocated yet"


def returnable(order: opb.Order) -> list[Returnable]:
    pickup = order.HasField("pickup")
    return [
        Returnable(line, sum(a.shipped for a in line.allocations), pickup) for line in order.lines
    ]


@signed_in
async def order_page(request: Request) -> Response:
    store, order_id = request.path_params["store"], request.path_params["order"]
    app, who = console(request), session(request)
    try:
        reply = await app.backends.call(
            "orders", app.backends.orders.GetOrder, opb.GetOrderRequest(id=order_id), who.token
        )
    except Refused as exc:
        return cannot_show(
            request, "This order cannot be shown", exc, store=store, section="counter"
        )
    return render(
        request,
        "return.html",
        section="counter",
        store=store,
        order=reply.order,
        lines=returnable(reply.order),
        reasons=REASONS,
    )


@dataclass(frozen=True)
class Chosen:
    """What the customer hands over for one line."""

    sku: str
    sellable: int
    damaged: int
    reason: str
    unit_price: int
    swap: str = ""  # exchanged for this SKU (like for like: the same price), or refunded

    @property
    def quantity(self) -> int:
        return self.sellable + self.damaged

    @property
    def refund(self) -> int:
        return 0 if self.swap else self.quantity * self.unit_price


def chosen(
    order: opb.Order, form: Mapping[str, str], check_left: bool = True
) -> tuple[list[Chosen], str]:
    """The lines chosen on the form, checked against what can come back; or why not."""
    picked = []
    for item in returnable(order):
        sku = item.line.sku
        sellable, damaged = _units(form.get(f"sellable:{sku}")), _units(form.get(f"damaged:{sku}"))
        if sellable is None or damaged is None:
            return [], f"Enter a whole number of units for {sku}."
        if check_left and sellable + damaged > item.left:
            return [], f"Only {item.left} of {sku} can come back."
        reason = form.get(f"reason:{sku}", "")
        swap = form.get(f"swap:{sku}", "").strip()[:64]
        if sellable + damaged:
            picked.append(Chosen(sku, sellable, damaged, reason, item.line.unit_price, swap))
        elif swap:
            return [], f"Say how many of {sku} come back to exchange them."
    return picked, "" if picked else "Choose at least one unit to return."


def _units(text: str | None) -> int | None:
    text = (text or "0").strip() or "0"
    return int(text) if text.isdecimal() and len(text) < 7 else None


@signed_in
async def review(request: Request) -> Response:
    """The refund before confirming; confirming sends this very return (one key)."""
    return await _take(request, confirm=False)


@signed_in
async def confirm(request: Request) -> Response:
    return await _take(request, confirm=True)


async def _take(request: Request, confirm: bool) -> Response:
    store, order_id = request.path_params["store"], request.path_params["order"]
    app, who, form = console(request), session(request), await fields(request)
    context: dict[str, object] = {"store": store, "order_id": order_id}
    try:
        order = (
            await app.backends.call(
                "orders",
                app.backends.orders.GetOrder,
                opb.GetOrderRequest(id=order_id),
                who.token,
            )
        ).order
    except Refused as exc:
        return render(request, "_return_result.html", refusal=exc.words, **context)
    # Confirming again after an answer that never came: the return may have been taken
    # already (the order then shows it returned); the service replays it by its key.
    lines, problem = chosen(order, form, check_left=not confirm)
    override = form.get("override_reason", "").strip() if form.get("override") else ""
    if form.get("override") and not override:
        problem = problem or "Say why the return is taken outside the window."
    try:  # a scanned barcode stands for its SKU
        lines = [
            replace(c, swap=await sku_for(app.backends, c.swap, who.token)) if c.swap else c
            for c in lines
        ]
    except Refused as exc:
        problem = problem or exc.words
    where = form.get("swap_to", "pickup")
    if not problem and any(c.swap for c in lines):
        problem = await _swaps_refused(app, who, lines, store if where != "ship" else "")
    context |= {"order": order, "lines": lines, "override": override, "form": form}
    context |= {"swap_to": where, "swapping": any(c.swap for c in lines)}
    if problem:
        return render(request, "_return_result.html", refusal=problem, **context)
    refund = sum(c.refund for c in lines)
    if not confirm:
        return render(
            request, "_return_result.html", refund=refund, key=new_key("return"), **context
        )
    key = form.get("key", "")
    try:
        rma = await _return_at_counter(request, order, lines, key, override, where)
    except Refused as exc:
        # Refused: a retry is a new return. Otherwise it may have been taken: the same key,
        # so that confirming again cannot refund twice.
        again = new_key("return") if exc.final else key
        words = _SENT_BEFORE if exc.code == grpc.StatusCode.ALREADY_EXISTS else exc.words
        return render(
            request, "_return_result.html", refund=refund, refusal=words, key=again, **context
        )
    return render(request, "_return_result.html", rma=rma, **context)


async def _swaps_refused(app: Console, who: Session, lines: list[Chosen], store: str) -> str:
    """Why an exchange cannot be had, said before anything happens: a new item that is no
    item at all, or not in stock where the customer gets it (here, or anywhere that ships)."""
    asked = spb.GetAvailabilityRequest(
        skus=sorted({c.swap for c in lines if c.swap}),
        location_ids=[store] if store else [],
        channel=cpb.CHANNEL_POS,
    )
    try:
        reply = await app.backends.call(
            "stock", app.backends.stock.GetAvailability, asked, who.token
        )
    except Refused as exc:
        return exc.words
    have: dict[str, int] = {}
    for level in reply.levels:
        have[level.sku] = have.get(level.sku, 0) + level.available
    for c in lines:
        if c.swap and c.swap not in have:
            none = f"We have no {c.swap} in this store" if store else f"No location stocks {c.swap}"
            return f"{none}. Check the new item's SKU, or refund instead."
        if c.swap and have[c.swap] < c.quantity:
            here = "here" if store else "anywhere"
            return (
                f"Not enough {c.swap} in stock {here} ({have[c.swap]}) to exchange "
                f"{c.quantity}. Choose another, or refund instead."
            )
    return ""


async def _return_at_counter(
    request: Request, order: opb.Order, lines: list[Chosen], key: str, override: str, where: str
) -> rpb.Return:
    app, who, store = console(request), session(request), request.path_params["store"]
    create = rpb.CreateReturnRequest(
        idempotency_key=key,
        order_id=order.id,
        channel=cpb.CHANNEL_POS,
        location_id=store,
        lines=[
            rpb.CreateReturnLine(sku=c.sku, quantity=c.quantity, reason=c.reason) for c in lines
        ],
    )
    if override:
        create.override.CopyFrom(rpb.Override(manager_id=who.caller.subject, reason=override))
    swaps = [rpb.Replacement(sku=c.sku, replacement_sku=c.swap) for c in lines if c.swap]
    if swaps:
        create.exchange.replacements.extend(swaps)
        if where == "ship" and order.HasField("ship"):
            create.exchange.ship.CopyFrom(order.ship)
        else:  # collected here, from the pickup queue
            create.exchange.pickup.location_id = store
    received = [
        rpb.ReceivedLine(sku=c.sku, quantity=n, condition=cond, scan_id=f"{key}:{c.sku}:{cond}")
        for c in lines
        for n, cond in ((c.sellable, rpb.CONDITION_SELLABLE), (c.damaged, rpb.CONDITION_DAMAGED))
        if n
    ]
    request_ = rpb.ReturnAtCounterRequest(create=create, received=received)
    reply = await app.backends.call(
        "returns", app.backends.returns.ReturnAtCounter, request_, who.token
    )
    return reply.rma
