"""The composition root of the console: settings, sessions, the services' channels, live
hints, and the routes of every screen."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omni.console.api import fronts
from omni.console.backends import Backends
from omni.console.figures.model import ReadModel
from omni.console.live import HintListener, Hints, LiveStreams
from omni.console.sessions import Sessions
from omni.console.settings import ConsoleSettings
from omni.console.views import (
    aisle,
    counter,
    dashboard,
    deliveries,
    desk,
    pickup,
    shipping,
    signin,
    status,
    stock,
    stock_live,
)
from omni.console.web import HERE, Console, refuse
from omni.platform.auth import Tokens

log = logging.getLogger(__name__)
STORE = "/s/{store:path}"  # a location id may hold "/"


def routes() -> list[Route | Mount]:
    get, post = ["GET"], ["POST"]
    return [
        Route("/", signin.home, methods=get),
        Route("/signin", signin.signin_page, methods=get),
        Route("/signin", signin.sign_in, methods=post),
        Route("/signout", signin.sign_out, methods=post),
        Route("/store", signin.store_page, methods=get),
        Route("/store", signin.choose_store, methods=post),
        Route("/status", status.status_strip, methods=get),
        Route("/healthz", status.healthz, methods=get),
        Route("/readyz", status.readyz, methods=get),
        Route(f"{STORE}/pickup", pickup.queue_page, methods=get),
        Route(f"{STORE}/pickup/live", pickup.queue_live, methods=get),
        Route(f"{STORE}/pickup/{{task}}", pickup.task_page, methods=get),
        Route(f"{STORE}/pickup/{{task}}/{{action}}", pickup.act, methods=post),
        Route(f"{STORE}/ship", shipping.queue_page, methods=get),
        Route(f"{STORE}/ship/live", shipping.queue_live, methods=get),
        Route(f"{STORE}/ship/{{task}}", shipping.task_page, methods=get),
        Route(f"{STORE}/ship/{{task}}/{{action}}", shipping.act, methods=post),
        Route(f"{STORE}/counter", counter.find, methods=get),
        Route(f"{STORE}/counter/orders/{{order}}", counter.order_page, methods=get),
        Route(f"{STORE}/counter/orders/{{order}}/review", counter.review, methods=post),
        Route(f"{STORE}/counter/orders/{{order}}/confirm", counter.confirm, methods=post),
        Route(f"{STORE}/aisle", aisle.aisle_page, methods=get),
        Route(f"{STORE}/aisle/live", aisle.aisle_live, methods=get),  # ?sku=
        Route(f"{STORE}/aisle/order", aisle.sell, methods=post),
        Route(f"{STORE}/orders/{{order}}/live", aisle.order_live, methods=get),
        Route("/dashboard", dashboard.dashboard, methods=get),
        Route("/dashboard/live", dashboard.dashboard_live, methods=get),
        Route("/orders", desk.desk, methods=get),
        Route("/orders/{order}", desk.order_page, methods=get),
        Route("/orders/{order}/live", desk.order_live, methods=get),
        Route("/orders/{order}/{action}", desk.act, methods=post),
        Route(f"{STORE}/stock", stock.stock_page, methods=get),
        Route(f"{STORE}/stock/live", stock_live.stock_live, methods=get),
        Route(f"{STORE}/stock/item", stock.sku_page, methods=get),  # ?sku=
        Route(f"{STORE}/stock/item/{{action}}", stock.change, methods=post),
        Route(f"{STORE}/stock/shipping", stock.shipping, methods=post),
        Route(f"{STORE}/deliveries", deliveries.deliveries_page, methods=get),
        Route(f"{STORE}/deliveries/{{kind}}/{{id}}", deliveries.delivery_page, methods=get),
        Route(f"{STORE}/deliveries/{{kind}}/{{id}}/receive", deliveries.receive, methods=post),
        Route(f"{STORE}/deliveries/po/{{id}}/close", deliveries.close, methods=post),
        Route(f"{STORE}/deliveries/transfer/{{id}}/{{step}}", deliveries.send, methods=post),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


# Every asset is our own: no inline script, no other origin.
_HEADERS = [
    (
        b"content-security-policy",
        # htmx sets inline styles while it swaps; scripts stay strictly our own files.
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 404
    words = "There is no such page." if code == 404 else "That cannot be done here."
    return refuse(request, words, code)


async def _broken(request: Request, exc: Exception) -> Response:
    log.exception("console: %s %s failed", request.method, request.url.path, exc_info=exc)
    return refuse(request, "Something went wrong on this page. Try again.", 500)


def build(settings: ConsoleSettings) -> Starlette:
    tokens = Tokens.parse(settings.auth_tokens)
    hints, live = Hints(), LiveStreams()
    listener = HintListener(hints)

    api: dict[str, ASGIApp] = {}  # filled once the channels exist (they need the loop)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        backends = Backends(settings)
        api.update(fronts(backends.services(), settings.cors_origins))
        sessions = Sessions(settings.session_key, tokens, settings.session_seconds)
        figures = ReadModel(settings, [(listener.subject, listener.on_pickup)])
        await figures.start()
        app.state.console = Console(settings, sessions, backends, hints, live, figures)
        try:
            yield
        finally:
            await figures.stop()
            await backends.close()

    web = Starlette(
        routes=routes(),
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _not_found, Exception: _broken},
        lifespan=lifespan,
    )
    web.state.live = live
    web.state.api = api
    return web


class PagesAndApi:
    """The HTTP/JSON API at the services' own paths (/omni.stock.v1.StockService/...), the
    pages everywhere else."""

    def __init__(self, web: Starlette) -> None:
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            front = self.web.state.api.get(scope["path"].split("/", 2)[1])
            if front is not None:
                await front(scope, receive, send)
                return
        await self.web(scope, receive, send)


class ConsoleServer(uvicorn.Server):
    """uvicorn, ending the live pages' event streams first when it stops."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.web = build(settings)
        super().__init__(
            uvicorn.Config(
                PagesAndApi(self.web),
                host=settings.http_host,
                port=settings.http_port,
                log_config=None,  # our own log format
                proxy_headers=True,
                timeout_graceful_shutdown=10,
            )
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.web.state.live.close()
        await super().shutdown(sockets)
