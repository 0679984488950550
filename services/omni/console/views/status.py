"""Which services answer: a strip on every page, and the probes Kubernetes asks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from omni.console.web import console, render, signed_in


@signed_in
async def status_strip(request: Request) -> Response:
    """Polled by every page: also what sends a page whose session ended to the sign-in."""
    return render(request, "_status.html", status=await console(request).backends.status())


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    """Ready once started: a service being down is shown on the pages, not hidden by taking
    the console out of rotation."""
    return PlainTextResponse("ready")
