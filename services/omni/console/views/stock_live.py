"""The store's stock page, live: each row again when its level changes (a watch on the
page's SKUs), and the whole page again when SKUs come or go (looked at every few seconds)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from starlette.requests import Request
from starlette.responses import Response

from omni.console.backends import Refused
from omni.console.live import KEEPALIVE, sse
from omni.console.sessions import Session
from omni.console.views.stock import Shelf, drawn, levels_at
from omni.console.web import Console, console, fragment, session, signed_in
from omni.stock.v1 import stock_pb2 as spb

RELIST = 5.0  # seconds between looks for SKUs new to the page (or gone)
SETTLE = 0.3  # seconds a browser is given to take in redrawn rows
Update = spb.WatchAvailabilityResponse | Refused


@signed_in
async def stock_live(request: Request) -> Response:
    """Server-sent events for the stock page."""
    shelf, app, who = Shelf.of(request), console(request), session(request)
    page_drew = request.query_params.get("drawn", "")

    async def events() -> AsyncGenerator[str]:
        shown = page_drew
        while True:
            try:
                async for event in _follow(app, who, shelf, shown):
                    yield event
            except _Changed as change:
                shown = drawn(change.skus)
                yield sse("levels", change.html)
                # New rows listen once the browser has settled them; their values come with
                # the watch's first snapshot, so waiting a moment loses nothing.
                await asyncio.sleep(SETTLE)
                continue
            except Refused as exc:
                yield sse("stock-note", fragment("_refused.html", refusal=exc.words))
            await asyncio.sleep(2)  # the watch broke: watch again
            yield KEEPALIVE

    return app.live.response(events(), who.ends)


class _Changed(Exception):
    """The page's SKUs are not the ones shown: the rows to show instead."""

    def __init__(self, skus: list[str], html: str) -> None:
        super().__init__("skus changed")
        self.skus, self.html = skus, html


async def _follow(app: Console, who: Session, shelf: Shelf, shown: str) -> AsyncGenerator[str]:
    """Rows as their levels change, until the page's SKUs are not those `shown` (their
    fingerprint; raises _Changed, also at first for a page drawn while stock was away)."""
    page = await levels_at(app, who, shelf)
    skus = [level.sku for level in page.levels]
    if drawn(skus) != shown:
        rows = fragment("_levels.html", store=shelf.store, levels=page.levels, shelf=shelf)
        raise _Changed(skus, rows)
    yield sse("stock-note", "")
    updates: asyncio.Queue[Update] = asyncio.Queue()
    watching = asyncio.create_task(_watch(app, who, shelf.store, skus, updates))
    try:
        while True:
            try:
                update = await asyncio.wait_for(updates.get(), RELIST)
            except TimeoutError:
                await _same_skus(app, who, shelf, skus)
                yield KEEPALIVE
                continue
            if isinstance(update, Refused):
                raise update
            # The row's cells: the row itself stays, so its listener misses no quick update.
            cells = fragment("_level_cells.html", store=shelf.store, level=update.level)
            yield sse(f"level-{update.level.sku}", cells)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def _watch(
    app: Console, who: Session, store: str, skus: list[str], updates: asyncio.Queue[Update]
) -> None:
    if not skus:
        return  # nothing to watch yet: the next look finds what arrives
    watch = spb.WatchAvailabilityRequest(skus=skus, location_ids=[store])
    try:
        async for update in app.backends.stream(
            "stock", app.backends.stock.WatchAvailability, watch, who.token
        ):
            if update.HasField("level"):
                updates.put_nowait(update)
    except Refused as exc:
        updates.put_nowait(exc)


async def _same_skus(app: Console, who: Session, shelf: Shelf, skus: list[str]) -> None:
    page = await levels_at(app, who, shelf)
    now = [level.sku for level in page.levels]
    if now != skus:
        rows = fragment("_levels.html", store=shelf.store, levels=page.levels, shelf=shelf)
        raise _Changed(now, rows)
