"""Tracing, switched on by OMNI_OTLP_ENDPOINT: spans reach a real OTLP receiver, tagged with
the request id, and one order is one trace across services and NATS; with no endpoint, no span
is made."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from omni.orders.v1 import orders_pb2 as opb
from omni.platform import logs
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from tests.conftest import NewDatabase
from tests.helpers.checks import eventually, unique
from tests.helpers.running import running_orders, running_stock
from tests.helpers.stock import add_location, receive
from tests.integration.test_orders import NORTH, order_request


@dataclass
class Span:
    service: str
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    attributes: dict[str, Any]


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP trace receiver that keeps what it is sent: {span name: [spans]}."""

    def __init__(self) -> None:
        self.spans: dict[str, list[Span]] = defaultdict(list)

    async def Export(  # noqa: N802 (the OTLP method's name)
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource in request.resource_spans:
            names = [a.value.string_value for a in resource.resource.attributes]
            service = next((n for n in names if n.startswith("omni-")), "")
            for scope in resource.scope_spans:
                for span in scope.spans:
                    values = {a.key: a.value.string_value for a in span.attributes}
                    self.spans[span.name].append(
                        Span(service, span.trace_id, span.span_id, span.parent_span_id, values)
                    )
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
        database, nats_server, otlp_endpoint=f"http://127.0.0.1:{port}"
    ) as stock:
        await stock.stub.ListLocations(
            pb.ListLocationsRequest(), metadata=((logs.METADATA_KEY, "trace-me-1"),)
        )
    # Stopping the service flushes its spans.
    [span] = received.spans["/omni.stock.v1.StockService/ListLocations"]
    assert span.attributes["omni.request_id"] == "trace-me-1"
    assert span.service == "omni-stock"
    # Its database statements are spans inside the call's.
    reads = [s for s in received.spans["SELECT sqlite"] if s.parent_span_id == span.span_id]
    assert reads and all(read.trace_id == span.trace_id for read in reads)
    assert all(read.attributes["db.system"] == "sqlite" for read in reads)
    assert all(read.attributes["db.query.text"].startswith("SELECT") for read in reads)


async def test_an_order_is_one_trace_from_place_order_through_stock_and_back(
    database_url: str,
    new_database: NewDatabase,
    nats_server: EmbeddedNats,
    collector: tuple[Collector, int],
) -> None:
    received, port = collector
    endpoint = f"http://127.0.0.1:{port}"
    sku = unique("SKU")
    async with (
        running_stock(database_url, nats_server, otlp_endpoint=endpoint) as stock,
        running_orders(await new_database("orders"), nats_server, otlp_endpoint=endpoint) as orders,
    ):
        await add_location(stock.stub, "WH-N", region="north", latitude=59.3, longitude=18.1)
        await receive(stock.stub, sku, "WH-N", 10)
        reply = await orders.stub.PlaceOrder(
            order_request(unique("key"), {sku: 1}, ship=NORTH),
            metadata=((logs.METADATA_KEY, "trace-an-order"),),
            timeout=10,
        )

        async def confirmed() -> bool:
            got = await orders.stub.GetOrder(opb.GetOrderRequest(id=reply.order.id))
            return got.order.status == opb.ORDER_STATUS_CONFIRMED

        await eventually(confirmed, within=10)
    # Stopping the services flushes their spans.
    [placed] = received.spans["/omni.orders.v1.OrdersService/PlaceOrder"]
    [allocated] = [
        s
        for s in received.spans["stock.commands.allocate process"]
        if s.attributes["omni.request_id"] == "trace-an-order"
    ]
    [answered] = [
        s
        for s in received.spans["stock.events.reserved process"]
        if s.attributes["omni.request_id"] == "trace-an-order"
    ]
    # Stock took up the command inside the order's trace, and orders took up stock's answer.
    assert (allocated.service, answered.service) == ("omni-stock", "omni-orders")
    assert allocated.trace_id == answered.trace_id == placed.trace_id
    assert allocated.parent_span_id == placed.span_id
    assert answered.parent_span_id == allocated.span_id
    # Stock's statements for the command are spans in the same trace (inside the batch the
    # command joined), on either database and whichever way they reach it (SQLAlchemy, or
    # asyncpg directly on PostgreSQL's fast paths).
    inside = {allocated.span_id} | {
        s.span_id for s in received.spans["batch"] if s.parent_span_id == allocated.span_id
    }
    statements = [
        s
        for spans in received.spans.values()
        for s in spans
        if "db.system" in s.attributes and s.parent_span_id in inside
    ]
    assert statements and {s.service for s in statements} == {"omni-stock"}
    assert all(s.trace_id == placed.trace_id for s in statements)


async def test_no_endpoint_means_no_tracer(tmp_path: Path, nats_server: EmbeddedNats) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    async with running_stock(database, nats_server) as stock:
        await stock.stub.ListLocations(pb.ListLocationsRequest())
        assert stock.app.tracer is None
