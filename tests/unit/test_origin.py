"""Where work comes from: its request id always, its trace context while tracing is on; a
message's trace context is continued, a malformed one starts a new trace."""

from __future__ import annotations

import contextvars

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from omni.platform import logs, origin, tracing


def test_without_tracing_the_origin_is_the_request_alone() -> None:
    with logs.request_scope("req-1"):
        assert origin.current() == origin.Origin("req-1", "")


def _batch() -> None:
    first, second = origin.Origin("a", ""), origin.Origin("b", "00-x")
    origin.BATCH.set([first, second])
    assert [origin.of_batch_item(i) for i in range(3)] == [first, second, origin.Origin()]


def test_batch_items_keep_their_own_origin() -> None:
    contextvars.copy_context().run(_batch)


def _traced() -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing.use(provider)
    with logs.request_scope("req-2"), tracing.consuming("orders.commands.place", "req-2"):
        sent = tracing.traceparent()
        assert origin.current() == origin.Origin("req-2", sent)
    with tracing.consuming("stock.commands.allocate", "req-2", sent):
        pass
    with tracing.consuming("stock.commands.allocate", "req-3", "00-not-a-trace-01"):
        pass
    first, continued, fresh = spans.get_finished_spans()
    ids = f"00-{first.context.trace_id:032x}-{first.context.span_id:016x}-"
    assert sent == f"{ids}{first.context.trace_flags:02x}"
    assert continued.context.trace_id == first.context.trace_id
    assert continued.parent is not None and continued.parent.span_id == first.context.span_id
    assert fresh.parent is None and fresh.context.trace_id != first.context.trace_id


def test_a_message_continues_the_trace_that_sent_it_and_a_bad_header_starts_anew() -> None:
    contextvars.copy_context().run(_traced)  # `use` stays inside this test
