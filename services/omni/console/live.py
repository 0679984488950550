"""Live pages: server-sent events, and hints from NATS that a store's pickup work changed.

A hint only says "look again": every page that is told re-reads what it shows through the
services' APIs with the person's own token, so what a page shows is always what the service
lets that person see. Hints can be missed (NATS away), so pages also look again every few
seconds on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator

from nats.aio.msg import Msg
from starlette.responses import StreamingResponse

from omni.pickup.v1 import messaging_pb2 as pickup_events
from omni.platform.streams import PICKUP_EVENTS_PREFIX, SHIP_TASK_EVENTS_PREFIX

PICKUP_EVENTS = PICKUP_EVENTS_PREFIX + ">"


def sse(event: str, html: str) -> str:
    """One server-sent event carrying an HTML fragment (htmx's sse extension swaps it in)."""
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n\n"


KEEPALIVE = ": still here\n\n"  # a comment line: keeps proxies from closing a quiet stream
_NO_BUFFER = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


class LiveStreams:
    """Every open event stream, so that a stopping console ends them at once (the browser
    reconnects, to another replica) instead of holding its shutdown until they time out."""

    def __init__(self) -> None:
        self.closing = asyncio.Event()

    def close(self) -> None:
        self.closing.set()

    def response(self, events: AsyncGenerator[str], until: float) -> StreamingResponse:
        """The stream, until the console stops or `until` (time.time(): the session's end;
        the browser's reconnect then finds no session and is told to stop)."""
        return StreamingResponse(
            self._until_closing(events, until),
            media_type="text/event-stream",
            headers=_NO_BUFFER,
        )

    async def _over(self, until: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), max(0.0, until - time.time()))

    async def _until_closing(self, events: AsyncGenerator[str], until: float) -> AsyncIterator[str]:
        closing = asyncio.ensure_future(self._over(until))
        following: asyncio.Future[str] | None = None
        try:
            while not self.closing.is_set():
                following = asyncio.ensure_future(anext(events))
                await asyncio.wait({following, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not following.done():
                    return
                if isinstance(following.exception(), StopAsyncIteration):
                    return
                yield following.result()
        finally:
            closing.cancel()
            if following is not None and not following.done():
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
            await events.aclose()


class Hints:
    """Wakes whoever waits on a store when a pickup event for it arrives."""

    def __init__(self) -> None:
        self._generation: dict[str, int] = {}
        self._changed = asyncio.Condition()

    def generation(self, store: str) -> int:
        return self._generation.get(store, 0)

    async def changed(self, store: str) -> None:
        async with self._changed:
            self._generation[store] = self.generation(store) + 1
            self._changed.notify_all()

    async def wait(self, store: str, seen: int, within: float) -> int:
        """Until the store's generation passes `seen`, or `within` seconds; the generation now."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.generation(store) != seen), within
                )
            return self.generation(store)


class HintListener:
    """Turns pickup events (plain NATS, nothing durable: a hint lost costs a few seconds) into
    hints for the store they concern."""

    subject = PICKUP_EVENTS

    def __init__(self, hints: Hints) -> None:
        self._hints = hints

    async def on_pickup(self, msg: Msg) -> None:
        try:
            if msg.subject.startswith(SHIP_TASK_EVENTS_PREFIX):
                where = pickup_events.ShipTaskChanged.FromString(msg.data).task.location_id
            else:
                where = pickup_events.PickupChanged.FromString(msg.data).task.store_id
        except Exception:  # a message we cannot read is no hint
            return
        if where:
            await self._hints.changed(where)
