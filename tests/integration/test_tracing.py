"""Tracing, switched on by OMNI_OTLP_ENDPOINT: spans reach a real OTLP receiver, tagged with
the request id; with no endpoint, no span is made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from omni.platform import logs
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers import running_stock


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP trace receiver that keeps what it is sent: {span name: attributes}."""

    def __init__(self) -> None:
        self.spans: dict[str, dict[str, Any]] = {}

    async def Export(  # noqa: N802 (the OTLP method's name)
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    values = {a.key: a.value.string_value for a in span.attributes}
                    self.spans[span.name] = values
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
async def collector() -> AsyncIterator[tuple[Collector, int]]:
    server = grpc.aio.server()
    received = Collector()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(received, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield received, port
    await server.stop(None)


async def test_a_call_is_traced_with_its_request_id_when_tracing_is_on(
    tmp_path: Path, nats_server: EmbeddedNats, collector: tuple[Collector, int]
) -> None:
    received, port = collector
    database = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    async with running_stock(
        database, nats_server.url, otlp_endpoint=f"http://127.0.0.1:{port}"
    ) as stock:
        await stock.stub.ListLocations(
            pb.ListLocationsRequest(), metadata=((logs.METADATA_KEY, "trace-me-1"),)
        )
    # Stopping the service flushes its spans.
    span = received.spans["/omni.stock.v1.StockService/ListLocations"]
    assert span["omni.request_id"] == "trace-me-1"


async def test_no_endpoint_means_no_tracer(tmp_path: Path, nats_server: EmbeddedNats) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    async with running_stock(database, nats_server.url) as stock:
        await stock.stub.ListLocations(pb.ListLocationsRequest())
        assert stock.app.tracer is None
