"""HTTP/JSON for browser storefronts and scripts: every RPC of the four services over the
Connect protocol (connectrpc, the protocol's own Python library), at the same paths as gRPC
(`POST /omni.stock.v1.StockService/GetAvailability` with a JSON body), with the same tokens
and the same validation: each call is the service's own gRPC call, made with the caller's
`Authorization` header, its error passed on with its code and details. Server streams
(`WatchAvailability`, `WatchOrder`) use Connect streaming, which a browser's fetch reads.
Client streams (the scanners' `Scan`) stay gRPC-only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_codecs
from connectrpc.errors import ConnectError, ErrorDetail
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.request import RequestContext
from connectrpc.server import ConnectASGIApplication, Endpoint
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from protobuf.wkt import Any as WireAny
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

# gRPC's status codes by Connect's names (the same codes; one is spelled differently).
_CODES = {code: getattr(Code, code.name, Code.UNKNOWN) for code in grpc.StatusCode}
_CODES[grpc.StatusCode.CANCELLED] = Code.CANCELED
_MAX_SECONDS = 30.0  # a unary call's deadline when the caller sets none


def connect_error(exc: grpc.aio.AioRpcError) -> ConnectError:
    """The service's refusal as Connect says it: code, message and details (e.g. the short
    lines of InsufficientStock), so an HTTP caller learns what a gRPC caller would."""
    details: list[ErrorDetail] = []
    trailers: Any = exc.trailing_metadata() or ()
    for key, value in trailers:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            details = _details(value)
    return ConnectError(_CODES.get(exc.code(), Code.UNKNOWN), exc.details() or "", details)


def _details(raw: bytes) -> list[ErrorDetail]:
    """google.rpc.Status details, re-wrapped for connectrpc (which has its own protobuf
    runtime: the Any is rebuilt from its type URL and bytes, unchanged)."""
    try:
        status = status_pb2.Status.FromString(raw)
    except DecodeError:
        return []
    return [ErrorDetail(WireAny(type_url=d.type_url, value=d.value)) for d in status.details]


def fronts(
    services: dict[str, tuple[ServiceDescriptor, grpc.aio.Channel]], origins: list[str]
) -> dict[str, ASGIApp]:
    """Each service's Connect front by its full name, behind CORS for `origins`."""
    return {
        descriptor.full_name: CORSMiddleware(
            GrpcFront(descriptor, channel),
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=_CALLER_HEADERS,
            expose_headers=["grpc-status", "grpc-message"],
            max_age=600,
        )
        for descriptor, channel in services.values()
    }


_CALLER_HEADERS = [
    "authorization",
    "content-type",
    "connect-protocol-version",
    "connect-timeout-ms",
    "x-request-id",
]


class GrpcFront(ConnectASGIApplication[None]):
    """One service's RPCs over Connect, each passed to its gRPC twin on `channel`."""

    def __init__(self, service: ServiceDescriptor, channel: grpc.aio.Channel) -> None:
        self._name = service.full_name
        endpoints = {
            f"/{self._name}/{method.name}": _endpoint(self._name, method, channel)
            for method in service.methods
            if not method.client_streaming
        }
        super().__init__(
            service=None,
            endpoints=lambda _: endpoints,
            codecs=google_protobuf_codecs(),
            read_max_bytes=1 << 20,  # as the services' gRPC servers (1 MiB)
        )

    @property
    def path(self) -> str:
        return f"/{self._name}/"


def _endpoint(service: str, method: MethodDescriptor, channel: grpc.aio.Channel) -> Any:
    request = message_factory.GetMessageClass(method.input_type)
    response = message_factory.GetMessageClass(method.output_type)
    path = f"/{service}/{method.name}"
    info: MethodInfo[Any, Any] = MethodInfo(
        name=method.name,
        service_name=service,
        input=request,
        output=response,
        idempotency_level=IdempotencyLevel.UNKNOWN,
        stream_type=StreamType.SERVER_STREAM if method.server_streaming else StreamType.UNARY,
    )
    out, back = request.SerializeToString, response.FromString
    if method.server_streaming:
        stream = channel.unary_stream(path, request_serializer=out, response_deserializer=back)
        return Endpoint.server_stream(info, _streamed(stream))
    unary = channel.unary_unary(path, request_serializer=out, response_deserializer=back)
    return Endpoint.unary(info, _unary(unary))


def _metadata(ctx: RequestContext[Any, Any]) -> list[tuple[str, str]]:
    """What the caller sent that the service reads: its token and its request id."""
    headers = ctx.request_headers
    return [(k, headers[k]) for k in ("authorization", "x-request-id") if k in headers]


def _deadline(ctx: RequestContext[Any, Any]) -> float:
    left = ctx.timeout_ms
    return min(_MAX_SECONDS, left / 1000) if left is not None else _MAX_SECONDS


def _unary(call: Any) -> Callable[[Message, RequestContext[Any, Any]], Awaitable[Message]]:
    async def forward(request: Message, ctx: RequestContext[Any, Any]) -> Message:
        try:
            answer: Message = await call(request, metadata=_metadata(ctx), timeout=_deadline(ctx))
        except grpc.aio.AioRpcError as exc:
            raise connect_error(exc) from None
        return answer

    return forward


def _streamed(call: Any) -> Callable[[Message, RequestContext[Any, Any]], AsyncIterator[Message]]:
    async def forward(request: Message, ctx: RequestContext[Any, Any]) -> AsyncIterator[Message]:
        stream = call(request, metadata=_metadata(ctx))
        try:
            async for answer in stream:
                yield answer
        except grpc.aio.AioRpcError as exc:
            raise connect_error(exc) from None
        finally:
            stream.cancel()

    return forward
