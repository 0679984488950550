"""gRPC methods served through their service's generic handler only.

Why: for a method also "registered" (what generated `add_*_to_server` functions do besides
adding the generic handler), grpc.aio keeps a pending request future, and for every incoming
call waits on all of them at once: with the stock service's 20-odd methods that wait cost about
40 us of CPU per call, a sixth of a Reserve (`make bench`). So each service is added to a
`GenericOnly` view of the server, which keeps the generic handler and drops the registration.

What it leans on: that the generated `add_*_to_server` of the pinned grpcio-tools adds a generic
handler serving every method (the registration is extra). `GenericOnly.verify()` checks it on
the services' own generated code as every server starts, and stops the service at once, with a
message, if a generated function stops doing so: serving generic handlers only would then leave
methods unanswered (UNIMPLEMENTED).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import grpc


class GenericOnly:
    """The server as generated `add_*_to_server` functions see it. `verify()`, once every
    service is added, checks that the generic handlers serve each method those functions
    would have registered: what this module relies on, checked on the very code it serves."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server
        self._generic: list[grpc.GenericRpcHandler] = []
        self._methods: list[str] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._generic.extend(handlers)
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        """Left out on purpose (the generic handler added with them serves these methods);
        their names are kept for `verify`."""
        self._methods += [f"/{service}/{method}" for method in handlers]

    def verify(self) -> None:
        """Raises SystemExit naming the methods no generic handler serves (a grpcio-tools
        upgrade changed what generated code adds): they would answer UNIMPLEMENTED."""
        unserved = [m for m in self._methods if not any(_serves(h, m) for h in self._generic)]
        if unserved:
            raise SystemExit(
                f"grpcio {grpc.__version__}: no generic handler serves {', '.join(unserved[:5])}; "
                "omni/platform/generic_handlers.py serves generic handlers alone: pin the "
                "grpcio-tools version whose generated code adds them (pyproject.toml), or update "
                "that module"
            )


class _Call(NamedTuple):
    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


def _serves(handler: grpc.GenericRpcHandler, method: str) -> bool:
    return handler.service(_Call(method)) is not None  # type: ignore[arg-type]
