"""Client channels that present a bearer token on every call (tools, tests, the demo seed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc


def _with_token(details: Any, token: str) -> Any:
    metadata = [*(details.metadata or ()), ("authorization", f"Bearer {token}")]
    return details._replace(metadata=metadata)


class _Bearer:
    def __init__(self, token: str) -> None:
        self._token = token


# grpc.aio files each interceptor under the first kind it is, so one class per kind.
class _UnaryUnary(_Bearer, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with_token(details, self._token), request)


class _UnaryStream(_Bearer, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with_token(details, self._token), request)


class _StreamUnary(_Bearer, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(_with_token(details, self._token), requests)


class _StreamStream(_Bearer, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(_with_token(details, self._token), requests)


def channel(
    target: str,
    token: str,
    options: Sequence[tuple[str, Any]] | None = None,
    root_certificates: bytes | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel whose every call carries `authorization: Bearer <token>`; over TLS,
    trusting `root_certificates` (PEM), when they are given."""
    interceptors: Any = [
        kind(token) for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    ]
    if root_certificates is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    credentials = grpc.ssl_channel_credentials(root_certificates)
    return grpc.aio.secure_channel(target, credentials, options, interceptors=interceptors)


class _SyncBearer(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, token: str) -> None:
        self._token = token

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(_with_token(details, self._token), request)


def sync_channel(target: str, token: str) -> grpc.Channel:
    """A blocking channel (unary calls) carrying the token."""
    return grpc.intercept_channel(grpc.insecure_channel(target), _SyncBearer(token))
