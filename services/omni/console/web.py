"""What every page shares: templates, the signed-in person, forms, and answers in words."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from omni.console import words
from omni.console.backends import Backends, Refused
from omni.console.figures.model import ReadModel
from omni.console.live import Hints, LiveStreams
from omni.console.sessions import COOKIE, Session, Sessions
from omni.console.settings import ConsoleSettings
from omni.platform.auth import Role

HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters.update(
    money=words.money,
    ago=words.ago,
    stamp=words.stamp,
    order_status=words.order_status,
    pickup_status=words.pickup_status,
    ship_status=words.ship_status,
    channel=words.channel,
    channel_named=words.channel_named,
    duration=words.duration,
    movement=words.movement,
)
# Longest text a form field may carry into a request; the services check the rest.
MAX_FIELD = 200


@dataclass
class Console:
    """What the pages need, built once by the app (omni.console.app)."""

    settings: ConsoleSettings
    sessions: Sessions
    backends: Backends
    hints: Hints
    live: LiveStreams
    figures: ReadModel


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def session(request: Request) -> Session:
    found: Session = request.state.session
    return found


def render(request: Request, template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
    page = TEMPLATES.get_template(template).render(
        request=request,
        session=getattr(request.state, "session", None),
        Role=Role,
        **context,
    )
    return HTMLResponse(page, status_code=status)


def fragment(template: str, **context: Any) -> str:
    return TEMPLATES.get_template(template).render(Role=Role, **context)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def go(request: Request, url: str) -> Response:
    """Sends the browser to `url` (a full page load, also from an htmx request)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


Handler = Callable[[Request], Awaitable[Response]]


def refuse(request: Request, words: str, status: int = 200, title: str = "") -> HTMLResponse:
    """A refusal in words: a whole page, or for an htmx request the fragment it swaps in."""
    if is_htmx(request):
        return render(request, "_refused.html", status, refusal=words)
    return render(request, "error.html", status, message=words, title=title)


def cannot_show(request: Request, title: str, exc: Refused, **nav: str) -> HTMLResponse:
    """A page whose subject a service would not give: its title, and why, in words."""
    return render(request, "error.html", exc.http_status, title=title, message=exc.words, **nav)


def same_origin(handler: Handler) -> Handler:
    """A form posted from another site is refused (beside SameSite cookies, a second guard)."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        if request.method not in ("GET", "HEAD") and not _same_origin(request):
            return refuse(request, "This form came from another site.", 403)
        return await handler(request)

    return wrapper


def signed_in(handler: Handler) -> Handler:
    """The page needs a session; without one (or a stale one) the person signs in first. A
    live page's event stream is told to stop (204) rather than sent to the sign-in page."""

    @same_origin
    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        found = console(request).sessions.open(request.cookies.get(COOKIE))
        if found is None:
            if "text/event-stream" in request.headers.get("accept", ""):
                return Response(status_code=204)
            return go(request, "/signin?next=" + _here(request))
        request.state.session = found
        return await handler(request)

    return wrapper


def _here(request: Request) -> str:
    path = request.url.path if request.method == "GET" else "/"
    return path if path.startswith("/") and not path.startswith("//") else "/"


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def fields(request: Request) -> Mapping[str, str]:
    """The posted form's text fields, each cut to a sane length."""
    form = await request.form()
    return {k: v[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


def new_key(kind: str) -> str:
    """An idempotency key or scan id made when a form is drawn: sending the form twice
    (a double tap, a browser retry) is one action."""
    return f"console-{kind}-{secrets.token_hex(8)}"
