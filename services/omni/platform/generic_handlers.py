"""gRPC methods served through their service's generic handler only.

Why: for a method also "registered" (what generated `add_*_to_server` functions do besides
adding the generic handler), grpc.aio keeps a pending request future, and for every incoming
call waits on all of them at once: with the stock service's 20-odd methods that wait cost about
40 us of CPU per call, a sixth of a Reserve (`make bench`). So each service is added to a
`GenericOnly` view of the server, which keeps the generic handler and drops the registration.

What it leans on: that the generated `add_*_to_server` of the pinned grpcio-tools adds a generic
handler serving every method (the registration is extra). `self_check()` runs at every
service's start and stops it at once, with a message, if a generated function stops doing so:
serving generic handlers only would then leave methods unanswered (UNIMPLEMENTED).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]  # public


class GenericOnly:
    """The server as generated `add_*_to_server` functions see it."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, _service: str, _handlers: dict[str, Any]) -> None:
        """Left out on purpose: the generic handler added with them serves these methods."""


class _Call(NamedTuple):
    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


class _Recorder:
    def __init__(self) -> None:
        self.generic: list[grpc.GenericRpcHandler] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self.generic.extend(handlers)

    def add_registered_method_handlers(self, _service: str, _handlers: dict[str, Any]) -> None:
        pass


def self_check(add: Any = None) -> None:
    """Raises SystemExit if a generated `add_*_to_server` (the health service's, as every one
    is generated alike; `add` for a test) no longer adds a generic handler for its methods."""
    add = add or health_pb2_grpc.add_HealthServicer_to_server
    seen = _Recorder()
    add(health_aio.HealthServicer(), seen)
    call = _Call("/grpc.health.v1.Health/Check")
    if not any(handler.service(call) is not None for handler in seen.generic):  # type: ignore[arg-type]
        raise SystemExit(
            f"grpcio {grpc.__version__}: generated add_*_to_server functions no longer add a "
            "generic handler for their methods, which omni/platform/generic_handlers.py serves "
            "alone: pin the grpcio-tools version that does (pyproject.toml), or update it"
        )
