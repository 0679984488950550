"""OpenTelemetry tracing, off unless OMNI_OTLP_ENDPOINT names a collector (OTLP over gRPC):
a span for every gRPC call and every handled NATS message, each tagged with its request id
(omni.platform.logs), so a trace and the log lines of one request find each other. The trace
crosses NATS: the `traceparent` of the work that caused an event or command is kept with its
outbox row and sent as a header (omni.platform.origin), and its handling continues that trace."""

from __future__ import annotations

from collections.abc import Iterator
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
