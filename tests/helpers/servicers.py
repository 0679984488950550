"""Servicer tests with grpcio-testing: a service's own servicer, as its composition root builds
it, behind the real call interceptor (tokens, access rules, errors made statuses), invoked the
way grpc_testing invokes a servicer: no port, no network, no NATS, a SQLite file.

grpc_testing calls synchronous servicer methods, each in a thread of its own; ours are asyncio
coroutines. So the servicer grpc_testing sees is a bridge: each call is handed to the test's
event loop, and its context is given the asyncio signatures ours expect (an awaitable abort)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
import grpc_testing
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from omni.platform.auth import authorize
from omni.platform.grpc_server import CallInterceptor
from omni.platform.service import Service
from tests.helpers.running import TOKENS

S = TypeVar("S", bound=Service)


@dataclass(frozen=True)
class Answer:
    """How a call ended: its response (None unless OK), code and details."""

    response: Any
    code: grpc.StatusCode
    details: str


class Served(Generic[S]):
    """One service's servicer under grpc_testing; `call` invokes a unary method by name."""

    def __init__(self, app: S, service: ServiceDescriptor, handlers: dict[str, Any]) -> None:
        self.app = app
        self._service = service
        bridge = _Bridge(handlers, asyncio.get_running_loop())
        self._server = grpc_testing.server_from_dictionary(
            {service: bridge}, grpc_testing.strict_real_time()
        )

    async def call(self, method: str, request: Message, role: str = "service") -> Answer:
        """Calls `method` with the test token of `role` (tests.helpers.running.TOKENS)."""
        rpc = self._server.invoke_unary_unary(
            self._service.methods_by_name[method],
            (("authorization", f"Bearer {TOKENS[role]}"),),
            request,
            None,
        )
        response, _, code, details = await asyncio.to_thread(rpc.termination)
        return Answer(response, code, details)

    async def ok(self, method: str, request: Message, role: str = "service") -> Any:
        """The response of a call that must succeed."""
        answer = await self.call(method, request, role)
        assert answer.code is grpc.StatusCode.OK, (answer.code, answer.details)
        return answer.response


@asynccontextmanager
async def served(app: S, service: ServiceDescriptor) -> AsyncIterator[Served[S]]:
    """`app` (not started: no server, no NATS) on its migrated database, its own background
    work running (batchers, expiry), its servicer reached through grpc_testing."""
    await app.migrate()
    await app.on_start()
    collected = _Collector()
    app.register(collected)  # type: ignore[arg-type]  # what generated add_*_to_server calls
    interceptor = CallInterceptor(
        app.detail_for(),
        lambda method, metadata: authorize(app.caller, app.access, method, metadata),
    )
    handlers = {}
    for name in service.methods_by_name:
        details = _Details(f"/{service.full_name}/{name}")
        handlers[name] = await interceptor.intercept_service(collected.continuation, details)
    try:
        yield Served(app, service, handlers)
    finally:
        await app.on_stop()
        await app.tasks.stop()
        await app.engine.dispose()


@dataclass(frozen=True)
class _Details:
    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


class _Collector:
    """Stands for the server a servicer is added to: keeps its generic handlers."""

    def __init__(self) -> None:
        self._generic: list[grpc.GenericRpcHandler] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._generic.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        pass  # the generic handlers serve these methods too (omni.platform.generic_handlers)

    async def continuation(self, details: Any) -> Any:
        return next(h for g in self._generic if (h := g.service(details)) is not None)


class _Bridge:
    """The synchronous servicer grpc_testing calls: each method runs ours on the loop."""

    def __init__(self, handlers: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        self._handlers = handlers
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[[Any, grpc.ServicerContext], Any]:
        unary = self._handlers[name].unary_unary

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            ours = _Context(context)
            running = asyncio.run_coroutine_threadsafe(unary(request, ours), self._loop)
            try:
                return running.result()
            except Exception:
                if ours.aborted:  # the call has ended with its status already
                    return None
                raise

        return call


class _Context:
    """grpc_testing's servicer context with the asyncio context's awaitable `abort`."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context
        self.aborted = False

    def invocation_metadata(self) -> Any:
        return self._context.invocation_metadata()

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    async def abort(self, code: grpc.StatusCode, details: str, trailing: Any = ()) -> None:
        self.aborted = True
        self._context.abort(code, details)  # raises: the call ends with this status
