"""OpenTelemetry tracing, off unless OMNI_OTLP_ENDPOINT names a collector (OTLP over gRPC):
a span for every gRPC call, every handled NATS message and every database statement (a child of
the call or message it serves), each call and message tagged with its request id
(omni.platform.logs), so a trace and the log lines of one request find each other. The trace
crosses NATS: the `traceparent` of the work that caused an event or command is kept with its
outbox row and sent as a header (omni.platform.origin), and its handling continues that trace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

REQUEST_ID_ATTRIBUTE = "omni.request_id"
TRACEPARENT_HEADER = "traceparent"  # W3C Trace Context, as a NATS header
# The tracer of the service whose task runs (several services may share a test process);
# tasks inherit it from the service's start. Until a service starts tracing: none.
_TRACER: ContextVar[trace.Tracer | None] = ContextVar("omni_tracer", default=None)
_NO_TRACER = trace.NoOpTracer()
_propagator = TraceContextTextMapPropagator()


def start(service: str, endpoint: str) -> TracerProvider:
    """Sends the service's spans to `endpoint` (http://host:4317 plaintext, https:// TLS);
    tasks started after this, in this context, trace with it."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"omni-{service}"}))
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    use(provider)
    return provider


def use(provider: TracerProvider) -> None:
    """Traces this context, and the tasks started from it from now on, with `provider` (not
    made the process's global provider: tests run several services in one process)."""
    _TRACER.set(provider.get_tracer("omni"))


def server_interceptor(provider: TracerProvider) -> Any:
    """Opens a span for each gRPC call the server takes."""
    return aio_server_interceptor(tracer_provider=provider)


@contextmanager
def batch(traceparents: Sequence[str]) -> Iterator[None]:
    """A span for a batch of work done for several callers at once (omni.platform.batcher): a
    child of the first one's span, linked to the others' (a span has one parent); so the
    batch's statements show inside the trace of the work that opened it."""
    tracer = _TRACER.get()
    given = [parent for parent in traceparents if parent]
    if tracer is None or not given:
        yield
        return
    contexts = [_propagator.extract({TRACEPARENT_HEADER: parent}) for parent in given]
    others = [trace.get_current_span(context).get_span_context() for context in contexts[1:]]
    with tracer.start_as_current_span(
        "batch",
        context=contexts[0],
        links=[trace.Link(other) for other in others if other.is_valid],
        attributes={"omni.batch.size": len(traceparents)},
    ):
        yield


def trace_database(engine: AsyncEngine) -> None:
    """A span for each statement `engine` runs, in the context of the work it serves (the
    engine's listeners are added only when tracing is on: they cost nothing otherwise)."""
    sync: Engine = engine.sync_engine
    system = sync.dialect.name

    @event.listens_for(sync, "before_cursor_execute")
    def _before(_conn: Any, _cursor: Any, sql: str, _params: Any, context: Any, _many: Any) -> None:
        span = _statement_span(system, sql)
        if span is not None and context is not None:
            context._omni_span = span

    @event.listens_for(sync, "after_cursor_execute")
    def _after(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: Any) -> None:
        span = getattr(context, "_omni_span", None)
        if span is not None:
            span.end()

    @event.listens_for(sync, "handle_error")
    def _failed(failure: ExceptionContext) -> None:
        span = getattr(failure.execution_context, "_omni_span", None)
        if span is not None:
            span.record_exception(failure.original_exception)
            span.set_status(trace.StatusCode.ERROR)
            span.end()


@contextmanager
def statement(system: str, sql: str) -> Iterator[None]:
    """A span for a statement sent to the driver directly (the fast paths of
    omni.platform.driver); nothing while tracing is off."""
    span = _statement_span(system, sql)
    if span is None:
        yield
        return
    with trace.use_span(
        span, end_on_exit=True, record_exception=True, set_status_on_exception=True
    ):
        yield


def _statement_span(system: str, sql: str) -> trace.Span | None:
    """A statement's span, inside the work it serves; none for a statement outside any
    (a health check, an outbox poll): those would each be a trace of their own."""
    tracer = _TRACER.get()
    if tracer is None or not trace.get_current_span().get_span_context().is_valid:
        return None
    operation = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    return tracer.start_span(
        f"{operation} {system}",
        kind=trace.SpanKind.CLIENT,
        attributes={
            "db.system": system,
            "db.operation.name": operation,
            "db.query.text": sql[:2000],  # the statement, never its parameters
        },
    )


def tag_request(request_id: str) -> None:
    """Marks the current span (if any) with the request it serves."""
    trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def traceparent() -> str:
    """The current span as a W3C `traceparent` ("" while tracing is off or outside a span)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return ""  # the common case, and the cheap one
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT_HEADER, "")


@contextmanager
def consuming(subject: str, request_id: str, parent: str | None = None) -> Iterator[None]:
    """A span for handling one message (a no-op while tracing is off), continuing the trace of
    the work that sent it when `parent` is its `traceparent` (a malformed one is ignored)."""
    context = _propagator.extract({TRACEPARENT_HEADER: parent}) if parent else None
    with (_TRACER.get() or _NO_TRACER).start_as_current_span(
        f"{subject} process",
        context=context,
        kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.system": "nats", "messaging.destination.name": subject},
    ):
        tag_request(request_id)
        yield
