"""OpenTelemetry tracing, off unless OMNI_OTLP_ENDPOINT names a collector (OTLP over gRPC):
a span for every gRPC call and every handled NATS message, each tagged with its request id
(omni.platform.logs), so a trace and the log lines of one request find each other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

REQUEST_ID_ATTRIBUTE = "omni.request_id"
_tracer = trace.get_tracer("omni")


def start(service: str, endpoint: str) -> TracerProvider:
    """Sends this process's spans to `endpoint` (http://host:4317 plaintext, https:// TLS)."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"omni-{service}"}))
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    # The first provider of a process is the global one (tests run several services in one).
    trace.set_tracer_provider(provider)
    return provider


def server_interceptor(provider: TracerProvider) -> Any:
    """Opens a span for each gRPC call the server takes."""
    return aio_server_interceptor(tracer_provider=provider)


def tag_request(request_id: str) -> None:
    """Marks the current span (if any) with the request it serves."""
    trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


@contextmanager
def consuming(subject: str, request_id: str) -> Iterator[None]:
    """A span for handling one message (a no-op while tracing is off)."""
    with _tracer.start_as_current_span(
        f"{subject} process",
        kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.system": "nats", "messaging.destination.name": subject},
    ):
        tag_request(request_id)
        yield
