"""Ship-from-store: the store's queue of orders to ship, live, and one worked through on
screen: start, scan each unit, pack, hand to the carrier with its tracking number, or reject
units the store cannot ship (the reason corrects stock; the order finds them elsewhere)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
from starlette.requests import Request
from starlette.responses import Response

from omni.common.v1 import common_pb2 as cpb
from omni.console.backends import Refused
from omni.console.sessions import Session
from omni.console.views.pickup import live_queue, take_step
from omni.console.views.scanning import sku_for
from omni.console.web import (
    Console,
    cannot_show,
    console,
    new_key,
    render,
    session,
    signed_in,
)
from omni.pickup.v1 import pickup_pb2 as pb

QUEUE = (
    (pb.SHIP_TASK_STATUS_PLACED, "To pick"),
    (pb.SHIP_TASK_STATUS_PICKING, "Being picked"),
    (pb.SHIP_TASK_STATUS_PACKED, "Packed: hand to the carrier"),
)
# What each reason does, as the associate chooses it.
REASONS = (
    (cpb.REJECTION_REASON_NOT_IN_STOCK, "None on the shelf (stock here is set to zero)"),
    (cpb.REJECTION_REASON_MISMATCH, "Fewer than the system says (stock here is lowered)"),
    (cpb.REJECTION_REASON_DAMAGED, "Damaged (moved to damaged stock)"),
    (cpb.REJECTION_REASON_NO_VARIANCE, "We cannot ship it now (stock unchanged)"),
)
_BLANK = grpc.StatusCode.INVALID_ARGUMENT

Done = tuple[pb.ShipTask, str]
Step = Callable[[Console, Session, str, Mapping[str, str]], Awaitable[Done]]


async def queue_of(app: Console, who: Session, store: str, find: str = "") -> dict[str, object]:
    """The ship tasks by status (those whose order holds `find`), or the refusal."""
    try:
        replies = await asyncio.gather(
            *(
                _call(
                    app,
                    who,
                    "ListShipTasks",
                    pb.ListShipTasksRequest(location_id=store, status=status, page_size=100),
                )
                for status, _ in QUEUE
            )
        )
    except Refused as exc:
        return {"refusal": exc.words, "groups": []}
    wanted = find.strip().lower()
    groups = [
        (title, [t for t in r.tasks if wanted in t.order_id.lower()], bool(r.next_page_token))
        for (_, title), r in zip(QUEUE, replies, strict=True)
    ]
    return {"groups": groups, "refusal": "", "find": find}


@signed_in
async def queue_page(request: Request) -> Response:
    store, find = request.path_params["store"], request.query_params.get("q", "")[:100]
    shown = await queue_of(console(request), session(request), store, find)
    return render(request, "ship.html", section="ship", store=store, **shown)


@signed_in
async def queue_live(request: Request) -> Response:
    return live_queue(request, queue_of, "_ship_queue.html")


@signed_in
async def task_page(request: Request) -> Response:
    store, task_id = request.path_params["store"], request.path_params["task"]
    app, who = console(request), session(request)
    try:
        reply = await _call(app, who, "GetShipTask", pb.GetShipTaskRequest(id=task_id))
    except Refused as exc:
        return cannot_show(request, "This order cannot be shown", exc, store=store, section="ship")
    return render(request, "ship_task.html", section="ship", store=store, **_shown(reply.task))


def _shown(
    task: pb.ShipTask,
    result: str = "",
    refusal: str = "",
    typed: Mapping[str, str] | None = None,
    keep_ids: bool = False,
) -> dict[str, object]:
    """What the task's page shows; after a refusal, the rejection form as it was typed (and
    the focus in it), with its id if the refusal may not be final (`keep_ids`), so sending
    it again cannot reject twice."""
    typed = typed or {}
    to_pick = sum(ln_to_pick(ln) for ln in task.lines)
    open_ = [ln for ln in task.lines if ln.quantity - ln.rejected - ln.shipped > 0]
    return {
        "task": task,
        "to_pick": to_pick,
        "open_lines": open_,
        "result": result,
        "refusal": refusal,
        "scan_id": new_key("pick"),
        "rejection_id": (keep_ids and typed.get("rejection_id")) or new_key("reject"),
        "typed": typed if "quantity" in typed else {},
        "reasons": [(cpb.RejectionReason.Name(v), words) for v, words in REASONS],
        "S": pb,
    }


@signed_in
async def act(request: Request) -> Response:
    async def again(app: Console, who: Session, task_id: str) -> pb.ShipTask:
        return (await _call(app, who, "GetShipTask", pb.GetShipTaskRequest(id=task_id))).task

    return await take_step(request, STEPS, again, _shown, "ship", "_ship_task")


async def _start(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    req = pb.StartShipTaskRequest(id=task, associate_id=who.caller.subject)
    reply = await _call(app, who, "StartShipTask", req)
    return reply.task, "Picking started. Scan each item as you take it."


async def _pick(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    typed = form.get("code", "").strip()
    if not typed:
        raise Refused("pickup", _BLANK, "Scan an item, or type its SKU, then press Enter.")
    sku = await sku_for(app.backends, typed, who.token)
    req = pb.RecordShipPickRequest(id=task, scan_id=form.get("scan_id", ""), sku=sku)
    reply = await _call(app, who, "RecordShipPick", req)
    if reply.duplicate:
        return reply.task, f"That scan of {sku} was recorded already; nothing changed."
    line = next((x for x in reply.task.lines if x.sku == sku), None)
    done = f" ({line.picked} of {line.quantity - line.rejected})" if line else ""
    return reply.task, f"Picked 1 of {sku}{done}."


async def _pack(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    packages = _count(form.get("packages", "1") or "1", "Enter how many parcels (1 or more).")
    reply = await _call(
        app, who, "PackShipTask", pb.PackShipTaskRequest(id=task, packages=packages)
    )
    return reply.task, "Packed. Hand it to the carrier and enter the tracking number."


async def _ship(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    carrier, tracking = form.get("carrier", "").strip(), form.get("tracking", "").strip()
    if not carrier or not tracking:
        raise Refused("pickup", _BLANK, "Enter the carrier and the tracking number.")
    req = pb.ShipShipTaskRequest(id=task, carrier=carrier, tracking_number=tracking)
    reply = await _call(app, who, "ShipShipTask", req)
    return reply.task, f"Shipped with {carrier}, tracking {tracking}. The customer is told."


async def _reject(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    sku = form.get("sku", "")
    quantity = _count(form.get("quantity", ""), "Enter how many units (1 or more).")
    picked_text = form.get("picked", "").strip()
    if picked_text and (not picked_text.isdecimal() or len(picked_text) > 6):
        raise Refused("pickup", _BLANK, "Enter how many of them you had picked, or leave it empty.")
    if picked_text:
        picked = int(picked_text)
    else:  # not said: those still to pick first, then picked ones
        now = (await _call(app, who, "GetShipTask", pb.GetShipTaskRequest(id=task))).task
        line = next((ln for ln in now.lines if ln.sku == sku), None)
        left = max(0, ln_to_pick(line)) if line else 0
        picked = max(0, quantity - left)
    if picked > quantity:
        raise Refused(
            "pickup", _BLANK, f"You reject {quantity}; no more of them can be picked ones."
        )
    chosen = form.get("reason", "")
    reason = next(
        (value for value, _ in REASONS if cpb.RejectionReason.Name(value) == chosen), None
    )
    if reason is None:
        raise Refused("pickup", _BLANK, "Choose why the units cannot ship.")
    req = pb.RejectShipUnitsRequest(
        id=task,
        sku=sku,
        quantity=quantity,
        reason=reason,
        associate_id=who.caller.subject,
        rejection_id=form.get("rejection_id", ""),
        picked=picked,
    )
    reply = await _call(app, who, "RejectShipUnits", req)
    if reply.duplicate:
        return reply.task, "That rejection was recorded already; nothing changed."
    return reply.task, (
        f"Rejected {quantity} of {sku}. The order finds {'it' if quantity == 1 else 'them'} "
        "at another location, or refunds the customer."
    )


def ln_to_pick(line: pb.ShipLine) -> int:
    """Units of a line still to pick (as the ship task counts them)."""
    return max(0, line.quantity - line.rejected - max(line.picked, line.shipped))


def _count(text: str, ask: str) -> int:
    typed = text.strip()
    if not typed.isdecimal() or len(typed) > 6 or int(typed) == 0:
        raise Refused("pickup", _BLANK, ask)
    return int(typed)


async def _call(app: Console, who: Session, method: str, request: object) -> Any:
    return await app.backends.call(
        "pickup", getattr(app.backends.pickup, method), request, who.token
    )


STEPS: dict[str, Step] = {
    "start": _start,
    "pick": _pick,
    "pack": _pack,
    "ship": _ship,
    "reject": _reject,
}
