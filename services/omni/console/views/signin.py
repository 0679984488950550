"""Sign-in, sign-out, and choosing the store to work at."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from omni.console.backends import Refused
from omni.console.sessions import COOKIE, PEOPLE, Session, SignInRefused
from omni.console.web import console, fields, go, render, same_origin, session, signed_in
from omni.stock.v1 import stock_pb2


async def signin_page(request: Request) -> Response:
    return render(request, "signin.html", next=_next(request), dev=_dev_tokens(request))


@same_origin
async def sign_in(request: Request) -> Response:
    form = await fields(request)
    app = console(request)
    try:
        found = app.sessions.sign_in(form.get("token", ""))
    except SignInRefused as exc:
        return render(
            request,
            "signin.html",
            401,
            error=str(exc),
            next=_next(request),
            dev=_dev_tokens(request),
        )
    return _start(request, found, _next(request) if found.store else "/store")


@same_origin
async def sign_out(request: Request) -> Response:
    response = go(request, "/signin")
    response.delete_cookie(COOKIE, path="/")
    return response


@signed_in
async def store_page(request: Request) -> Response:
    who = session(request)
    try:
        reply = await console(request).backends.call(
            "stock",
            console(request).backends.stock.ListLocations,
            stock_pb2.ListLocationsRequest(),
            who.token,
        )
        stores = [loc for loc in reply.locations if loc.kind == stock_pb2.LOCATION_KIND_STORE]
        error = ""
    except Refused as exc:
        stores, error = [], exc.words
    return render(request, "store.html", stores=stores, error=error)


@signed_in
async def choose_store(request: Request) -> Response:
    who = session(request)
    store = (await fields(request)).get("store", "")
    if not who.may_choose_store or not store:
        return go(request, "/")
    cookie = request.cookies[COOKIE]
    started = console(request).sessions.started(cookie)
    return _start(request, Session(who.token, who.caller, store, who.ends), "/", started)


@signed_in
async def home(request: Request) -> Response:
    store = session(request).store
    return go(request, f"/s/{quote(store)}/pickup" if store else "/store")


def _start(request: Request, found: Session, url: str, started: float | None = None) -> Response:
    app = console(request)
    response = go(request, url)
    began = started or time.time()
    left = max(1, int(app.sessions.lifetime - (time.time() - began)))
    response.set_cookie(
        COOKIE,
        app.sessions.seal(found, began),
        max_age=left,
        path="/",
        httponly=True,
        secure=app.settings.secure_cookies,
        samesite="lax",
    )
    return response


def _next(request: Request) -> str:
    target = request.query_params.get("next", "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _dev_tokens(request: Request) -> list[dict[str, str]]:
    """The embedded run's tokens, one button each (never in production)."""
    settings = console(request).settings
    if not settings.dev_signin or not settings.auth_tokens.strip():
        return []
    entries = json.loads(settings.auth_tokens)
    people = {role.value for role in PEOPLE}
    return [e for e in entries if "token" in e and e.get("role") in people]
