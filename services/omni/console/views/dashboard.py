"""The operations dashboard: the whole network's sales, pickups, returns, stock alerts and
health, live, for managers and the service role. Figures come from the console's read model
(omni.console.figures) and the services' APIs, never from the services' databases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from omni.console import words
from omni.console.backends import Refused
from omni.console.figures import reading
from omni.console.live import KEEPALIVE, sse
from omni.console.web import Console, console, fragment, refuse, render, session, signed_in
from omni.platform.auth import Role
from omni.platform.db import is_connection_error
from omni.stock.v1 import stock_pb2 as spb

log = logging.getLogger(__name__)
VIEWERS = (Role.MANAGER, Role.SERVICE)
REFRESH_SECONDS = 2.0
RETURNS_DAYS = 7
# A chart's drawing area (SVG user units); the page scales it to its width.
WIDTH, HEIGHT = 600, 140


@signed_in
async def dashboard(request: Request) -> Response:
    if session(request).role not in VIEWERS:
        return refuse(request, "The operations dashboard is for managers.", 403)
    figures = await _figures(console(request), session(request).token)
    return render(request, "dashboard.html", section="dashboard", **figures)


@signed_in
async def dashboard_live(request: Request) -> Response:
    """Server-sent events: the figures again whenever they change (looked at every 2 s)."""
    app, who = console(request), session(request)
    if who.role not in VIEWERS:
        return Response(status_code=204)  # the stream is told to stop

    async def events() -> AsyncGenerator[str]:
        shown = ""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            html = fragment("_figures.html", **await _figures(app, who.token))
            if html != shown:
                shown = html
                yield sse("figures", html)
            else:
                yield KEEPALIVE

    return app.live.response(events(), who.ends)


async def _figures(app: Console, token: str) -> dict[str, Any]:
    """Everything the dashboard shows, worked out once for every dashboard open on this
    replica (ListLocations asked with the first viewer's token: every viewer may list them)."""
    return await app.figures.dashboard.get(lambda: _work_out(app, token))


async def _work_out(app: Console, token: str) -> dict[str, Any]:
    """What cannot be read now is said in words."""
    now = datetime.now(UTC)
    currency = app.settings.currency
    threshold = app.settings.low_stock_at
    figures: dict[str, Any] = {"currency": currency, "now": now, "threshold": threshold}
    try:
        engine = app.figures.engine
        sales = await reading.sales_last_hour(engine, currency, now)
        figures |= {
            "sales": sales,
            "orders_chart": _chart(sales.orders),
            "gmv_chart": _chart(sales.amount),
            "leaders": await reading.leaderboard(engine, now.date(), currency),
            "pickups": await reading.pickup_figures(engine, now),
            "returns": await reading.returns_figures(engine, now - timedelta(days=RETURNS_DAYS)),
            "low": await reading.low_stock(engine, threshold),
            "out": await reading.out_of_stock(engine, await _pickup_stores(app, token)),
        }
    except Exception as exc:
        if not is_connection_error(exc):
            log.exception("the dashboard's figures cannot be read")
        figures["unreadable"] = (
            "The dashboard's figures cannot be read now. They come back by themselves."
        )
    figures["replicas"] = app.figures.replicas.current()
    try:
        figures["streams"] = await app.figures.streams()
    except Exception as exc:  # NATS went away mid-question: said as unknown
        log.info("consumer lag not known now: %s", exc)
        figures["streams"] = None
    return figures


async def _pickup_stores(app: Console, token: str) -> list[str]:
    try:
        reply = await app.backends.call(
            "stock", app.backends.stock.ListLocations, spb.ListLocationsRequest(), token
        )
    except Refused:
        return []
    return [loc.id for loc in reply.locations if loc.pickup]


@dataclass(frozen=True)
class Line:
    channel: str
    name: str
    points: str  # an SVG polyline's
    total: int
    colour: int  # the n-th series colour (app.css)


@dataclass(frozen=True)
class Chart:
    lines: list[Line]
    peak: int  # the highest point of any line: the top of the scale
    busiest: int  # the busiest minute, every channel together


def _chart(series: dict[str, list[int]]) -> Chart:
    """One line per channel over the last hour, scaled to the busiest minute."""
    peak = max((max(values) for values in series.values()), default=0)
    lines = []
    for colour, channel in enumerate(sorted(series)):
        values = series[channel]
        step = WIDTH / max(1, len(values) - 1)
        points = " ".join(
            f"{i * step:.1f},{HEIGHT - (v / peak if peak else 0) * HEIGHT:.1f}"
            for i, v in enumerate(values)
        )
        lines.append(Line(channel, words.channel_named(channel), points, sum(values), colour % 6))
    busiest = max(map(sum, zip(*series.values(), strict=True)), default=0)
    return Chart(lines, peak, busiest)
