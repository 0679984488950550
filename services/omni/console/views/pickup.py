"""The pickup queue of a store, live, and one task worked through on screen: start picking,
scan units into the bay, report what is missing, mark ready, hand over against the code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omni.console.backends import Refused
from omni.console.live import KEEPALIVE, sse
from omni.console.sessions import Session
from omni.console.views.pickup_steps import STEPS
from omni.console.web import (
    Console,
    cannot_show,
    console,
    fields,
    fragment,
    go,
    is_htmx,
    new_key,
    refuse,
    render,
    session,
    signed_in,
)
from omni.pickup.v1 import pickup_pb2 as pb

# The queue as an associate works it, each oldest first.
QUEUE = (
    (pb.PICKUP_STATUS_PLACED, "To pick"),
    (pb.PICKUP_STATUS_PICKING, "Being picked"),
    (pb.PICKUP_STATUS_READY, "Ready for collection"),
    (pb.PICKUP_STATUS_LOCKED, "Locked: a manager must unlock"),
)
# Without a hint from NATS, a live queue still looks again this often (seconds).
LOOK_AGAIN = 5.0
RETRY = 2.0  # after a refusal (the service away, most likely)


async def queue_of(app: Console, who: Session, store: str, find: str = "") -> dict[str, object]:
    """What the queue partial shows: the tasks by status (those whose customer or order
    holds `find`, if given), or the service's refusal."""
    try:
        replies = await asyncio.gather(
            *(
                app.backends.call(
                    "pickup",
                    app.backends.pickup.ListPickups,
                    pb.ListPickupsRequest(store_id=store, status=status, page_size=100),
                    who.token,
                )
                for status, _ in QUEUE
            )
        )
    except Refused as exc:
        return {"refusal": exc.words, "groups": []}
    wanted = find.strip().lower()
    groups = [
        (title, [t for t in r.tasks if _holds(t, wanted)], bool(r.next_page_token))
        for (_, title), r in zip(QUEUE, replies, strict=True)
    ]
    return {"groups": groups, "refusal": "", "find": find}


def _holds(task: pb.PickupTask, wanted: str) -> bool:
    return not wanted or wanted in task.customer_id.lower() or wanted in task.order_id.lower()


@signed_in
async def queue_page(request: Request) -> Response:
    store, find = request.path_params["store"], request.query_params.get("q", "")[:100]
    shown = await queue_of(console(request), session(request), store, find)
    return render(request, "pickup.html", section="pickup", store=store, **shown)


Look = Callable[[Console, Session, str, str], Awaitable[dict[str, object]]]


def live_queue(request: Request, look: Look, partial: str) -> Response:
    """Server-sent events: a store's queue (as `look` finds it, drawn by `partial`) again
    whenever it changes, hinted by pickup events."""
    store, who, app = request.path_params["store"], session(request), console(request)
    find = request.query_params.get("q", "")[:100]

    async def events() -> AsyncGenerator[str]:
        shown, seen = "", app.hints.generation(store)
        while True:
            queue = await look(app, who, store, find)
            html = fragment(partial, store=store, **queue)
            yield sse("queue", html) if html != shown else KEEPALIVE
            shown = html
            within = RETRY if queue["refusal"] else LOOK_AGAIN
            if await app.hints.wait(store, seen, within) != seen:
                seen = app.hints.generation(store)
                await asyncio.sleep(0.1)  # a burst of events, one look

    return app.live.response(events(), who.ends)


@signed_in
async def queue_live(request: Request) -> Response:
    return live_queue(request, queue_of, "_queue.html")


@signed_in
async def task_page(request: Request) -> Response:
    store, task_id = request.path_params["store"], request.path_params["task"]
    app, who = console(request), session(request)
    try:
        reply = await app.backends.call(
            "pickup", app.backends.pickup.GetPickup, pb.GetPickupRequest(id=task_id), who.token
        )
    except Refused as exc:
        return cannot_show(
            request, "This pickup cannot be shown", exc, store=store, section="pickup"
        )
    return render(request, "task.html", section="pickup", store=store, **_shown(reply.task))


def _shown(
    task: pb.PickupTask,
    result: str = "",
    refusal: str = "",
    typed: Mapping[str, str] | None = None,
    keep_ids: bool = False,
) -> dict[str, object]:
    coming = sum(line.coming for line in task.lines)
    ready_to_mark = not coming and all(
        line.picked + line.short - line.arrived >= line.quantity for line in task.lines
    )
    return {
        "task": task,
        "coming": coming,
        "result": result,
        "refusal": refusal,
        "ready_to_mark": ready_to_mark,
        "scan_id": new_key("pick"),
        "S": pb,
    }


@signed_in
async def act(request: Request) -> Response:
    async def again(app: Console, who: Session, task_id: str) -> pb.PickupTask:
        get = pb.GetPickupRequest(id=task_id)
        reply = await app.backends.call("pickup", app.backends.pickup.GetPickup, get, who.token)
        return reply.task

    return await take_step(request, STEPS, again, _shown, "pickup", "_task")


async def take_step(
    request: Request,
    steps: Mapping[str, Callable[[Console, Session, str, Mapping[str, str]], Awaitable[Any]]],
    again: Callable[[Console, Session, str], Awaitable[Any]],
    shown: Callable[..., dict[str, object]],
    section: str,
    partial: str,
) -> Response:
    """One step on a store task; answers the task redrawn with the step's result in words
    (`partial`.html, or its `_state` part alone after a scan), or with the refusal and the
    task as it is now (`again`)."""
    store, task_id = request.path_params["store"], request.path_params["task"]
    action = request.path_params["action"]
    app, who, form = console(request), session(request), await fields(request)
    step = steps.get(action)
    if step is None:
        return refuse(request, "There is no such step.", 404)
    try:
        task, result = await step(app, who, task_id, form)
        drawn = shown(task, result=result)
    except Refused as exc:
        # The form keeps what was typed; and, if the refusal is not final (the step may
        # have been taken), its ids too, so that sending it again cannot do it twice.
        try:
            task = await again(app, who, task_id)
            drawn = shown(task, refusal=exc.words, typed=form, keep_ids=not exc.final)
        except Refused:
            return refuse(request, exc.words, exc.http_status)
    if not is_htmx(request):
        return go(request, f"/s/{store}/{section}/{task_id}")
    part = f"{partial}_state.html" if action == "pick" else f"{partial}.html"
    return render(request, part, store=store, **drawn)
