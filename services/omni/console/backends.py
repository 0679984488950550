"""The four services, as the console reaches them: one gRPC channel each, every call made
with the signed-in person's own token, and every refusal turned into words for a person."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.console.settings import ConsoleSettings
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.pickup.v1 import pickup_pb2, pickup_pb2_grpc
from omni.returns.v1 import returns_pb2, returns_pb2_grpc
from omni.stock.v1 import stock_pb2, stock_pb2_grpc

log = logging.getLogger(__name__)
R = TypeVar("R")
CALL_TIMEOUT = 10.0
NAMES = ("stock", "orders", "pickup", "returns")
# What a person may act on: the service's own message. The rest are said in our words.
_THEIR_WORDS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.OUT_OF_RANGE,
}


# How a service's access table refuses a role: "the associate role may not call /omni…/X".
_ROLE_REFUSED = re.compile(r"^the (\w+) role may not call ")


_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}


class Refused(Exception):
    """A service said no, or could not be reached; `words` are for the person."""

    def __init__(self, service: str, code: grpc.StatusCode, words: str) -> None:
        super().__init__(words)
        self.service = service
        self.code = code
        self.words = words

    @property
    def service_down(self) -> bool:
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

    @property
    def http_status(self) -> int:
        """The HTTP status of a page that could not be shown for this refusal."""
        return _HTTP.get(self.code, 500)

    @property
    def final(self) -> bool:
        """The service refused and did nothing. Otherwise (a timeout, an outage, a bug) the
        action may have happened: a retry must send the same idempotency key."""
        return self.code in _THEIR_WORDS or self.code == grpc.StatusCode.UNAUTHENTICATED


def words_for(service: str, exc: grpc.RpcError) -> Refused:
    """One refusal, said so that an associate at a busy counter knows what to do."""
    code: grpc.StatusCode = exc.code()
    details = (exc.details() or "").strip()
    role = _ROLE_REFUSED.match(details) if code == grpc.StatusCode.PERMISSION_DENIED else None
    if role:  # the access table's refusal names an RPC; say it for a person
        article = "an" if role[1][:1] in "aeiou" else "a"
        said = f"As {article} {role[1]} you cannot do this. Ask a store manager."
        return Refused(service, code, said)
    if code in _THEIR_WORDS and details:
        text = details[0].upper() + details[1:]
        return Refused(service, code, text if text.endswith(".") else text + ".")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Refused(
            service, code, f"The {service} service is not answering right now. Try again soon."
        )
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Refused(service, code, "Your sign-in is no longer valid. Sign in again.")
    if code == grpc.StatusCode.ABORTED:
        return Refused(service, code, "Someone changed this at the same moment. Try again.")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return Refused(service, code, f"The {service} service is busy. Try again in a moment.")
    log.error("%s answered %s: %s", service, code.name, details)
    return Refused(
        service, code, f"Something went wrong in the {service} service. Try again, or ask IT."
    )


class Backends:
    """Stubs for the four services and the calls the pages make through them."""

    def __init__(self, settings: ConsoleSettings) -> None:
        ca = Path(settings.grpc_ca_file).read_bytes() if settings.grpc_ca_file else None
        targets = {
            "stock": settings.stock_target,
            "orders": settings.orders_target,
            "pickup": settings.pickup_target,
            "returns": settings.returns_target,
        }
        options = [
            ("grpc.keepalive_time_ms", 20_000),
            ("grpc.keepalive_timeout_ms", 5_000),
            # A service back from an outage is found within seconds (gRPC's default backoff
            # grows to two minutes), so pages recover soon after it does.
            ("grpc.initial_reconnect_backoff_ms", 500),
            ("grpc.min_reconnect_backoff_ms", 500),
            ("grpc.max_reconnect_backoff_ms", 3_000),
        ]
        self._channels = {
            name: grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(ca), options)
            if ca
            else grpc.aio.insecure_channel(target, options)
            for name, target in targets.items()
        }
        self.stock = stock_pb2_grpc.StockServiceStub(self._channels["stock"])
        self.orders = orders_pb2_grpc.OrdersServiceStub(self._channels["orders"])
        self.pickup = pickup_pb2_grpc.PickupServiceStub(self._channels["pickup"])
        self.returns = returns_pb2_grpc.ReturnsServiceStub(self._channels["returns"])
        self._health = {name: health_pb2_grpc.HealthStub(ch) for name, ch in self._channels.items()}
        self._status: dict[str, bool] = {}
        # Failed checks in a row; a service not yet seen serving starts one down.
        self._failed: dict[str, int] = dict.fromkeys(NAMES, 1)
        self._status_at = 0.0

    def services(self) -> dict[str, tuple[ServiceDescriptor, grpc.aio.Channel]]:
        """Each service's descriptor and channel (for the HTTP/JSON front, omni.console.api)."""
        files = {
            "stock": stock_pb2.DESCRIPTOR.services_by_name["StockService"],
            "orders": orders_pb2.DESCRIPTOR.services_by_name["OrdersService"],
            "pickup": pickup_pb2.DESCRIPTOR.services_by_name["PickupService"],
            "returns": returns_pb2.DESCRIPTOR.services_by_name["ReturnsService"],
        }
        return {name: (files[name], self._channels[name]) for name in NAMES}

    async def close(self) -> None:
        await asyncio.gather(*(ch.close(None) for ch in self._channels.values()))

    async def call(
        self, service: str, method: Callable[..., Awaitable[R]], request: Any, token: str
    ) -> R:
        """One unary call as the signed-in person; a refusal raises Refused."""
        try:
            return await method(request, metadata=_bearer(token), timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            raise words_for(service, exc) from None

    async def stream(
        self, service: str, method: Callable[..., Any], request: Any, token: str
    ) -> AsyncIterator[Any]:
        """A server stream (a watch) as the signed-in person; a refusal raises Refused."""
        call = method(request, metadata=_bearer(token))
        try:
            async for reply in call:
                yield reply
        except grpc.RpcError as exc:
            raise words_for(service, exc) from None
        finally:
            call.cancel()

    async def scan_once(self, scan: Any, token: str) -> Any:
        """One scan over the scan stream (a manager's count): its acknowledgement."""
        call = self.stock.Scan(metadata=_bearer(token), timeout=CALL_TIMEOUT)
        try:
            await call.write(scan)
            await call.done_writing()
            reply = await call.read()
        except grpc.RpcError as exc:
            raise words_for("stock", exc) from None
        finally:
            call.cancel()
        if reply is grpc.aio.EOF:  # type: ignore[attr-defined]
            raise Refused("stock", grpc.StatusCode.UNAVAILABLE, "The count was not answered.")
        return reply

    async def status(self) -> dict[str, bool]:
        """Which services answer SERVING, asked at most once a second for every page. One
        slow answer on a busy moment is not an outage: down is two failed checks in a row."""
        if time.monotonic() - self._status_at > 1.0:
            self._status_at = time.monotonic()
            answers = await asyncio.gather(*(self._serving(n) for n in NAMES))
            for name, serving in zip(NAMES, answers, strict=True):
                self._failed[name] = 0 if serving else self._failed[name] + 1
            self._status = {name: self._failed[name] < 2 for name in NAMES}
        return self._status

    async def _serving(self, name: str) -> bool:
        try:
            reply = await self._health[name].Check(health_pb2.HealthCheckRequest(), timeout=2.0)
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


async def attempt(answer: Awaitable[R]) -> R | Refused:
    """The answer, or the refusal as a value (for calls made side by side)."""
    try:
        return await answer
    except Refused as exc:
        return exc


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
