"""Where a piece of work comes from, carried with every event and command it causes: the
request it serves (omni.platform.logs) and, while tracing is on, the span it runs in (a W3C
`traceparent`, omni.platform.tracing). Both are kept with each outbox row, sent as NATS
headers and taken up by whoever handles the message, so one order's log lines share a request
id and its spans share one trace, across every service it passes through."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from omni.platform import logs, tracing


@dataclass(frozen=True, slots=True)
class Origin:
    request_id: str = ""
    traceparent: str = ""


def current() -> Origin:
    """The origin of the work running now."""
    return Origin(logs.REQUEST_ID.get(), tracing.traceparent())


# The origins of the items of the batch being run (omni.platform.batcher), in order: a batch
# serves many requests at once, and each event it raises is owed to one of them.
BATCH: ContextVar[Sequence[Origin]] = ContextVar("omni_batch_origins", default=())


def of_batch_item(index: int) -> Origin:
    """The origin of item `index` of the batch running now (empty outside a batch)."""
    items = BATCH.get()
    return items[index] if index < len(items) else Origin()
