"""The gRPC server every service runs: error mapping, health, reflection, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]  # public
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from grpc_status import rpc_status

from omni.platform import auth, errors, logs, tracing, validation
from omni.platform.db import DATABASE_AWAY, is_connection_error
from omni.platform.generic_handlers import GenericOnly
from omni.platform.tasks import repeat, reraise_if_cancelled

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

CODES: dict[type[errors.OmniError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Conflict: grpc.StatusCode.ABORTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
}

# A service may attach a protobuf detail to some errors (e.g. the short lines of a reservation).
DetailFor = Callable[[errors.OmniError], Message | None]
# Authenticates and authorizes one call: (method, metadata) -> its caller, or raises.
Guard = Callable[[str, Any], auth.Caller]
# Told of every finished call: (method, status code name, seconds).
# A finished call: its method ("/package.Service/Method"), its type ("unary",
# "server_stream", "client_stream", "bidi_stream"), its status code and its seconds.
Observe = Callable[[str, str, str, float], None]
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
Check = Callable[[], Awaitable[bool]]


def status_for(exc: BaseException, detail_for: DetailFor) -> grpc.Status:
    """The one place that turns an exception into a gRPC status."""
    if isinstance(exc, errors.OmniError):
        code = next(c for cls, c in CODES.items() if isinstance(exc, cls))
        message, detail = exc.message, detail_for(exc)
    elif is_connection_error(exc):
        code, message, detail = grpc.StatusCode.UNAVAILABLE, DATABASE_AWAY, None
    else:
        log.error("unexpected error", exc_info=exc)
        code, message, detail = grpc.StatusCode.INTERNAL, "internal error (logged)", None
    status = status_pb2.Status(code=code.value[0], message=_capped(message))
    retry = exc.retry_after if isinstance(exc, errors.Unavailable) else None
    if retry is not None:  # when to try again: clients and proxies that read it wait so long
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=retry))
        _pack(status, error_details_pb2.RetryInfo(retry_delay=delay))
    if detail is not None:
        _pack(status, detail)
    return rpc_status.to_status(status)


def _pack(status: status_pb2.Status, detail: Message) -> None:
    packed = any_pb2.Any()
    packed.Pack(detail)
    status.details.append(packed)


# The message travels in the grpc-message header and again in grpc-status-details-bin; a
# client refuses metadata over 8 KiB (RESOURCE_EXHAUSTED), so no message may come near it.
MAX_MESSAGE_BYTES = 1000


def _capped(message: str) -> str:
    """The message cut to at most 1,000 bytes of UTF-8 (never inside a character)."""
    encoded = message.encode()
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return message
    return encoded[: MAX_MESSAGE_BYTES - 3].decode(errors="ignore") + "…"


class CallInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler of our services: the caller is authenticated and authorized first
    (its identity then available as omni.platform.auth.CALLER), and an exception becomes a
    status, never a crash. Health and reflection stay open, for probes and tools."""

    def __init__(
        self, detail_for: DetailFor, guard: Guard | None, observe: Observe | None = None
    ) -> None:
        self._detail_for = detail_for
        self._guard = guard
        self._observe = observe or (lambda _method, _kind, _code, _seconds: None)
        self._wrapped: dict[str, Any] = {}

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: grpc.HandlerCallDetails
    ) -> Any:
        # Handlers are fixed per method: wrap each once, not on every call.
        method = details.method
        if method not in self._wrapped:
            handler = await continuation(details)
            if handler is None:
                return None
            guard = None if method.startswith(OPEN_SERVICES) else self._guard
            self._wrapped[method] = self._wrap(handler, method, guard)
        return self._wrapped[method]

    def _wrap(self, handler: Any, method: str, guard: Guard | None) -> Any:
        abort = self._abort
        kind = _kind_of(handler)

        def observe(method: str, code: str, seconds: float) -> None:
            self._observe(method, kind, code, seconds)

        deserialize = _tolerant(handler.request_deserializer)

        def admit(context: grpc.aio.ServicerContext) -> None:
            metadata = context.invocation_metadata() or ()
            given = next((v for k, v in metadata if k == logs.METADATA_KEY), None)
            request_id = logs.request_id_from(given if isinstance(given, str) else None)
            logs.REQUEST_ID.set(request_id)
            tracing.tag_request(request_id)
            if guard is not None:
                auth.CALLER.set(guard(method, metadata))

        if handler.unary_unary or handler.stream_unary:
            unary_behavior = handler.unary_unary or handler.stream_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, code = time.perf_counter(), "CANCELLED"
                try:
                    admit(context)
                    request = _admitted(request, unary_behavior)
                    reply = await unary_behavior(request, context)
                    auth.confirm_store_checked()  # a STORE rule's check ran (or it is a bug)
                    code = "OK"
                    return reply
                except Exception as exc:
                    code = _code_of(exc, self._detail_for)
                    await abort(exc, context)
                finally:
                    observe(method, code, time.perf_counter() - started)

            factory = (
                grpc.unary_unary_rpc_method_handler
                if handler.unary_unary
                else grpc.stream_unary_rpc_method_handler
            )
            return factory(unary, deserialize, handler.response_serializer)
        stream_behavior = handler.unary_stream or handler.stream_stream

        async def streaming(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started, code = time.perf_counter(), "CANCELLED"
            try:
                admit(context)
                request = _admitted(request, stream_behavior)
                async for item in stream_behavior(request, context):
                    yield item
                code = "OK"
            except Exception as exc:
                code = _code_of(exc, self._detail_for)
                await abort(exc, context)
            finally:
                observe(method, code, time.perf_counter() - started)

        factory = (
            grpc.unary_stream_rpc_method_handler
            if handler.unary_stream
            else grpc.stream_stream_rpc_method_handler
        )
        return factory(streaming, deserialize, handler.response_serializer)

    async def _abort(self, exc: Exception, context: grpc.aio.ServicerContext) -> None:
        if isinstance(exc, grpc.aio.AbortError):
            raise exc
        status = status_for(exc, self._detail_for)
        await context.abort(status.code, status.details, status.trailing_metadata)


def _code_of(exc: Exception, detail_for: DetailFor) -> str:
    """The status code an exception ends its call with (as status_for decides, unlogged)."""
    if isinstance(exc, errors.OmniError):
        return next(c for cls, c in CODES.items() if isinstance(exc, cls)).name
    if isinstance(exc, grpc.aio.AbortError):
        return "UNKNOWN"
    return "UNAVAILABLE" if is_connection_error(exc) else "INTERNAL"


@dataclass(frozen=True)
class Refused:
    """Stands for a request message refused as it arrived: bytes that are not the expected
    message, or one with a NUL in a string. A unary call fails with `error`; a handler of a
    stream of requests meets one of these in place of each refused message (see Scan)."""

    error: errors.InvalidArgument
    message: Any = None  # the decoded message, when it could be decoded


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """gRPC answers INTERNAL when deserializing fails (and the database, later, when a string
    holds a NUL); we want INVALID_ARGUMENT instead, naming the field."""
    if deserialize is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            request = deserialize(data)
        except Exception:
            message = "the request body is not a valid message for this method"
            return Refused(errors.InvalidArgument(message))
        try:
            validation.refuse_nul(request, data)
        except errors.InvalidArgument as exc:
            return Refused(exc, request)
        return request

    return parse


def refused_per_message(method: F) -> F:
    """Marks a servicer method taking a stream of requests that answers each refused message
    itself (it meets a Refused in its place), instead of the call ending INVALID_ARGUMENT."""
    method.omni_refused_per_message = True  # type: ignore[attr-defined]
    return method


def _admitted(request: Any, behavior: Any) -> Any:
    """A request refused (raises), or let through; a stream of them, checked message by
    message as the handler reads it (unless it answers refused messages itself)."""
    if isinstance(request, Refused):
        raise request.error
    if hasattr(request, "__aiter__") and not getattr(behavior, "omni_refused_per_message", False):
        return _each_admitted(request)
    return request


async def _each_admitted(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        if isinstance(request, Refused):
            raise request.error
        yield request


# SERVING while the process runs and until it stops: what a liveness probe asks. Restarting a
# replica because NATS or the database is away would not bring them back; the outbox waits.
LIVENESS = "omni.liveness"


class HealthReporter:
    """Serves grpc.health.v1, SERVING while every check (database, NATS) passes; and
    LIVENESS, SERVING from the first check until graceful shutdown.

    A replica that has served leaves rotation only when a check failed `fail_after` times in
    a row: one slow answer on a busy CPU is no outage, and taking replicas out for it moves
    their load onto the others. It is back at the first check that passes again; and until
    it first served, any failure keeps it out.
    """

    def __init__(
        self, service_names: Sequence[str], checks: dict[str, Check], fail_after: int = 3
    ) -> None:
        self.servicer = health_aio.HealthServicer()
        self._names = ["", *service_names]
        self._checks = checks
        self._fail_after = fail_after
        self._misses = dict.fromkeys(checks, 0)  # failures in a row, per check
        self._served = False
        self.failing: list[str] = []  # the checks that keep the replica out of rotation

    async def refresh(self) -> bool:
        """Runs every check once and publishes the result; True while SERVING."""
        for name, check in self._checks.items():
            try:
                ok = await asyncio.wait_for(check(), 2.0)
            except Exception as exc:
                reraise_if_cancelled(exc)
                ok = False
            self._misses[name] = 0 if ok else self._misses[name] + 1
            if not ok and self._served and self._misses[name] < self._fail_after:
                log.info("health: %s failed (%d in a row)", name, self._misses[name])
        enough = self._fail_after if self._served else 1
        failing = [name for name, misses in self._misses.items() if misses >= enough]
        if failing != self.failing:
            log.warning("health: %s", f"failing {failing}" if failing else "all checks pass")
        self.failing = failing
        self._served = self._served or not failing
        status = (
            health_pb2.HealthCheckResponse.NOT_SERVING
            if failing
            else health_pb2.HealthCheckResponse.SERVING
        )
        for name in self._names:
            await self.servicer.set(name, status)
        await self.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        return not failing

    async def run(self, interval: float = 2.0) -> None:
        await repeat("health check", self.refresh, interval)

    async def shutting_down(self) -> None:
        await self.servicer.enter_graceful_shutdown()


def _kind_of(handler: Any) -> str:
    """A method's type, as the standard gRPC metrics label it (grpc_type)."""
    if handler.unary_unary:
        return "unary"
    if handler.unary_stream:
        return "server_stream"
    return "client_stream" if handler.stream_unary else "bidi_stream"


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 1024 * 1024
    max_streams_per_connection: int = 1000
    max_concurrent_rpcs: int = 2000
    max_connection_age_seconds: float = 0.0  # 0: never
    max_connection_age_grace_seconds: float = 0.0  # 0: calls in flight finish as they will

    def options(self) -> list[tuple[str, int]]:
        """The gRPC server options that say these limits."""
        options = [
            # Without this, a second process could bind the same port and share its traffic.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_concurrent_streams", self.max_streams_per_connection),
        ]
        if self.max_connection_age_seconds:
            options.append(("grpc.max_connection_age_ms", _ms(self.max_connection_age_seconds)))
            if self.max_connection_age_grace_seconds:
                grace = _ms(self.max_connection_age_grace_seconds)
                options.append(("grpc.max_connection_age_grace_ms", grace))
        return options


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


async def start_server(
    *,
    host: str,
    port: int,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
    health: HealthReporter,
    guard: Guard | None,
    detail_for: DetailFor = lambda _exc: None,
    limits: Limits | None = None,
    observe: Observe | None = None,
    credentials: grpc.ServerCredentials | None = None,
    outer_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> tuple[grpc.aio.Server, int]:
    """Starts a server with our services, health and reflection; returns it and its port.
    With `guard` None every call is let through (only for tests of the server itself);
    with `credentials` it serves TLS only."""
    limits = limits or Limits()
    server = grpc.aio.server(
        interceptors=[*outer_interceptors, CallInterceptor(detail_for, guard, observe)],
        options=limits.options(),
        maximum_concurrent_rpcs=limits.max_concurrent_rpcs,
    )
    handlers = GenericOnly(server)
    register(handlers)  # type: ignore[arg-type]  # the part of a server generated code uses
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, handlers)
    reflected = [
        *service_names,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
    ]
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        reflection.aio.ReflectionServicer(reflected),  # type: ignore[attr-defined]  # in __all__
        handlers,
    )
    handlers.verify()  # stops here if a method would go unserved (generic_handlers.py)
    address = f"{host}:{port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise RuntimeError(f"cannot listen on {host}:{port} (is it in use?)")
    await server.start()
    return server, bound


async def stop_server(server: grpc.aio.Server, health: HealthReporter, grace: float) -> None:
    """Refuses new calls, lets running calls finish for `grace` seconds, then stops."""
    await health.shutting_down()
    with contextlib.suppress(asyncio.CancelledError):
        await server.stop(grace)
