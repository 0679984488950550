"""Logs: one JSON object a line (or plain text for a terminal), each with the service and the
request it serves. The request id comes with a gRPC call (metadata `x-request-id`, else a new
one), travels with every event and command the call caused (NATS header `Omni-Request-Id`,
kept in the outbox), and is taken up again by whoever handles them: grep one id, see the
order's way through every service."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

from omni.platform.clock import random_hex

METADATA_KEY = "x-request-id"
NATS_HEADER = "Omni-Request-Id"
REQUEST_ID: ContextVar[str] = ContextVar("omni_request_id", default="")
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(given: str | None) -> str:
    """The caller's id when it is a sensible one (at most 64 plain characters), else a new one."""
    return given if given and _ACCEPTED.fullmatch(given) else random_hex()


@contextmanager
def request_scope(given: str | None) -> Iterator[str]:
    """Runs the body as part of request `given` (or a new one)."""
    token = REQUEST_ID.set(request_id_from(given))
    try:
        yield REQUEST_ID.get()
    finally:
        REQUEST_ID.reset(token)


class _Context(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self._service
        record.request_id = REQUEST_ID.get()
        return True


def configure(service: str, level: str, fmt: str) -> None:
    """Sends the process's logs to stderr, as JSON lines (`fmt` "json") or text."""
    handler = logging.StreamHandler()
    handler.addFilter(_Context(service))
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s %(service)s %(request_id)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp=True,
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(service)s %(name)s: %(message)s")
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)


def configure_from_environment(service: str) -> None:
    """`configure` from OMNI_LOG_LEVEL and OMNI_LOG_FORMAT alone (for commands, such as
    `migrate`, that read no other setting)."""
    fmt = os.environ.get("OMNI_LOG_FORMAT", "json")
    configure(service, os.environ.get("OMNI_LOG_LEVEL", "INFO"), fmt)
